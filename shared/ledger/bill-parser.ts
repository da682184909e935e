// Streams a WeChat Pay bill (交易账单 ALL or 资金账单 BASIC) line by line: the exact header, the
// backtick-prefixed rows, then the summary header and the summary row. Rows are handed to a callback
// as they are read and never collected, so a bill of a million rows parses in the memory of one chunk.
// Pure apart from reading the stream it is given; every refusal is a BillFormatError naming the line.
// Over 250 lines because WeChat's exact column lists of both bills and their summary rows sit beside the
// streaming reader that checks them.
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import {
  FUND_FLOW_COLUMNS,
  FUND_FLOW_SUMMARY,
  TRADE_BILL_ALL_COLUMNS,
  TRADE_BILL_ALL_SUMMARY,
} from './bill-format';
import { parseCount, yuanToFenAt } from './yuan';

export class BillFormatError extends Error {
  override readonly name = 'BillFormatError';
  readonly code = 'BILL_FORMAT';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`bill line ${line}: ${message}`);
  }
}

/** One line of an ALL trade bill: a payment (tradeState SUCCESS/REVOKED) or a refund (REFUND). */
export interface TradeBillRow {
  line: number;
  /** `yyyy-MM-dd HH:mm:ss`, China time: payment success or refund application. */
  tradeTime: string;
  appid: string;
  mchid: string;
  transactionId: string;
  outTradeNo: string;
  openid: string;
  tradeType: string;
  tradeState: string;
  settlementFen: number;
  couponFen: number;
  /** '0' on payment rows. */
  refundId: string;
  outRefundNo: string;
  refundFen: number;
  couponRefundFen: number;
  refundType: string;
  refundStatus: string;
  orderFen: number;
  requestedRefundFen: number;
}

export interface TradeBillSummary {
  count: number;
  settlementFen: number;
  refundFen: number;
  couponRefundFen: number;
  /** Fees keep WeChat's own precision (up to five decimals); compared as text, never summed here. */
  feeText: string;
  orderFen: number;
  requestedRefundFen: number;
}

export interface FundFlowRow {
  line: number;
  bookedAt: string;
  businessNo: string;
  flowNo: string;
  businessName: string;
  businessType: string;
  /** 收入 (income) or 支出 (expense). */
  direction: '收入' | '支出';
  amountFen: number;
  balanceFen: number;
  applicant: string;
  remark: string;
  voucherNo: string;
}

export interface FundFlowSummary {
  count: number;
  incomeCount: number;
  incomeFen: number;
  expenseCount: number;
  expenseFen: number;
}

/** Longest line accepted: WeChat's longest field (备注) is 2048 characters; a runaway line is not a bill. */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Calls `onLine` for each line of `source` (UTF-8, `\n` or `\r\n`), with its 1-based number. The
 * callback is synchronous so a million lines cost no promise each.
 */
export async function forEachLine(
  source: AsyncIterable<Buffer | string>,
  onLine: (line: string, n: number) => void,
): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  const emit = (text: string) => {
    n++;
    onLine(text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text, n);
  };
  for await (const chunk of source) {
    // One native split per chunk: far cheaper than an indexOf/slice loop over the same text.
    const lines = (rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk))).split('\n');
    rest = lines.pop()!;
    for (let i = 0; i < lines.length; i++) emit(lines[i]);
    if (rest.length > MAX_LINE_CHARS)
      throw new BillFormatError(n + 1, `longer than ${MAX_LINE_CHARS} characters: this is not a WeChat bill`);
  }
  rest += decoder.end();
  if (rest !== '') emit(rest);
  return n;
}

/** Most fields any documented bill has (the REFUND trade bill: 29). */
const MAX_FIELDS = 64;

/**
 * The fields of the current backtick-prefixed data line as offsets into it: fields are cut out only
 * when read, and amounts are parsed in place, so a row costs no array and few strings. Fields are
 * separated by ",`", which keeps commas inside values (商品名称 "Tea, green") intact.
 */
export class FieldCursor {
  line = '';
  n = 0;
  private readonly from = new Int32Array(MAX_FIELDS);
  private readonly to = new Int32Array(MAX_FIELDS);

  load(line: string, n: number, expected: number): void {
    if (line.charCodeAt(0) !== 96 /* ` */)
      throw new BillFormatError(n, 'data fields must start with a backtick (`)');
    this.line = line;
    this.n = n;
    let k = 0;
    let start = 1;
    for (;;) {
      const sep = line.indexOf(',`', start);
      if (k === MAX_FIELDS) throw new BillFormatError(n, `has more than ${MAX_FIELDS} fields`);
      this.from[k] = start;
      this.to[k] = sep < 0 ? line.length : sep;
      k++;
      if (sep < 0) break;
      start = sep + 2;
    }
    if (k !== expected) throw new BillFormatError(n, `has ${k} fields where the header has ${expected}`);
  }

