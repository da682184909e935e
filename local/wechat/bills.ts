// The daily bills as WeChat Pay writes them, rendered from the simulator's own ledger (paid orders
// and successful refunds): 交易账单 ALL and 资金账单 BASIC in the documented CSV layout — plain
// header, every data and summary field prefixed with a backtick, summary header and row at the end —
// gzip-compressed, with the SHA1 of the uncompressed text as hash_value. Independent of shared/ on
// purpose: it is the second implementation our parser is checked against.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { SimOrder, SimRefund } from './state';
import { spacedCst } from './time';

export const TRADE_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
export const TRADE_SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
export const FUND_HEADER =
  '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号';
export const FUND_SUMMARY_HEADER = '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额';

const CST_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;
/** WeChat starts generating day D's bills at 09:00 on D+1 and advises fetching after 10:00. */
export const BILL_GENERATION_STARTS_MS = 9 * 3600_000;
export const BILL_READY_MS = 10 * 3600_000;
/** The simulator's fee rate: 0.6 %, written like WeChat's "0.60%". */
const RATE_TEXT = '0.60%';

/** `YYYY-MM-DD` → the UTC instant of its 00:00 China time; undefined when not a real date. */
export function cstDayStart(date: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (new Date(ms).toISOString().slice(0, 10) !== date) return undefined;
  return ms - CST_MS;
}

export type BillAvailability = 'ready' | 'not-generated' | 'generating';

/** Whether day `dayStart`'s bill exists at `now` (both simulator time). */
export function availability(dayStart: number, now: number): BillAvailability {
  const next = dayStart + DAY_MS;
  if (now < next + BILL_GENERATION_STARTS_MS) return 'not-generated';
  if (now < next + BILL_READY_MS) return 'generating';
  return 'ready';
}

