// The bill endpoints on their real paths — v3 申请交易账单 / 申请资金账单 (signed JSON answers with
// download_url, hash_type, hash_value), the download itself (signed request, unsigned gzip answer, as
// WeChat documents), v2 /pay/downloadbill — and the control API that seeds the ledger with
// transactions the merchant's database never saw. Bills follow the simulator clock: day D's bill
// does not exist before 09:00 on D+1 (China time) and is being generated until 10:00.
import { randomBytes } from 'node:crypto';
import {
  availability,
  billFile,
  cstDayStart,
  fundFlowBillCsv,
  ledgerOf,
  tampered,
  tradeBillCsv,
  type BillFile,
} from './bills';
import { randomAlnum, randomDigits, v2Sign, v2SignValid, type V2SignType } from './crypto';
import { V3Error, v3 } from './errors';
import type { ApiTarget } from './faults';
import { hang, parseJsonObject, sendJson, sendText, type Ctx, type Route } from './http';
import { header, sendV3, verifiedMerchant } from './routes-v3';
import type { Simulator } from './simulator';
import type { SimOrder, SimRefund } from './state';
import { parseRfc3339 } from './time';
import { buildFlatXml, parseFlatXml } from './xml';

/** download_url stays valid this long (WeChat: 5 minutes), in simulator time. */
const DOWNLOAD_URL_LIFETIME_MS = 5 * 60_000;
const NOON_MS = 12 * 3600_000;

interface Download {
  file: BillFile;
  mchid: string;
  expiresAt: number;
}

const downloads = new WeakMap<Simulator, Map<string, Download>>();

function billText(sim: Simulator, kind: 'trade' | 'fundflow', mchid: string, dayStart: number): string {
  const ledger = ledgerOf(
    dayStart,
    [...sim.state.orders.values()].filter((o) => o.mchid === mchid),
    [...sim.state.refunds.values()].filter((r) => r.mchid === mchid),
    (r) => sim.state.order(r.mchid, r.outTradeNo),
  );
  return kind === 'trade' ? tradeBillCsv(ledger) : fundFlowBillCsv(ledger, mchid, dayStart);
}

/** The day's bill, or the error WeChat answers while it does not exist yet. */
function readyBill(sim: Simulator, kind: 'trade' | 'fundflow', mchid: string, date: string): BillFile {
  const dayStart = cstDayStart(date);
  if (dayStart === undefined) throw v3.param('bill_date', '格式应为yyyy-MM-dd', date, 'query');
  switch (availability(dayStart, sim.clock.now())) {
    case 'not-generated':
      throw new V3Error(400, 'NO_STATEMENT_EXIST', '要求的账单文件不存在，账单在次日9点开始生成');
    case 'generating':
      throw new V3Error(400, 'STATEMENT_CREATING', '账单生成中，请在上午10点以后再下载');
    case 'ready':
      return billFile(billText(sim, kind, mchid, dayStart));
  }
}

function v3BillRoute(sim: Simulator, kind: 'trade' | 'fundflow'): Route {
  const target: ApiTarget = kind === 'trade' ? 'tradebill' : 'fundflowbill';
  return {
    method: 'GET',
    pattern: kind === 'trade' ? /^\/v3\/bill\/tradebill$/ : /^\/v3\/bill\/fundflowbill$/,
    handler: async (ctx) => {
      try {
        const fault = sim.faults.take(target, ['timeout', '5xx', 'rateLimit']);
        if (fault?.kind === 'timeout') return void (await hang(ctx));
        if (fault?.kind === '5xx') throw v3.system();
        if (fault?.kind === 'rateLimit') throw v3.frequency();
        const merchant = verifiedMerchant(ctx, sim);
        const q = ctx.url.searchParams;
        const date = q.get('bill_date');
        if (!date) throw v3.param('bill_date', '为必填参数', undefined, 'query');
        if (kind === 'trade' && (q.get('bill_type') ?? 'ALL') !== 'ALL')
          throw v3.param('bill_type', '模拟器只提供ALL类型账单', q.get('bill_type'), 'query');
        if (kind === 'fundflow' && (q.get('account_type') ?? 'BASIC') !== 'BASIC')
          throw v3.param('account_type', '模拟器只提供BASIC基本账户账单', q.get('account_type'), 'query');
        const tar = q.get('tar_type');
        if (tar !== null && tar !== 'GZIP') throw v3.param('tar_type', '仅支持GZIP', tar, 'query');
        const file = readyBill(sim, kind, merchant.mchid, date);
        const token = randomBytes(24).toString('base64url');
        let table = downloads.get(sim);
        if (!table) downloads.set(sim, (table = new Map<string, Download>()));
        const now = sim.clock.now();
        for (const [k, d] of table) if (d.expiresAt <= now) table.delete(k);
        table.set(token, { file, mchid: merchant.mchid, expiresAt: now + DOWNLOAD_URL_LIFETIME_MS });
        sendV3(sim, ctx, 200, {
          hash_type: 'SHA1',
          hash_value: file.sha1,
          download_url: `http://${header(ctx, 'host') ?? '127.0.0.1'}/v3/billdownload/file?token=${token}`,
        });
      } catch (err) {
        if (err instanceof V3Error) return sendV3(sim, ctx, err.status, err.body());
        console.error('[wechat-sim] bill handler failed:', err);
        sendV3(sim, ctx, 500, v3.system().body());
      }
    },
  };
}

