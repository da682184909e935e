// Reconciles one China-time day of the ledger against WeChat Pay's trade bill (and checks the
// fund-flow bill's own totals). Every dependency is passed in, so the same use case runs in the
// billReconcile function, in tests and in the bench. The bill is streamed; local payments and refunds
// of the day live in compact indexes (key-index.ts), so a million rows fit in bounded memory.
//
// What differs is recorded, never "fixed" — with one exception: an order still NOTPAY that the bill
// shows paid is repaired through the very transition a payment notification uses.
// Over 250 lines because each of the five discrepancy kinds has its own rule, and reruns keep earlier
// repairs; a candidate to split (index walk / record merge).
import type { OrderDoc, PaymentFacts } from '../domain/order';
import type { RefundDoc } from '../domain/refund';
import {
  BillFormatError,
  parseFundFlowBill,
  parseTradeBill,
  TradeBillTotals,
  type TradeBillRow,
} from './bill-parser';
import type { BillSource } from './bill-source';
import { KeyIndex } from './key-index';
import {
  MAX_DISCREPANCIES,
  dayBounds,
  emptyTotals,
  mergeWithPrevious,
  parseBillTime,
  statusOf,
  type Discrepancy,
  type LedgerTotals,
  type ReconciliationDoc,
} from './reconciliation';

export type LocalPayment = Pick<OrderDoc, '_id' | 'amountFen' | 'transactionId' | 'status' | 'paidAt'>;
export type LocalRefund = Pick<
  RefundDoc,
  '_id' | 'outTradeNo' | 'amountFen' | 'refundId' | 'status' | 'successAt'
>;

/** 'applied' | 'already' | 'missing' | `anomaly:<reason>` — what the notification's transition answered. */
export type RepairOutcome = string;

export interface ReconcileDayDeps {
  bills: BillSource;
  /** Orders whose paidAt (WeChat's success time) is in [from, to), page by page; may be iterated twice. */
  paymentsOfDay(from: Date, to: Date): AsyncIterable<readonly LocalPayment[]>;
  /** Refunds whose successAt is in [from, to), page by page; may be iterated twice. */
  refundsOfDay(from: Date, to: Date): AsyncIterable<readonly LocalRefund[]>;
  findOrder(outTradeNo: string): Promise<LocalPayment | undefined>;
  findRefund(outRefundNo: string): Promise<LocalRefund | undefined>;
  /** The payment notification's transition (NOTPAY → SUCCESS), applied with WeChat's facts. */
  repairPayment(outTradeNo: string, facts: PaymentFacts, now: Date): Promise<RepairOutcome>;
  reconciliations: {
    get(date: string): Promise<ReconciliationDoc | undefined>;
    put(doc: ReconciliationDoc): Promise<void>;
  };
  clock(): Date;
}

class Findings {
  list: Discrepancy[] = [];
  omitted = 0;
  add(d: Discrepancy): void {
    if (this.list.length < MAX_DISCREPANCIES) this.list.push(d);
    else this.omitted++;
  }
}

const iso = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d).toISOString());

function inDay(at: Date | string | undefined, day: { from: Date; to: Date }): boolean {
  if (at === undefined) return false;
  const t = new Date(at).getTime();
  return t >= day.from.getTime() && t < day.to.getTime();
}

function paymentView(r: TradeBillRow): Record<string, unknown> {
  return {
    transactionId: r.transactionId,
    amountFen: r.orderFen,
    state: r.tradeState,
    successTime: parseBillTime(r.tradeTime).toISOString(),
  };
}

function refundView(r: TradeBillRow): Record<string, unknown> {
  return {
    refundId: r.refundId,
    amountFen: r.requestedRefundFen,
    status: r.refundStatus,
    successTime: parseBillTime(r.tradeTime).toISOString(),
  };
}

