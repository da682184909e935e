// Bill download against the real simulator on 127.0.0.1: the v3 two-step download (signed request,
// SHA1 of the decompressed file checked before parsing), WeChat's "no bill yet" answers by the
// simulator clock, a tampered file (nothing parsed, nothing left on disk), and v2 /pay/downloadbill.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHarness, type SimHarness } from '../../local/wechat/testing';
import { createConfig } from '../config/config';
import { createV2Client, type V2Client } from '../wxpay/v2';
import { createWxpayV3, type WxpayV3Client } from '../wxpay/v3';
import {
  parseFundFlowBill,
  parseTradeBill,
  TradeBillTotals,
  type FundFlowRow,
  type TradeBillRow,
} from './bill-parser';
import { v2BillSource, v3BillSource, type BillFetch } from './bill-source';

let h: SimHarness;
let v3: WxpayV3Client;
let v2: V2Client;
let dir: string;
const CST = 8 * 3600_000;
let date: string;

function cstDate(ms: number): string {
  return new Date(ms + CST).toISOString().slice(0, 10);
}

before(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), 'bills-'));
  const env = { ...h.env, WXPAY_BASE_URL: h.url };
  const c3 = createConfig(env).payV3();
  v3 = createWxpayV3({
    mchid: c3.mchid,
    serialNo: c3.serialNo,
    privateKey: c3.privateKey,
    apiV3Key: c3.apiV3Key,
    baseURL: c3.baseUrl,
    publicKey: c3.publicKey,
  }).client;
  const c2 = createConfig({ ...env, WXPAY_API_VERSION: 'v2' }).payV2();
  v2 = createV2Client({
    appid: c2.appid,
    mchid: c2.mchid,
    baseUrl: c2.baseUrl,
    apiV2Key: c2.apiV2Key,
    signType: c2.signType,
  });
  // "Today" at the simulator: its bill cannot exist yet.
  const now = Date.parse(((await h.sim('GET', '/sim/clock')).json as { now: string }).now);
  date = cstDate(now);
  const seeded = await h.sim('POST', '/sim/bills/seed', {
    date,
    payments: [
      { outTradeNo: 'BILLPAY1', amountFen: 1 },
      { outTradeNo: 'BILLPAY2', amountFen: 123456789, successTime: `${date}T23:59:59+08:00` },
    ],
    refunds: [{ outTradeNo: 'BILLPAY2', outRefundNo: 'BILLREF2', amountFen: 10050 }],
  });
  assert.equal(seeded.status, 200, seeded.text);
});
after(async () => {
  v3?.close();
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function advanceTo(ms: number) {
  const now = Date.parse(((await h.sim('GET', '/sim/clock')).json as { now: string }).now);
  if (ms > now) await h.sim('POST', '/sim/clock', { advanceSeconds: Math.ceil((ms - now) / 1000) });
}

async function tradeRows(f: BillFetch) {
  assert.ok(f.ok, JSON.stringify(f));
  const rows: TradeBillRow[] = [];
  const out = await parseTradeBill(f.open(), (r) => rows.push(r));
  await f.dispose();
  return { rows, summary: out.summary };
}

describe('bill download (v3)', () => {
  it('a day whose bill is not generated yet is WeChat NO_STATEMENT_EXIST, then STATEMENT_CREATING until 10:00', async () => {
    const source = v3BillSource(v3, { tmpDir: dir });
    const early = await source.fetch('trade', date);
    assert.equal(early.ok, false);
    assert.equal(!early.ok && early.code, 'NO_STATEMENT_EXIST');
    const nextDay = Date.parse(`${date}T00:00:00+08:00`) + 24 * 3600_000;
    await advanceTo(nextDay + 9.5 * 3600_000);
    const generating = await source.fetch('trade', date);
    assert.equal(!generating.ok && generating.code, 'STATEMENT_CREATING');
    assert.match(!generating.ok ? generating.message : '', /10点/);
    await advanceTo(nextDay + 10 * 3600_000 + 60_000);
    assert.deepEqual(readdirSync(dir), [], 'nothing downloaded while unavailable');
  });

  it('downloads, verifies and parses the trade bill with the seeded rows', async () => {
    const { rows, summary } = await tradeRows(await v3BillSource(v3, { tmpDir: dir }).fetch('trade', date));
    const mine = rows.filter((r) => r.outTradeNo.startsWith('BILLPAY'));
    assert.deepEqual(
      mine.map((r) => [r.outTradeNo, r.tradeState, r.orderFen, r.requestedRefundFen, r.outRefundNo]),
      [
        ['BILLPAY1', 'SUCCESS', 1, 0, '0'],
        ['BILLPAY2', 'REFUND', 0, 10050, 'BILLREF2'],
        ['BILLPAY2', 'SUCCESS', 123456789, 0, '0'],
      ],
    );
    const totals = new TradeBillTotals();
    rows.forEach((r) => totals.add(r));
    assert.deepEqual(totals.differences(summary), []);
    assert.deepEqual(readdirSync(dir), [], 'the temporary file is removed');
  });

  it('downloads the fund-flow bill: income for payments, expense for refunds', async () => {
    const f = await v3BillSource(v3, { tmpDir: dir }).fetch('fundflow', date);
    assert.ok(f.ok);
    const rows: FundFlowRow[] = [];
    const out = await parseFundFlowBill(f.open(), (r) => rows.push(r));
    await f.dispose();
    assert.equal(
      out.summary.incomeFen,
      rows.filter((r) => r.direction === '收入').reduce((s, r) => s + r.amountFen, 0),
    );
    assert.equal(out.summary.expenseFen, 10050);
    assert.ok(rows.some((r) => r.voucherNo === 'BILLPAY2' && r.amountFen === 123456789));
  });

  it('a tampered download is refused by its hash: nothing parsed, nothing left on disk', async () => {
    const r = await h.sim('POST', '/sim/faults', { target: 'billdownload', kind: 'tamper' });
    assert.equal(r.status, 200, r.text);
    const f = await v3BillSource(v3, { tmpDir: dir }).fetch('trade', date);
    assert.equal(f.ok, false);
    assert.equal(!f.ok && f.code, 'HASH_MISMATCH');
    assert.match(!f.ok ? f.message : '', /does not match the SHA1/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses to send the merchant signature to a download_url on another origin', async () => {
    await assert.rejects(
      v3.downloadBill('http://127.0.0.2:1/v3/billdownload/file?token=x'),
      /not on WXPAY_BASE_URL/,
    );
  });
});

describe('bill download (v2 /pay/downloadbill)', () => {
  it('downloads the same trade bill as gzip', async () => {
    const { rows } = await tradeRows(await v2BillSource(v2, { tmpDir: dir }).fetch('trade', date));
    assert.ok(rows.some((r) => r.outTradeNo === 'BILLPAY2' && r.orderFen === 123456789));
  });
  it('a day without a bill is WeChat FAIL "No Bill Exist"', async () => {
    const f = await v2BillSource(v2, { tmpDir: dir }).fetch('trade', '2099-01-01');
    assert.equal(!f.ok && f.code, 'NO_BILL_EXIST');
  });
});
