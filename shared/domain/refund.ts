// docs/data-model.md#refund-state-machine and the rules for who may refund how much.
// PROCESSING → SUCCESS | CLOSED | ABNORMAL (ABNORMAL may still become SUCCESS or CLOSED after the
// merchant resolves it); PROCESSING → FAILED when WeChat rejects the request synchronously.
import { conflict, invalidArgument, notFound, permissionDenied } from './errors';
import type { ApiVersion, Decision, OrderDoc, Transition } from './order';
import { refundableFen } from './order';

export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL' | 'FAILED';
export type FinalRefundStatus = 'SUCCESS' | 'CLOSED' | 'ABNORMAL';

export interface RefundDoc {
  _id: string; // outRefundNo
  outTradeNo: string;
  openid: string;
  amountFen: number;
  reason?: string;
  status: RefundStatus;
  /** WeChat's refund_id once known. */
  refundId?: string;
  requestedBy: string;
  createdAt: Date;
  updatedAt: Date;
  successAt?: Date;
  /** True once the order reflects this refund's outcome (refunded fen moved, or reservation released). */
  appliedToOrder: boolean;
  /** WeChat's code when it refused the request (FAILED); NOT_RESERVED when it never was sent. */
  failCode?: string;
  /**
   * Recorded before its reservation, which names it on the order (`reservedRefundNos`). Absent on
   * refunds of the old flow, which reserved anonymously before recording.
   */
  namedReservation?: boolean;
  /**
   * Set by the request once its order holds the reservation, before the refund is sent: the handshake
   * that keeps reconcile from abandoning a refund a request is sending (both are conditional updates
   * of this document, so exactly one of them wins). False until then; absent on older refunds.
   */
  reservedOnOrder?: boolean;
  apiVersion: ApiVersion;
}

/** Who asks for a refund (the caller's identity is auth/caller.ts's Caller). */
export interface RefundRequester {
  openid: string;
  isAdmin: boolean;
}

export interface RefundRequestInput {
  order: OrderDoc | undefined;
  requester: RefundRequester;
  /** Omitted = everything that is left. */
  amountFen?: number;
  now: Date;
  windowHours: number;
}

/**
 * How much to refund, or why not. Owners may only refund the whole of their own untouched paid order
 * inside the refund window; admins any amount up to the refundable rest. Another user's order is
 * NOT_FOUND, so order ids cannot be probed.
 */
export function decideRefundAmount(input: RefundRequestInput): number {
  const { order, requester } = input;
  if (!order || (order.openid !== requester.openid && !requester.isAdmin))
    throw notFound('order not found; check orderId');
  if (order.status === 'REFUNDED') throw conflict(`order ${order._id} is already fully refunded`);
  if (order.status !== 'SUCCESS')
    throw conflict(`order ${order._id} is ${order.status}; only a paid order can be refunded`);
  const rest = refundableFen(order);
  if (requester.isAdmin) {
    const amount = input.amountFen ?? rest;
    if (rest === 0)
      throw conflict(
        `nothing is left to refund on order ${order._id} (refunds in flight: ${order.refundingFen} fen)`,
      );
    if (amount > rest) throw conflict(`amountFen ${amount} exceeds what is left to refund (${rest} fen)`);
    return amount;
  }
  if (input.amountFen !== undefined && input.amountFen !== order.amountFen) {
    throw permissionDenied(
      'only a full refund can be requested from the mini-program; omit amountFen or pass the order amount',
    );
  }
  if (order.refundedFen > 0 || order.refundingFen > 0)
    throw conflict(`a refund of order ${order._id} is already in progress or done`);
  const paidAt = order.paidAt ? new Date(order.paidAt).getTime() : NaN;
  if (!Number.isFinite(paidAt) || input.now.getTime() - paidAt > input.windowHours * 3600_000) {
    throw permissionDenied(
      `the refund window of ${input.windowHours} hours after payment has passed; contact customer service`,
    );
  }
  return order.amountFen;
}

export interface NewRefundInput {
  outRefundNo: string;
  order: OrderDoc;
  amountFen: number;
  reason?: string;
  requestedBy: string;
  now: Date;
}

export function newRefund(input: NewRefundInput): RefundDoc {
  if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0)
    throw invalidArgument('amountFen must be a positive integer');
  const doc: RefundDoc = {
    _id: input.outRefundNo,
    outTradeNo: input.order._id,
    openid: input.order.openid,
    amountFen: input.amountFen,
    status: 'PROCESSING',
    requestedBy: input.requestedBy,
    createdAt: input.now,
    updatedAt: input.now,
    appliedToOrder: false,
    namedReservation: true,
    reservedOnOrder: false,
    apiVersion: input.order.apiVersion,
  };
  if (input.reason) doc.reason = input.reason;
  return doc;
}

function guarded(refund: RefundDoc, set: Partial<RefundDoc>, now: Date): Transition<RefundDoc> {
  return { where: { _id: refund._id, status: refund.status }, set: { ...set, updatedAt: now } };
}