function yuan(fen: number): string {
  const abs = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Fee in units of 0.00001 yuan (WeChat writes fees with five decimals): 0.6 % of fen = fen × 6 units. */
function feeUnits(fen: number): number {
  return fen * 6;
}

function feeText(units: number): string {
  const abs = Math.abs(units);
  return `${units < 0 ? '-' : ''}${Math.floor(abs / 100000)}.${String(abs % 100000).padStart(5, '0')}`;
}

/** Commas and newlines cannot appear inside a field of WeChat's CSV; the real bills drop them too. */
function clean(text: string | undefined): string {
  return (text ?? '').replace(/[\r\n]/g, ' ').replace(/,`/g, ', ');
}

const line = (fields: Array<string | number>) => fields.map((f) => `\`${f}`).join(',');

export interface BillLedger {
  /** Paid orders whose success time falls on the day, oldest first. */
  payments: SimOrder[];
  /** Successful refunds whose success time falls on the day, oldest first. */
  refunds: Array<{ refund: SimRefund; order: SimOrder | undefined }>;
}

/** The ledger of one China-time day, from every paid order and every successful refund. */
export function ledgerOf(
  dayStart: number,
  orders: Iterable<SimOrder>,
  refunds: Iterable<SimRefund>,
  orderOf: (r: SimRefund) => SimOrder | undefined,
): BillLedger {
  const inDay = (t: number | undefined) => t !== undefined && t >= dayStart && t < dayStart + DAY_MS;
  const payments = [...orders]
    .filter((o) => o.transactionId && inDay(o.successTime))
    .sort((a, b) => a.successTime! - b.successTime!);
  const rs = [...refunds]
    .filter((r) => r.status === 'SUCCESS' && inDay(r.successTime))
    .sort((a, b) => a.successTime! - b.successTime!)
    .map((refund) => ({ refund, order: orderOf(refund) }));
  return { payments, refunds: rs };
}

/** 交易账单 ALL: payments and refunds in time order, then the summary. */
export function tradeBillCsv(ledger: BillLedger): string {
  type Row = { at: number; text: string };
  const rows: Row[] = [];
  let settlement = 0;
  let refunded = 0;
  let fees = 0;
  for (const o of ledger.payments) {
    settlement += o.total;
    fees += feeUnits(o.total);
    rows.push({
      at: o.successTime!,
      text: line([
        spacedCst(o.successTime!),
        o.appid,
        o.mchid,
        '0',
        '',
        o.transactionId!,
        o.outTradeNo,
        o.openid,
        'JSAPI',
        'SUCCESS',
        o.bankType ?? 'OTHERS',
        o.currency || 'CNY',
        yuan(o.total),
        '0.00',
        '0',
        '0',
        '0.00',
        '0.00',
        '',
        '',
        clean(o.description),
        clean(o.attach),
        feeText(feeUnits(o.total)),
        RATE_TEXT,
        yuan(o.total),
        '0.00',
        '',
      ]),
    });
  }
  for (const { refund: r, order: o } of ledger.refunds) {
    refunded += r.amount;
    fees -= feeUnits(r.amount);
    rows.push({
      at: r.successTime!,
      text: line([
        spacedCst(r.successTime!),
        o?.appid ?? '',
        r.mchid,
        '0',
        '',
        r.transactionId,
        r.outTradeNo,
        o?.openid ?? '',
        'JSAPI',
        'REFUND',
        o?.bankType ?? 'OTHERS',
        r.currency || 'CNY',
        '0.00',
        '0.00',
        r.refundId,
        r.outRefundNo,
        yuan(r.amount),
        '0.00',
        'ORIGINAL',
        'SUCCESS',
        clean(o?.description),
        clean(o?.attach),
        feeText(-feeUnits(r.amount)),
        RATE_TEXT,
        '0.00',
        yuan(r.amount),
        '',
      ]),
    });
  }
  rows.sort((a, b) => a.at - b.at);
  const summary = line([
    rows.length,
    yuan(settlement),
    yuan(refunded),
    '0.00',
    feeText(fees),
    yuan(settlement),
    yuan(refunded),
  ]);
  return [TRADE_HEADER, ...rows.map((r) => r.text), TRADE_SUMMARY_HEADER, summary].join('\r\n') + '\r\n';
}

/** 资金账单 BASIC: money in for payments, out for refunds, with the running balance. */
export function fundFlowBillCsv(ledger: BillLedger, mchid: string, dayStart: number): string {
  type Move = {
    at: number;
    businessNo: string;
    kind: '交易' | '退款';
    fen: number;
    voucher: string;
    remark: string;
  };
  const moves: Move[] = [
    ...ledger.payments.map((o) => ({
      at: o.successTime!,
      businessNo: o.transactionId!,
      kind: '交易' as const,
      fen: o.total,
      voucher: o.outTradeNo,
      remark: '',
    })),
    ...ledger.refunds.map(({ refund: r }) => ({
      at: r.successTime!,
      businessNo: r.refundId,
      kind: '退款' as const,
      fen: -r.amount,
      voucher: `REF${r.transactionId}`,
      remark: clean(r.reason),
    })),
  ].sort((a, b) => a.at - b.at);
  const day = spacedCst(dayStart).slice(0, 10).replace(/-/g, '');
  let balance = 0;
  let income = 0;
  let incomeFen = 0;
  let expenseFen = 0;
  const rows = moves.map((m, i) => {
    balance += m.fen;
    if (m.fen >= 0) {
      income++;
      incomeFen += m.fen;
    } else expenseFen -= m.fen;
    return line([
      spacedCst(m.at),
      m.businessNo,
      `${mchid}${day}${String(i + 1).padStart(10, '0')}`,
      m.kind,
      m.kind,
      m.fen >= 0 ? '收入' : '支出',
      yuan(Math.abs(m.fen)),
      yuan(balance),
      'system',
      m.remark,
      m.voucher,
    ]);
  });
  // The documented sample writes the counts of this summary with one decimal ("20.0").
  const summary = line([
    `${moves.length}.0`,
    `${income}.0`,
    yuan(incomeFen),
    `${moves.length - income}.0`,
    yuan(expenseFen),
  ]);
  return [FUND_HEADER, ...rows, FUND_SUMMARY_HEADER, summary].join('\r\n') + '\r\n';
}

export interface BillFile {
  gzip: Buffer;
  /** SHA1 hex of the uncompressed bill, as 申请账单 answers it. */
  sha1: string;
  text: string;
}

export function billFile(text: string): BillFile {
  const raw = Buffer.from(text, 'utf8');
  return { gzip: gzipSync(raw), sha1: createHash('sha1').update(raw).digest('hex'), text };
}

/** A copy whose content was altered in transit (one amount changed), still valid gzip: the hash must catch it. */
export function tampered(file: BillFile): Buffer {
  const i = file.text.lastIndexOf('0.0');
  const text = i >= 0 ? `${file.text.slice(0, i)}9.9${file.text.slice(i + 3)}` : `${file.text}\`tampered\r\n`;
  return gzipSync(Buffer.from(text, 'utf8'));
}
