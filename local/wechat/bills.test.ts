// The simulator's bills on their own: seed validation (bad input changes nothing), the signed 申请账单
// answer, the download's own rules (signed request, unsigned gzip, one merchant's token), the v2
// route's signature check, and `npm run sim -- bill <date>`.
import assert from 'node:assert/strict';
import { createHash, createSign, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { runSimCli } from '../../scripts/sim';
import { FUND_HEADER, TRADE_HEADER, TRADE_SUMMARY_HEADER } from './bills';
import { httpCall, startHarness, type SimHarness } from './testing';

let h: SimHarness;
const DATE = '2026-03-01'; // long past by the simulator clock: its bills are available

before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

test('seed: malformed input is refused with the reason and changes nothing', async () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ date: '2026-02-30' }, /date must be a real date/],
    [{ date: DATE, payments: [{ amountFen: 1 }] }, /payments\[0\]\.outTradeNo is required/],
    [
      { date: DATE, payments: [{ outTradeNo: 'X1', amountFen: 1.5 }] },
      /amountFen must be a positive integer/,
    ],
    [{ date: DATE, payments: [{ outTradeNo: 'X1', amountFen: 1, successTime: 'noon' }] }, /RFC 3339/],
    [
      {
        date: DATE,
        payments: [
          { outTradeNo: 'X1', amountFen: 1 },
          { outTradeNo: 'X1', amountFen: 2 },
        ],
      },
      /repeat/,
    ],
    [
      {
        date: DATE,
        payments: [{ outTradeNo: 'X1', amountFen: 1 }],
        refunds: [{ outTradeNo: 'X1', amountFen: 1 }],
      },
      /outRefundNo is required/,
    ],
  ];
  for (const [body, expect] of bad) {
    const r = await h.sim('POST', '/sim/bills/seed', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match((r.json as { error: string }).error, expect);
  }
  const orders = await h.sim('GET', '/sim/orders');
  assert.deepEqual(orders.json, [], 'no partial seed');
});

test('seed, then the signed 申请账单 answer and the unsigned download whose SHA1 matches', async () => {
  const seeded = await h.sim('POST', '/sim/bills/seed', {
    date: DATE,
    payments: [{ outTradeNo: 'SEED1', amountFen: 1999, transactionId: '4200000000000000000000000001' }],
    refunds: [{ outTradeNo: 'SEED1', outRefundNo: 'SEEDR1', amountFen: 999 }],
  });
  assert.equal(seeded.status, 200, seeded.text);
  const p = (seeded.json as { payments: Array<{ successTime: string }> }).payments[0];
  assert.equal(p.successTime, '2026-03-01T04:00:00.000Z', 'noon of the date, China time');

  const apply = await h.v3('GET', `/v3/bill/tradebill?bill_date=${DATE}&bill_type=ALL&tar_type=GZIP`);
  assert.equal(apply.status, 200, apply.text);
  h.verify(apply.headers, apply.text);
  const loc = apply.json as { download_url: string; hash_type: string; hash_value: string };
  assert.equal(loc.hash_type, 'SHA1');
  assert.equal(new URL(loc.download_url).origin, h.url, 'download_url on the simulator itself');

  const anonymous = await httpCall('GET', loc.download_url);
  assert.equal(anonymous.status, 401, 'the download needs the merchant signature');

  const again = (await h.v3('GET', `/v3/bill/tradebill?bill_date=${DATE}&bill_type=ALL&tar_type=GZIP`))
    .json as typeof loc;
  const u2 = new URL(again.download_url);
  const raw = await rawGet(u2.pathname + u2.search);
  assert.equal(raw.headers['wechatpay-signature'], undefined, 'unsigned, as WeChat documents');
  const text = gunzipSync(raw.body).toString('utf8');
  assert.equal(createHash('sha1').update(text).digest('hex'), again.hash_value);
  const lines = text.trimEnd().split('\r\n');
  assert.equal(lines[0], TRADE_HEADER);
  assert.equal(lines[lines.length - 2], TRADE_SUMMARY_HEADER);
  assert.equal(lines[lines.length - 1], '`2,`19.99,`9.99,`0.00,`0.06000,`19.99,`9.99');
  assert.ok(lines.every((l, i) => i === 0 || i === lines.length - 2 || l.startsWith('`')));

  const other = await h.v3('GET', `/v3/bill/tradebill?bill_date=${DATE}&bill_type=SUCCESS`);
  assert.equal(other.status, 400);
});

/** The raw bytes of a signed GET (httpCall decodes text). */
async function rawGet(
  pathWithQuery: string,
): Promise<{ body: Buffer; headers: Record<string, string | string[] | undefined> }> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const signature = createSign('RSA-SHA256')
    .update(`GET\n${pathWithQuery}\n${timestamp}\n${nonce}\n\n`)
    .sign(h.data.keys.merchantPrivateKey, 'base64');
  const res = await fetch(h.url + pathWithQuery, {
    headers: {
      Authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${h.env.WXPAY_MCHID}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${h.env.WXPAY_SERIAL_NO}"`,
    },
  });
  assert.equal(res.status, 200);
  return { body: Buffer.from(await res.arrayBuffer()), headers: Object.fromEntries(res.headers) };
}

test('v2 /pay/downloadbill refuses a bad signature', async () => {
  const r = await httpCall(
    'POST',
    `${h.url}/pay/downloadbill`,
    `<xml><appid>${h.env.WX_APPID}</appid><mch_id>${h.env.WXPAY_MCHID}</mch_id><nonce_str>abc</nonce_str><bill_date>20260301</bill_date><sign>WRONG</sign></xml>`,
  );
  assert.match(r.text, /<return_code><!\[CDATA\[FAIL\]\]><\/return_code>|<return_code>FAIL<\/return_code>/);
  assert.match(r.text, /签名错误/);
});

test('CLI: npm run sim -- bill <date> [--fundflow]', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { baseUrl: h.url, log: (l: string) => out.push(l), error: (l: string) => err.push(l) };
  assert.equal(await runSimCli(['bill', DATE], io), 0, err.join('\n'));
  assert.match(out[0], /trade bill \(ALL\) of 2026-03-01: available/);
  assert.match(out.join('\n'), /`SEED1,/);
  out.length = 0;
  assert.equal(await runSimCli(['bill', DATE, '--fundflow'], io), 0);
  assert.ok(out.join('\n').includes(FUND_HEADER));
  out.length = 0;
  assert.equal(await runSimCli(['bill', '2099-12-31'], io), 0);
  assert.match(out[0], /not-generated, available from 2100-01-01T02:00:00.000Z/);
  assert.equal(await runSimCli(['bill', 'yesterday'], io), 1);
  assert.match(err.join('\n'), /YYYY-MM-DD/);
});