export async function reconcileDay(deps: ReconcileDayDeps, date: string): Promise<ReconciliationDoc> {
  const day = dayBounds(date);
  if (!day)
    throw new RangeError(`date must be a real day YYYY-MM-DD, got ${JSON.stringify(date).slice(0, 40)}`);
  const previous = await deps.reconciliations.get(date);
  const runAt = deps.clock();

  // Local side first: the day's payments and refunds, indexed.
  const local = emptyTotals();
  const payments = new KeyIndex();
  const refunds = new KeyIndex();
  for await (const page of deps.paymentsOfDay(day.from, day.to))
    for (const o of page) {
      if (payments.add(o._id, o.amountFen, o.transactionId ?? '')) {
        local.payments++;
        local.paymentFen += o.amountFen;
      }
    }
  for await (const page of deps.refundsOfDay(day.from, day.to))
    for (const r of page) {
      if (r.status !== 'SUCCESS') continue;
      if (refunds.add(r._id, r.amountFen, r.refundId ?? '')) {
        local.refunds++;
        local.refundFen += r.amountFen;
      }
    }

  const unavailable = async (code: string, message: string): Promise<ReconciliationDoc> => {
    const doc: ReconciliationDoc = {
      _id: date,
      status: 'unavailable',
      runAt,
      local,
      wechat: emptyTotals(),
      discrepancies: mergeWithPrevious([], previous),
      unavailable: { code, message },
    };
    await deps.reconciliations.put(doc);
    return doc;
  };
  const trade = await deps.bills.fetch('trade', date);
  if (!trade.ok) return unavailable(trade.code, trade.message);

  const wechat: LedgerTotals = emptyTotals();
  const findings = new Findings();
  const totals = new TradeBillTotals();
  /** Bill rows with no local counterpart of the day: looked up one by one after the pass. */
  const unmatched: TradeBillRow[] = [];
  /** Rows whose id differs from ours: the local document is read for the record. */
  const idMismatch: TradeBillRow[] = [];
  let summary;
  try {
    ({ summary } = await parseTradeBill(trade.open(), (row) => {
      totals.add(row);
      const isRefund = row.tradeState === 'REFUND';
      if (isRefund) {
        wechat.refunds++;
        wechat.refundFen += row.requestedRefundFen;
      } else {
        wechat.payments++;
        wechat.paymentFen += row.orderFen;
      }
      const index = isRefund ? refunds : payments;
      const key = isRefund ? row.outRefundNo : row.outTradeNo;
      const slot = index.find(key);
      if (slot < 0) {
        if (unmatched.length < MAX_DISCREPANCIES) unmatched.push(row);
        else findings.omitted++;
        return;
      }
      compareRow(row, isRefund, index, slot, findings, idMismatch);
    }));
  } catch (err) {
    // A bill we cannot read is compared with nothing: no finding, no repair, from a partial file.
    if (!(err instanceof BillFormatError)) throw err;
    return unavailable(
      err.code,
      `${err.message}; the file matched its hash, so WeChat sent it this way: report it to WeChat Pay support`,
    );
  } finally {
    await trade.dispose();
  }

  for (const d of totals.differences(summary)) {
    findings.add({
      kind: 'amount-mismatch',
      wechat: { bill: 'trade', summaryColumn: d.column, summary: d.summary, sumOfRows: d.rows },
    });
  }

  for (const row of idMismatch) {
    if (row.tradeState === 'REFUND') {
      const r = await deps.findRefund(row.outRefundNo);
      findings.add({
        kind: 'state-mismatch',
        outTradeNo: row.outTradeNo,
        outRefundNo: row.outRefundNo,
        local: { refundId: r?.refundId },
        wechat: refundView(row),
      });
    } else {
      const o = await deps.findOrder(row.outTradeNo);
      findings.add({
        kind: 'state-mismatch',
        outTradeNo: row.outTradeNo,
        local: { transactionId: o?.transactionId },
        wechat: paymentView(row),
      });
    }
  }

  for (const row of unmatched) {
    if (row.tradeState === 'REFUND') await refundNotOfDay(deps, row, day, findings);
    else await paymentNotOfDay(deps, row, day, findings, local, payments, runAt);
  }

  // Local payments and refunds of the day the bill never mentioned (read again only if there are any).
  if (!payments.allSeen)
    for await (const page of deps.paymentsOfDay(day.from, day.to))
      for (const o of page) {
        if (!payments.seen(o._id))
          findings.add({
            kind: 'missing-in-bill',
            outTradeNo: o._id,
            local: {
              transactionId: o.transactionId,
              amountFen: o.amountFen,
              status: o.status,
              paidAt: iso(o.paidAt),
            },
          });
      }
  if (!refunds.allSeen)
    for await (const page of deps.refundsOfDay(day.from, day.to))
      for (const r of page) {
        if (r.status === 'SUCCESS' && !refunds.seen(r._id))
          findings.add({
            kind: 'missing-in-bill',
            outTradeNo: r.outTradeNo,
            outRefundNo: r._id,
            local: {
              refundId: r.refundId,
              amountFen: r.amountFen,
              status: r.status,
              successAt: iso(r.successAt),
            },
          });
      }

  await checkFundFlow(deps, date, findings);

  const discrepancies = mergeWithPrevious(findings.list, previous);
  const doc: ReconciliationDoc = {
    _id: date,
    status: statusOf(discrepancies),
    runAt,
    local,
    wechat,
    discrepancies,
    ...(findings.omitted > 0 ? { omitted: findings.omitted } : {}),
  };
  await deps.reconciliations.put(doc);
  return doc;
}