function downloadRoute(sim: Simulator): Route {
  return {
    method: 'GET',
    pattern: /^\/v3\/billdownload\/file$/,
    handler: async (ctx) => {
      try {
        const fault = sim.faults.take('billdownload', ['timeout', '5xx', 'tamper']);
        if (fault?.kind === 'timeout') return void (await hang(ctx));
        if (fault?.kind === '5xx') throw v3.system();
        const merchant = verifiedMerchant(ctx, sim);
        const token = ctx.url.searchParams.get('token') ?? '';
        const d = downloads.get(sim)?.get(token);
        if (!d || d.mchid !== merchant.mchid || d.expiresAt <= sim.clock.now())
          throw new V3Error(400, 'INVALID_REQUEST', '账单下载地址无效或已过期，请重新申请账单');
        const bytes = fault?.kind === 'tamper' ? tampered(d.file) : d.file.gzip;
        // Unsigned, as WeChat documents for this endpoint: the merchant checks hash_value instead.
        ctx.res.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Length': bytes.length,
        });
        ctx.res.end(bytes);
      } catch (err) {
        if (err instanceof V3Error) return sendV3(sim, ctx, err.status, err.body());
        console.error('[wechat-sim] bill download failed:', err);
        sendV3(sim, ctx, 500, v3.system().body());
      }
    },
  };
}

/** v2 /pay/downloadbill: the bill itself on success (gzip with tar_type=GZIP), an XML FAIL otherwise. */
function v2DownloadRoute(sim: Simulator): Route {
  const fail = (ctx: Ctx, msg: string, extra: Record<string, string> = {}) =>
    sendText(
      ctx.res,
      200,
      buildFlatXml({ return_code: 'FAIL', return_msg: msg, ...extra }),
      'text/xml; charset=utf-8',
    );
  return {
    method: 'POST',
    pattern: /^\/pay\/downloadbill$/,
    handler: async (ctx) => {
      const fault = sim.faults.take('downloadbill', ['timeout', '5xx']);
      if (fault?.kind === 'timeout') return void (await hang(ctx));
      if (fault?.kind === '5xx') return fail(ctx, 'SYSTEMERROR');
      let f: Record<string, string>;
      try {
        f = parseFlatXml(ctx.body);
      } catch {
        return fail(ctx, 'XML格式错误');
      }
      const merchant = sim.registry.merchants.get(f.mch_id ?? '');
      if (!merchant || !merchant.apiV2Key) return fail(ctx, 'mch_id参数错误，商户号不存在');
      const signType = (f.sign_type ?? 'MD5') as V2SignType;
      if (
        (signType !== 'MD5' && signType !== 'HMAC-SHA256') ||
        !f.sign ||
        !v2SignValid(f, merchant.apiV2Key, signType)
      )
        return fail(ctx, '签名错误', { error_code: '20001' });
      if (!f.appid || !merchant.appids.has(f.appid)) return fail(ctx, 'appid和mch_id不匹配');
      const m = /^(\d{4})(\d{2})(\d{2})$/.exec(f.bill_date ?? '');
      const dayStart = m ? cstDayStart(`${m[1]}-${m[2]}-${m[3]}`) : undefined;
      if (dayStart === undefined) return fail(ctx, 'invalid bill_date', { error_code: '20001' });
      if ((f.bill_type ?? 'ALL') !== 'ALL') return fail(ctx, 'invalid bill_type', { error_code: '20001' });
      const state = availability(dayStart, sim.clock.now());
      if (state === 'not-generated') return fail(ctx, 'No Bill Exist', { error_code: '20002' });
      if (state === 'generating') return fail(ctx, 'Bill Creating', { error_code: '20003' });
      const file = billFile(billText(sim, 'trade', merchant.mchid, dayStart));
      if (f.tar_type === 'GZIP') {
        ctx.res.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Length': file.gzip.length,
        });
        return void ctx.res.end(file.gzip);
      }
      sendText(ctx.res, 200, file.text, 'text/plain; charset=utf-8');
    },
  };
}