export interface RefundFacts {
  status: FinalRefundStatus | 'PROCESSING';
  refundId?: string;
  successAt?: Date;
  /** refund amount WeChat reports, in fen; checked against ours. */
  refundFen?: number;
}

/** Applies what WeChat reports (notification or query) to the refund document. */
export function finishRefund(refund: RefundDoc, facts: RefundFacts, now: Date): Decision<RefundDoc> {
  if (facts.refundFen !== undefined && facts.refundFen !== refund.amountFen)
    return { kind: 'anomaly', reason: 'amount-mismatch' };
  if (facts.status === 'PROCESSING') {
    if (refund.status !== 'PROCESSING' || !facts.refundId || refund.refundId === facts.refundId)
      return { kind: 'already' };
    return { kind: 'apply', transition: guarded(refund, { refundId: facts.refundId }, now) };
  }
  if (refund.status === facts.status) return { kind: 'already' };
  const from = refund.status;
  const allowed = from === 'PROCESSING' || (from === 'ABNORMAL' && facts.status !== 'ABNORMAL');
  if (!allowed)
    return { kind: 'anomaly', reason: `refund-${from.toLowerCase()}-to-${facts.status.toLowerCase()}` };
  const set: Partial<RefundDoc> = { status: facts.status, appliedToOrder: false };
  if (facts.refundId) set.refundId = facts.refundId;
  if (facts.status === 'SUCCESS') set.successAt = facts.successAt ?? now;
  return { kind: 'apply', transition: guarded(refund, set, now) };
}

/** PROCESSING → FAILED when WeChat refused the request outright; the reservation is to be released. */
export function failRefund(refund: RefundDoc, failCode: string, now: Date): Decision<RefundDoc> {
  if (refund.status === 'FAILED') return { kind: 'already' };
  if (refund.status !== 'PROCESSING')
    return { kind: 'anomaly', reason: `refund-${refund.status.toLowerCase()}` };
  return {
    kind: 'apply',
    transition: guarded(refund, { status: 'FAILED', failCode, appliedToOrder: false }, now),
  };
}

/**
 * PROCESSING → FAILED for a refund whose reservation never landed on its order (refused by the rules
 * after a race, or the instance died between the two writes). It was never sent to WeChat and holds
 * no fen, so there is nothing to move on the order: it is applied as it stands. Refused once its
 * request confirmed the reservation (`confirmReserved`): that refund may be at WeChat already.
 */
export function abandonRefund(refund: RefundDoc, now: Date): Decision<RefundDoc> {
  if (refund.status === 'FAILED' && refund.failCode === NOT_RESERVED) return { kind: 'already' };
  if (refund.status !== 'PROCESSING')
    return { kind: 'anomaly', reason: `refund-${refund.status.toLowerCase()}` };
  if (refund.reservedOnOrder === true) return { kind: 'anomaly', reason: 'refund-reserved' };
  const transition = guarded(refund, { status: 'FAILED', failCode: NOT_RESERVED, appliedToOrder: true }, now);
  // Matches only while the request has not confirmed its reservation in the meantime.
  if (refund.reservedOnOrder === false) transition.where.reservedOnOrder = false;
  return { kind: 'apply', transition };
}

/**
 * The request's side of the handshake with abandonRefund: its order holds the reservation, so the
 * refund may be sent. An abandoned refund (reconcile got there first) is an anomaly: release, resend never.
 */
export function confirmReserved(refund: RefundDoc, now: Date): Decision<RefundDoc> {
  if (refund.reservedOnOrder === true) return { kind: 'already' };
  if (refund.status !== 'PROCESSING')
    return { kind: 'anomaly', reason: `refund-${refund.status.toLowerCase()}` };
  return { kind: 'apply', transition: guarded(refund, { reservedOnOrder: true }, now) };
}

/** failCode of a refund abandoned before its amount was reserved (never sent to WeChat). */
export const NOT_RESERVED = 'NOT_RESERVED';

/**
 * What the order must do for this refund's current status: SUCCESS moves reserved fen to refunded,
 * CLOSED/FAILED release the reservation; PROCESSING and ABNORMAL keep it (money may still move).
 */
export function orderEffect(refund: Pick<RefundDoc, 'status'>): 'SUCCESS' | 'RELEASE' | undefined {
  if (refund.status === 'SUCCESS') return 'SUCCESS';
  if (refund.status === 'CLOSED' || refund.status === 'FAILED') return 'RELEASE';
  return undefined;
}

export function markAppliedToOrder(refund: RefundDoc, now: Date): Decision<RefundDoc> {
  if (refund.appliedToOrder) return { kind: 'already' };
  return {
    kind: 'apply',
    transition: {
      where: { _id: refund._id, status: refund.status, appliedToOrder: false },
      set: { appliedToOrder: true, updatedAt: now },
    },
  };
}