function idsOf(row: TradeBillRow, isRefund: boolean): { outTradeNo: string; outRefundNo?: string } {
  return isRefund
    ? { outTradeNo: row.outTradeNo, outRefundNo: row.outRefundNo }
    : { outTradeNo: row.outTradeNo };
}

/** A bill row against its local counterpart (same out number); findings are built only on a difference. */
function compareRow(
  row: TradeBillRow,
  isRefund: boolean,
  index: KeyIndex,
  slot: number,
  findings: Findings,
  idMismatch: TradeBillRow[],
): void {
  // Built only for a finding: a matching row (nearly every row) allocates nothing here.
  if (!index.markSeen(slot)) {
    const view = isRefund ? refundView(row) : paymentView(row);
    findings.add({
      kind: 'state-mismatch',
      ...idsOf(row, isRefund),
      wechat: { ...view, problem: 'the bill lists it twice' },
    });
    return;
  }
  const billFen = isRefund ? row.requestedRefundFen : row.orderFen;
  if (billFen !== index.amountAt(slot))
    findings.add({
      kind: 'amount-mismatch',
      ...idsOf(row, isRefund),
      local: { amountFen: index.amountAt(slot) },
      wechat: isRefund ? refundView(row) : paymentView(row),
    });
  const state = isRefund ? row.refundStatus : row.tradeState;
  if (state !== 'SUCCESS')
    findings.add({
      kind: 'state-mismatch',
      ...idsOf(row, isRefund),
      local: { status: 'SUCCESS' },
      wechat: isRefund ? refundView(row) : paymentView(row),
    });
  else if (
    !index.sameRef(slot, isRefund ? row.refundId : row.transactionId) &&
    idMismatch.length < MAX_DISCREPANCIES
  )
    idMismatch.push(row);
}