// ---- control: POST /sim/bills/seed, GET /sim/bills/<date> ----------------------------------------

class SeedError extends Error {}

const OUT_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;

function seedString(
  o: Record<string, unknown>,
  key: string,
  where: string,
  required: boolean,
): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new SeedError(`${where}.${key} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || !OUT_NO.test(v))
    throw new SeedError(`${where}.${key} must be 1–64 letters, digits or _-|*@`);
  return v;
}

function seedFen(o: Record<string, unknown>, where: string): number {
  const v = o.amountFen;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0 || v > 10_000_000_000)
    throw new SeedError(`${where}.amountFen must be a positive integer number of fen (≤ 10000000000)`);
  return v;
}

function seedTime(o: Record<string, unknown>, where: string, dayStart: number): number {
  const v = o.successTime;
  if (v === undefined) return dayStart + NOON_MS;
  const ms = typeof v === 'string' ? parseRfc3339(v) : undefined;
  if (ms === undefined)
    throw new SeedError(`${where}.successTime must be RFC 3339, e.g. 2026-11-29T12:00:00+08:00`);
  return ms;
}

function list(b: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const v = b[key];
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 1000 || v.some((x) => !x || typeof x !== 'object' || Array.isArray(x)))
    throw new SeedError(`${key} must be an array of at most 1000 objects`);
  return v as Record<string, unknown>[];
}

/** Adds paid orders and successful refunds to the simulator's ledger, as if done outside the merchant's system. */
export function seedBills(sim: Simulator, b: Record<string, unknown>) {
  const date = b.date;
  const dayStart = typeof date === 'string' ? cstDayStart(date) : undefined;
  if (dayStart === undefined) throw new SeedError('date must be a real date YYYY-MM-DD');
  const mchid = sim.registry.apps.get(sim.defaultAppid())!.mchid;
  const payments = list(b, 'payments');
  const refunds = list(b, 'refunds');
  // Validate everything before changing anything.
  const newOrders: SimOrder[] = payments.map((p, i) => {
    const where = `payments[${i}]`;
    const outTradeNo = seedString(p, 'outTradeNo', where, true)!;
    if (sim.state.order(mchid, outTradeNo))
      throw new SeedError(`${where}: order ${outTradeNo} already exists at the simulator`);
    const transactionId = seedString(p, 'transactionId', where, false) ?? `4200${randomDigits(24)}`;
    const openid = seedString(p, 'openid', where, false) ?? `o${randomAlnum(27)}`;
    const successTime = seedTime(p, where, dayStart);
    const total = seedFen(p, where);
    return {
      apiVersion: 'v3',
      mchid,
      appid: sim.defaultAppid(),
      outTradeNo,
      description: 'seeded payment',
      notifyUrl: '',
      openid,
      total,
      currency: 'CNY',
      fingerprint: 'seeded',
      prepayId: sim.newPrepayId(),
      prepayExpiresAt: successTime,
      createdAt: successTime,
      state: 'SUCCESS',
      transactionId,
      successTime,
      payerTotal: total,
      bankType: 'OTHERS',
    };
  });
  if (new Set(newOrders.map((o) => o.outTradeNo)).size !== newOrders.length)
    throw new SeedError('payments repeat an outTradeNo');
  const newRefunds: SimRefund[] = refunds.map((r, i) => {
    const where = `refunds[${i}]`;
    const outTradeNo = seedString(r, 'outTradeNo', where, true)!;
    const outRefundNo = seedString(r, 'outRefundNo', where, true)!;
    if (sim.state.refund(mchid, outRefundNo))
      throw new SeedError(`${where}: refund ${outRefundNo} already exists at the simulator`);
    const order = sim.state.order(mchid, outTradeNo) ?? newOrders.find((o) => o.outTradeNo === outTradeNo);
    const successTime = seedTime(r, where, dayStart);
    const amount = seedFen(r, where);
    return {
      apiVersion: order?.apiVersion ?? 'v3',
      mchid,
      outRefundNo,
      refundId: seedString(r, 'refundId', where, false) ?? `50${randomDigits(27)}`,
      outTradeNo,
      transactionId: order?.transactionId ?? `4200${randomDigits(24)}`,
      amount,
      total: order?.total ?? amount,
      currency: 'CNY',
      reason: 'seeded refund',
      fingerprint: 'seeded',
      status: 'SUCCESS',
      createdAt: successTime,
      successTime,
    };
  });
  if (new Set(newRefunds.map((r) => r.outRefundNo)).size !== newRefunds.length)
    throw new SeedError('refunds repeat an outRefundNo');
  for (const o of newOrders) sim.saveOrder(o);
  for (const r of newRefunds) {
    sim.state.refunds.set(`${r.mchid}:${r.outRefundNo}`, r);
    sim.events.emit('refund', { ...r });
  }
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    date,
    payments: newOrders.map((o) => ({
      outTradeNo: o.outTradeNo,
      transactionId: o.transactionId,
      amountFen: o.total,
      openid: o.openid,
      successTime: iso(o.successTime!),
    })),
    refunds: newRefunds.map((r) => ({
      outTradeNo: r.outTradeNo,
      outRefundNo: r.outRefundNo,
      refundId: r.refundId,
      amountFen: r.amount,
      successTime: iso(r.successTime!),
    })),
  };
}

export function billRoutes(sim: Simulator): Route[] {
  return [
    v3BillRoute(sim, 'trade'),
    v3BillRoute(sim, 'fundflow'),
    downloadRoute(sim),
    v2DownloadRoute(sim),
    {
      method: 'POST',
      pattern: /^\/sim\/bills\/seed$/,
      handler: (ctx) => {
        const b = ctx.body.trim() === '' ? {} : parseJsonObject(ctx.body);
        if (!b) return sendJson(ctx.res, 400, { error: 'body must be a JSON object' });
        try {
          sendJson(ctx.res, 200, seedBills(sim, b));
        } catch (err) {
          if (err instanceof SeedError) return sendJson(ctx.res, 400, { error: err.message });
          console.error('[wechat-sim] bill seed failed:', err);
          sendJson(ctx.res, 500, { error: 'internal simulator error' });
        }
      },
    },
    {
      method: 'GET',
      pattern: /^\/sim\/bills\/(\d{4}-\d{2}-\d{2})$/,
      handler: (ctx) => {
        const date = ctx.params[0];
        const dayStart = cstDayStart(date);
        if (dayStart === undefined)
          return sendJson(ctx.res, 400, { error: 'date must be a real date YYYY-MM-DD' });
        const mchid = sim.registry.apps.get(sim.defaultAppid())!.mchid;
        sendJson(ctx.res, 200, {
          date,
          availability: availability(dayStart, sim.clock.now()),
          readyAt: new Date(dayStart + 24 * 3600_000 + 10 * 3600_000).toISOString(),
          trade: billText(sim, 'trade', mchid, dayStart),
          fundflow: billText(sim, 'fundflow', mchid, dayStart),
        });
      },
    },
  ];
}

/** Signs a v2 request body the way a merchant does (used by tests of the v2 route). */
export function signedV2Body(
  fields: Record<string, string>,
  key: string,
  signType: V2SignType = 'MD5',
): string {
  return buildFlatXml({ ...fields, sign: v2Sign(fields, key, signType) });
}
