// docs/data-model.md#order-state-machine as pure functions. Each transition inspects the current
// document and answers what to do: apply a conditional update {where, set} (the caller checks that
// exactly one document matched), report that the change is already there, or report why it must not
// happen. Nothing here performs I/O, so every rule is unit-tested without a database.
import type { OrderItem } from './catalog';
import { conflict, invalidArgument } from './errors';

export type OrderStatus = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUNDED';
export type ApiVersion = 'v3' | 'v2';

export interface OrderDoc {
  _id: string; // outTradeNo
  openid: string;
  appid?: string;
  items: OrderItem[];
  amountFen: number;
  description: string;
  status: OrderStatus;
  prepayId?: string;
  prepayExpiresAt?: Date;
  idempotencyKey?: string;
  transactionId?: string;
  paidAt?: Date;
  payerTotalFen?: number;
  refundedFen: number;
  refundingFen: number;
  /** outRefundNos whose final outcome has been moved onto refundedFen/refundingFen (exactly once). */
  settledRefundNos: string[];
  /**
   * outRefundNos whose amount is held in refundingFen: every reservation names its refund document,
   * which is written first, so reconcile can always find and finish or release it. Absent on orders
   * written before reservations were named (their PROCESSING refunds are taken as reserved).
   */
  reservedRefundNos?: string[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
  closedAt?: Date;
  apiVersion: ApiVersion;
  /** When orders.get last asked WeChat about this order (its lease; see shared/db/orders.ts claimQuery). */
  lastQueriedAt?: Date;
}

/** A conditional update: apply `set` to the document matching `where`, expecting exactly one match. */
export interface Transition<T> {
  where: { _id: string } & Partial<T>;
  set: Partial<T>;
}

export type Decision<T> =
  { kind: 'apply'; transition: Transition<T> } | { kind: 'already' } | { kind: 'anomaly'; reason: string };

/**
 * How long an order can be paid. WeChat is given its end as the prepay's time_expire, so an order and
 * its prepay id expire together: a prepay never outlives its order, and an expired order cannot be
 * prepaid again (WeChat has closed the trade; a new purchase needs a new out_trade_no).
 */
export const PREPAY_LIFETIME_MS = 2 * 60 * 60 * 1000;

/** The moment an order stops being payable: its prepay's time_expire. */
export function payableUntil(order: Pick<OrderDoc, 'createdAt'>): Date {
  return new Date(new Date(order.createdAt).getTime() + PREPAY_LIFETIME_MS);
}

function guarded(order: OrderDoc, set: Partial<OrderDoc>, now: Date): Transition<OrderDoc> {
  return {
    where: { _id: order._id, status: order.status, version: order.version },
    set: { ...set, version: order.version + 1, updatedAt: now },
  };
}

export interface NewOrderInput {
  outTradeNo: string;
  openid: string;
  appid?: string;
  items: OrderItem[];
  amountFen: number;
  description: string;
  idempotencyKey?: string;
  apiVersion: ApiVersion;
  now: Date;
}

export function newOrder(input: NewOrderInput): OrderDoc {
  const doc: OrderDoc = {
    _id: input.outTradeNo,
    openid: input.openid,
    items: input.items,
    amountFen: input.amountFen,
    description: input.description,
    status: 'NOTPAY',
    refundedFen: 0,
    refundingFen: 0,
    settledRefundNos: [],
    reservedRefundNos: [],
    version: 0,
    createdAt: input.now,
    updatedAt: input.now,
    apiVersion: input.apiVersion,
  };
  if (input.appid) doc.appid = input.appid;
  if (input.idempotencyKey) doc.idempotencyKey = input.idempotencyKey;
  return doc;
}

/** The stored prepay id, if it can still be handed to wx.requestPayment. */
export function reusablePrepayId(order: OrderDoc, now: Date): string | undefined {
  if (order.status !== 'NOTPAY' || !order.prepayId) return undefined;
  return payableUntil(order).getTime() > now.getTime() ? order.prepayId : undefined;
}

export function recordPrepay(order: OrderDoc, prepayId: string, now: Date): Decision<OrderDoc> {
  if (order.status !== 'NOTPAY') return { kind: 'anomaly', reason: `order-${order.status.toLowerCase()}` };
  if (order.prepayId === prepayId) return { kind: 'already' };
  return {
    kind: 'apply',
    transition: guarded(order, { prepayId, prepayExpiresAt: payableUntil(order) }, now),
  };
}

/** What WeChat reports about a successful payment (notification or active query), amounts in fen. */
export interface PaymentFacts {
  transactionId: string;
  amountTotalFen: number;
  payerTotalFen?: number;
  payerOpenid?: string;
  paidAt: Date;
}

/**
 * NOTPAY → SUCCESS. Facts that contradict the order (amount, payer) are anomalies that never move
 * money state; a repeat of the same payment is "already".
 */
export function markPaid(order: OrderDoc, facts: PaymentFacts, now: Date): Decision<OrderDoc> {
  if (facts.amountTotalFen !== order.amountFen) return { kind: 'anomaly', reason: 'amount-mismatch' };
  if (facts.payerOpenid !== undefined && facts.payerOpenid !== order.openid)
    return { kind: 'anomaly', reason: 'payer-mismatch' };
  switch (order.status) {
    case 'NOTPAY': {
      const set: Partial<OrderDoc> = {
        status: 'SUCCESS',
        transactionId: facts.transactionId,
        paidAt: facts.paidAt,
      };
      if (facts.payerTotalFen !== undefined) set.payerTotalFen = facts.payerTotalFen;
      return { kind: 'apply', transition: guarded(order, set, now) };
    }
    case 'SUCCESS':
    case 'REFUNDED':
      return order.transactionId === facts.transactionId
        ? { kind: 'already' }
        : { kind: 'anomaly', reason: 'second-transaction' };
    case 'CLOSED':
      return { kind: 'anomaly', reason: 'paid-after-close' };
  }
}

/**
 * A payment WeChat confirms for an order we had already closed (a close raced its prepay): the order
 * stays CLOSED — nothing is delivered — but records the payment so that the money can be refunded
 * automatically against it. A second, different transaction is an anomaly.
 */
export function recordPaidAfterClose(order: OrderDoc, facts: PaymentFacts, now: Date): Decision<OrderDoc> {
  if (order.status !== 'CLOSED') return { kind: 'anomaly', reason: `order-${order.status.toLowerCase()}` };
  if (facts.amountTotalFen !== order.amountFen) return { kind: 'anomaly', reason: 'amount-mismatch' };
  if (order.transactionId !== undefined)
    return order.transactionId === facts.transactionId
      ? { kind: 'already' }
      : { kind: 'anomaly', reason: 'second-transaction' };
  const set: Partial<OrderDoc> = { transactionId: facts.transactionId, paidAt: facts.paidAt };
  if (facts.payerTotalFen !== undefined) set.payerTotalFen = facts.payerTotalFen;
  return { kind: 'apply', transition: guarded(order, set, now) };
}

/**
 * Reserves the automatic refund of a payment made after the order was closed (see
 * recordPaidAfterClose), under the refund's name like any reservation; "already" when it holds it.
 */
export function reserveAutoRefund(
  order: OrderDoc,
  refund: { outRefundNo: string; amountFen: number },
  now: Date,
): Decision<OrderDoc> {
  if (holdsReservation(order, { _id: refund.outRefundNo, namedReservation: true }))
    return { kind: 'already' };
  if (order.status !== 'CLOSED' || order.transactionId === undefined)
    return { kind: 'anomaly', reason: 'not-paid-after-close' };
  if (refund.amountFen > refundableFen(order)) return { kind: 'anomaly', reason: 'refund-exceeds-rest' };
  return {
    kind: 'apply',
    transition: guarded(
      order,
      {
        refundingFen: order.refundingFen + refund.amountFen,
        reservedRefundNos: [...(order.reservedRefundNos ?? []), refund.outRefundNo],
      },
      now,
    ),
  };
}

/** NOTPAY → CLOSED (after WeChat closed it, or when WeChat says it is closed/expired). */
export function markClosed(order: OrderDoc, now: Date): Decision<OrderDoc> {
  if (order.status === 'CLOSED') return { kind: 'already' };
  if (order.status !== 'NOTPAY') return { kind: 'anomaly', reason: `order-${order.status.toLowerCase()}` };
  return { kind: 'apply', transition: guarded(order, { status: 'CLOSED', closedAt: now }, now) };
}

/** What is left to refund: paid minus refunded minus reserved for refunds in flight. */
export function refundableFen(order: Pick<OrderDoc, 'amountFen' | 'refundedFen' | 'refundingFen'>): number {
  return Math.max(0, order.amountFen - order.refundedFen - order.refundingFen);
}

/**
 * Whether the order holds (or held, and settled) `refund`'s amount. An order written before
 * reservations were named has no list: there, a refund recorded by the old flow (which reserved before
 * it recorded) is held, and one recorded by the new flow (`namedReservation`) is not yet.
 */
export function holdsReservation(
  order: OrderDoc,
  refund: { _id: string; namedReservation?: boolean },
): boolean {
  if ((order.settledRefundNos ?? []).includes(refund._id)) return true;
  if (order.reservedRefundNos === undefined) return refund.namedReservation !== true;
  return order.reservedRefundNos.includes(refund._id);
}

/**
 * Reserves `amountFen` for the already recorded refund `outRefundNo`, under a version check so that
 * concurrent reservations can never add up to more than was paid, naming the refund so that the
 * reservation is never anonymous. Throws CONFLICT when it does not fit.
 */
export function reserveRefund(
  order: OrderDoc,
  refund: { outRefundNo: string; amountFen: number },
  now: Date,
  /**
   * On an order written before reservations were named: the refunds its refundingFen already holds,
   * named now so that they still settle once the list exists.
   */
  inherited: string[] = [],
): Transition<OrderDoc> {
  const { amountFen } = refund;
  if (!Number.isSafeInteger(amountFen) || amountFen <= 0)
    throw invalidArgument('amountFen must be a positive integer number of fen');
  if (order.status !== 'SUCCESS')
    throw conflict(`order ${order._id} is ${order.status}; only a paid order (SUCCESS) can be refunded`);
  const rest = refundableFen(order);
  if (amountFen > rest)
    throw conflict(
      `amountFen ${amountFen} exceeds what is left to refund (${rest} fen) on order ${order._id}`,
    );
  return guarded(
    order,
    {
      refundingFen: order.refundingFen + amountFen,
      reservedRefundNos: [...(order.reservedRefundNos ?? inherited), refund.outRefundNo],
    },
    now,
  );
}

/**
 * Moves a refund's final outcome onto the order exactly once: `SUCCESS` turns reserved fen into
 * refunded fen (REFUNDED when everything is refunded); `RELEASE` (rejected or closed refund) frees
 * the reservation. `settledRefundNos` makes a replay after a crash "already".
 */
export function settleRefund(
  order: OrderDoc,
  refund: { outRefundNo: string; amountFen: number },
  outcome: 'SUCCESS' | 'RELEASE',
  now: Date,
): Decision<OrderDoc> {
  const settled = order.settledRefundNos ?? [];
  if (settled.includes(refund.outRefundNo)) return { kind: 'already' };
  const reserved = order.reservedRefundNos;
  if (order.refundingFen < refund.amountFen || (reserved && !reserved.includes(refund.outRefundNo)))
    return { kind: 'anomaly', reason: 'reservation-missing' };
  const set: Partial<OrderDoc> = {
    refundingFen: order.refundingFen - refund.amountFen,
    settledRefundNos: [...settled, refund.outRefundNo],
  };
  if (reserved) set.reservedRefundNos = reserved.filter((no) => no !== refund.outRefundNo);
  if (outcome === 'SUCCESS') {
    set.refundedFen = order.refundedFen + refund.amountFen;
    // A closed order refunded automatically (paid after close) stays CLOSED: it never was sold.
    if (set.refundedFen === order.amountFen && order.status === 'SUCCESS') set.status = 'REFUNDED';
  }
  return { kind: 'apply', transition: guarded(order, set, now) };
}