  get(i: number): string {
    return this.line.slice(this.from[i], this.to[i]);
  }

  fen(i: number, column: string): number {
    const v = yuanToFenAt(this.line, this.from[i], this.to[i]);
    if (v === undefined)
      throw new BillFormatError(
        this.n,
        `${column} "${this.get(i).slice(0, 32)}" is not an amount in yuan (e.g. 0.01)`,
      );
    return v;
  }

  count(i: number, column: string): number {
    const v = parseCount(this.get(i));
    if (v === undefined)
      throw new BillFormatError(this.n, `${column} "${this.get(i).slice(0, 32)}" is not a count`);
    return v;
  }
}

function checkHeader(line: string, n: number, columns: readonly string[], what: string): void {
  const got = line
    .replace(/^\uFEFF/, '')
    .replace(/（/g, '(')
    .replace(/）/g, ')')
    .split(',');
  if (got.length !== columns.length || got.some((c, i) => c.trim() !== columns[i]))
    throw new BillFormatError(
      n,
      `is not the ${what} header: expected "${columns.join(',')}"; request the bill with the documented type (ALL / BASIC)`,
    );
}

const TIME_SHAPE = '0000-00-00 00:00:00';

/** `yyyy-MM-dd HH:mm:ss` checked by char codes (a regular expression per row costs more than the row). */
function isBillTime(t: string): boolean {
  if (t.length !== 19) return false;
  for (let i = 0; i < 19; i++) {
    const c = t.charCodeAt(i);
    const want = TIME_SHAPE.charCodeAt(i);
    if (want === 48 ? c < 48 || c > 57 : c !== want) return false;
  }
  return true;
}

interface Layout<R, S> {
  what: string;
  columns: readonly string[];
  summary: readonly string[];
  row(f: FieldCursor, n: number): R;
  summaryRow(f: FieldCursor, n: number): S;
}

/** The header/rows/summary state machine shared by both bill kinds. */
async function parseBill<R, S>(
  source: AsyncIterable<Buffer | string>,
  layout: Layout<R, S>,
  onRow: (row: R) => void,
): Promise<{ rows: number; summary: S }> {
  type Phase = 'header' | 'rows' | 'summary' | 'done';
  let phase: Phase = 'header';
  let rows = 0;
  let summary: S | undefined;
  const summaryHeader = layout.summary.join(',');
  const cursor = new FieldCursor();
  const lines = await forEachLine(source, (line, n) => {
    if (line === '') return; // trailing newline(s)
    switch (phase) {
      case 'header':
        checkHeader(line, n, layout.columns, layout.what);
        phase = 'rows';
        return;
      case 'rows':
        if (line.charCodeAt(0) !== 96) {
          checkHeader(line, n, layout.summary, `${layout.what} summary`);
          phase = 'summary';
          return;
        }
        cursor.load(line, n, layout.columns.length);
        onRow(layout.row(cursor, n));
        rows++;
        return;
      case 'summary':
        cursor.load(line, n, layout.summary.length);
        summary = layout.summaryRow(cursor, n);
        phase = 'done';
        return;
      case 'done':
        throw new BillFormatError(n, 'text after the summary row: the bill is not in the documented layout');
    }
  });
  if (phase === 'header') throw new BillFormatError(1, `is empty: no ${layout.what} header`);
  if (phase === 'rows')
    throw new BillFormatError(
      lines,
      `ends without the summary header "${summaryHeader}": the bill is truncated`,
    );
  if (phase === 'summary')
    throw new BillFormatError(lines, 'ends without the summary row: the bill is truncated');
  return { rows, summary: summary! };
}