/** A bill payment with no local paid order of the day: unknown, unpaid (repaired), or paid another day. */
async function paymentNotOfDay(
  deps: ReconcileDayDeps,
  row: TradeBillRow,
  day: { from: Date; to: Date },
  findings: Findings,
  local: LedgerTotals,
  payments: KeyIndex,
  now: Date,
): Promise<void> {
  const wechat = paymentView(row);
  const order = await deps.findOrder(row.outTradeNo);
  if (!order) return findings.add({ kind: 'missing-local', outTradeNo: row.outTradeNo, wechat });
  if (order.status === 'NOTPAY' && row.tradeState === 'SUCCESS') {
    const facts: PaymentFacts = {
      transactionId: row.transactionId,
      amountTotalFen: row.orderFen,
      paidAt: parseBillTime(row.tradeTime),
      ...(row.openid ? { payerOpenid: row.openid } : {}),
    };
    const outcome = await deps.repairPayment(row.outTradeNo, facts, now);
    if (outcome === 'applied' || outcome === 'already') {
      // Now a paid order of the day, and already matched with its row.
      if (payments.add(row.outTradeNo, order.amountFen, row.transactionId)) {
        payments.markSeen(payments.find(row.outTradeNo));
        local.payments++;
        local.paymentFen += order.amountFen;
      }
      if (outcome === 'applied')
        findings.add({
          kind: 'repaired',
          outTradeNo: row.outTradeNo,
          local: { status: 'NOTPAY', now: 'SUCCESS' },
          wechat,
        });
      return;
    }
    const reason = outcome.startsWith('anomaly:') ? outcome.slice('anomaly:'.length) : outcome;
    return findings.add({
      kind: reason === 'amount-mismatch' ? 'amount-mismatch' : 'state-mismatch',
      outTradeNo: row.outTradeNo,
      local: { status: order.status, amountFen: order.amountFen, refusedRepair: reason },
      wechat,
    });
  }
  findings.add({
    kind: 'state-mismatch',
    outTradeNo: row.outTradeNo,
    local: {
      status: order.status,
      amountFen: order.amountFen,
      ...(order.paidAt && !inDay(order.paidAt, day) ? { paidAt: iso(order.paidAt) } : {}),
    },
    wechat,
  });
}

/** A bill refund with no local successful refund of the day: unknown, still pending, or another day. */
async function refundNotOfDay(
  deps: ReconcileDayDeps,
  row: TradeBillRow,
  day: { from: Date; to: Date },
  findings: Findings,
): Promise<void> {
  const wechat = refundView(row);
  const refund = await deps.findRefund(row.outRefundNo);
  const ids = { outTradeNo: row.outTradeNo, outRefundNo: row.outRefundNo };
  if (!refund) return findings.add({ kind: 'missing-local', ...ids, wechat });
  findings.add({
    kind: 'state-mismatch',
    ...ids,
    local: {
      status: refund.status,
      amountFen: refund.amountFen,
      ...(refund.successAt && !inDay(refund.successAt, day) ? { successAt: iso(refund.successAt) } : {}),
    },
    wechat,
  });
}

/** The fund-flow bill's summary must add up to its rows; it is not available in every mode (v2). */
async function checkFundFlow(deps: ReconcileDayDeps, date: string, findings: Findings): Promise<void> {
  const fund = await deps.bills.fetch('fundflow', date);
  if (!fund.ok) return;
  let count = 0;
  let incomeCount = 0;
  let incomeFen = 0;
  let expenseFen = 0;
  try {
    const { summary } = await parseFundFlowBill(fund.open(), (r) => {
      count++;
      if (r.direction === '收入') {
        incomeCount++;
        incomeFen += r.amountFen;
      } else expenseFen += r.amountFen;
    });
    const pairs: Array<[string, number, number]> = [
      ['资金流水总笔数', count, summary.count],
      ['收入笔数', incomeCount, summary.incomeCount],
      ['收入金额', incomeFen, summary.incomeFen],
      ['支出笔数', count - incomeCount, summary.expenseCount],
      ['支出金额', expenseFen, summary.expenseFen],
    ];
    for (const [column, rows, total] of pairs)
      if (rows !== total)
        findings.add({
          kind: 'amount-mismatch',
          wechat: { bill: 'fundflow', summaryColumn: column, summary: total, sumOfRows: rows },
        });
  } finally {
    await fund.dispose();
  }
}