const TRADE_LAYOUT: Layout<TradeBillRow, TradeBillSummary> = {
  what: 'trade bill (ALL)',
  columns: TRADE_BILL_ALL_COLUMNS,
  summary: TRADE_BILL_ALL_SUMMARY,
  row(f, n) {
    const tradeTime = f.get(0);
    if (!isBillTime(tradeTime))
      throw new BillFormatError(n, `交易时间 "${tradeTime.slice(0, 32)}" is not yyyy-MM-dd HH:mm:ss`);
    const outTradeNo = f.get(6);
    if (outTradeNo === '') throw new BillFormatError(n, '商户订单号 is empty');
    return {
      line: n,
      tradeTime,
      appid: f.get(1),
      mchid: f.get(2),
      transactionId: f.get(5),
      outTradeNo,
      openid: f.get(7),
      tradeType: f.get(8),
      tradeState: f.get(9),
      settlementFen: f.fen(12, '应结订单金额'),
      couponFen: f.fen(13, '代金券金额'),
      refundId: f.get(14),
      outRefundNo: f.get(15),
      refundFen: f.fen(16, '退款金额'),
      couponRefundFen: f.fen(17, '充值券退款金额'),
      refundType: f.get(18),
      refundStatus: f.get(19),
      orderFen: f.fen(24, '订单金额'),
      requestedRefundFen: f.fen(25, '申请退款金额'),
    };
  },
  summaryRow(f) {
    return {
      count: f.count(0, '总交易单数'),
      settlementFen: f.fen(1, '应结订单总金额'),
      refundFen: f.fen(2, '退款总金额'),
      couponRefundFen: f.fen(3, '充值券退款总金额'),
      feeText: f.get(4),
      orderFen: f.fen(5, '订单总金额'),
      requestedRefundFen: f.fen(6, '申请退款总金额'),
    };
  },
};

const FUND_LAYOUT: Layout<FundFlowRow, FundFlowSummary> = {
  what: 'fund-flow bill (BASIC)',
  columns: FUND_FLOW_COLUMNS,
  summary: FUND_FLOW_SUMMARY,
  row(f, n) {
    const bookedAt = f.get(0);
    const direction = f.get(5);
    if (!isBillTime(bookedAt))
      throw new BillFormatError(n, `记账时间 "${bookedAt.slice(0, 32)}" is not yyyy-MM-dd HH:mm:ss`);
    if (direction !== '收入' && direction !== '支出')
      throw new BillFormatError(n, `收支类型 "${direction.slice(0, 16)}" is neither 收入 nor 支出`);
    return {
      line: n,
      bookedAt,
      businessNo: f.get(1),
      flowNo: f.get(2),
      businessName: f.get(3),
      businessType: f.get(4),
      direction,
      amountFen: f.fen(6, '收支金额(元)'),
      balanceFen: f.fen(7, '账户结余(元)'),
      applicant: f.get(8),
      remark: f.get(9),
      voucherNo: f.get(10),
    };
  },
  summaryRow(f) {
    return {
      count: f.count(0, '资金流水总笔数'),
      incomeCount: f.count(1, '收入笔数'),
      incomeFen: f.fen(2, '收入金额'),
      expenseCount: f.count(3, '支出笔数'),
      expenseFen: f.fen(4, '支出金额'),
    };
  },
};

export function parseTradeBill(
  source: AsyncIterable<Buffer | string>,
  onRow: (row: TradeBillRow) => void,
): Promise<{ rows: number; summary: TradeBillSummary }> {
  return parseBill(source, TRADE_LAYOUT, onRow);
}

export function parseFundFlowBill(
  source: AsyncIterable<Buffer | string>,
  onRow: (row: FundFlowRow) => void,
): Promise<{ rows: number; summary: FundFlowSummary }> {
  return parseBill(source, FUND_LAYOUT, onRow);
}

/** The decompressed text of a gzip stream (the bills are requested with tar_type=GZIP). */
export function gunzipped(source: Readable): Readable {
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  return source.pipe(gunzip);
}

/** What the rows add up to, to compare with the summary row WeChat wrote. */
export class TradeBillTotals {
  count = 0;
  settlementFen = 0;
  refundFen = 0;
  couponRefundFen = 0;
  orderFen = 0;
  requestedRefundFen = 0;

  add(r: TradeBillRow): void {
    this.count++;
    this.settlementFen += r.settlementFen;
    this.refundFen += r.refundFen;
    this.couponRefundFen += r.couponRefundFen;
    this.orderFen += r.orderFen;
    this.requestedRefundFen += r.requestedRefundFen;
  }

  /** Summary columns whose value differs from the sum of the rows (fees excepted: see TradeBillSummary). */
  differences(s: TradeBillSummary): Array<{ column: string; rows: number; summary: number }> {
    const pairs: Array<[string, number, number]> = [
      ['总交易单数', this.count, s.count],
      ['应结订单总金额', this.settlementFen, s.settlementFen],
      ['退款总金额', this.refundFen, s.refundFen],
      ['充值券退款总金额', this.couponRefundFen, s.couponRefundFen],
      ['订单总金额', this.orderFen, s.orderFen],
      ['申请退款总金额', this.requestedRefundFen, s.requestedRefundFen],
    ];
    return pairs.filter(([, a, b]) => a !== b).map(([column, rows, summary]) => ({ column, rows, summary }));
  }
}
