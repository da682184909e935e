// Refund use cases: request (record → reserve → confirm → ask WeChat), apply WeChat's answer
// (notification, query, reconcile) to the refund and then, exactly once, to the order.
import type { RefundResponse } from '../contracts/api';
import { conflict, isAppError, notFound } from '../domain/errors';
import { newOutRefundNo } from '../domain/ids';
import {
  holdsReservation,
  recordPaidAfterClose,
  refundableFen,
  reserveAutoRefund,
  reserveRefund,
  settleRefund,
  type Decision,
  type OrderDoc,
  type PaymentFacts,
} from '../domain/order';
import type { NotificationGateway, PayGateway } from '../gateways/gateway';
import {
  abandonRefund,
  confirmReserved,
  decideRefundAmount,
  failRefund,
  finishRefund,
  markAppliedToOrder,
  newRefund,
  orderEffect,
  NOT_RESERVED,
  type RefundDoc,
  type RefundFacts,
  type RefundRequester,
} from '../domain/refund';
import { WxpayRateLimitedError, WxpayUpstreamError } from '../wxpay/errors';
import type { UseCaseDeps } from './deps';
import { chargeRefund } from './rate-limit';

export type RefundDeps = Pick<UseCaseDeps, 'orders' | 'refunds' | 'gateway' | 'log' | 'messages'>;
/** Applying a report WeChat already made needs no gateway. */
export type RefundRecordDeps = Pick<UseCaseDeps, 'orders' | 'refunds' | 'log' | 'messages'>;

export interface RefundRequest {
  orderId: string;
  amountFen?: number | undefined;
  reason?: string | undefined;
  requester: RefundRequester;
  windowHours: number;
  now: Date;
}

function view(refund: RefundDoc): RefundResponse {
  return { refundId: refund._id, status: refund.status, amountFen: refund.amountFen };
}

/**
 * A refund this requester asked for that WeChat never acknowledged (timeout): a retry of the same
 * request resubmits it with the same outRefundNo instead of reserving a second refund.
 */
async function unacknowledged(
  deps: RefundDeps,
  req: RefundRequest,
  order: OrderDoc,
): Promise<RefundDoc | undefined> {
  const refunds = await deps.refunds.listOfOrder(order._id);
  return refunds.find(
    (r) =>
      r.status === 'PROCESSING' &&
      !r.refundId &&
      r.requestedBy === req.requester.openid &&
      (req.amountFen === undefined || r.amountFen === req.amountFen),
  );
}

export async function requestRefund(
  deps: RefundDeps & Pick<UseCaseDeps, 'rateLimits'>,
  req: RefundRequest,
): Promise<RefundResponse> {
  const { orders } = deps;
  const order = await orders.get(req.orderId);
  if (!order || (order.openid !== req.requester.openid && !req.requester.isAdmin))
    throw notFound('order not found; check orderId');

  let refund = await unacknowledged(deps, req, order);
  if (!refund) {
    const amountFen = decideRefundAmount({
      order,
      requester: req.requester,
      now: req.now,
      windowHours: req.windowHours,
      amountFen: req.amountFen,
    });
    await chargeRefund(deps, req.requester, req.now); // a refusal above costs nothing
    // The refund document comes first, so that every reservation on the order names a refund that
    // exists: a crash after this point leaves a PROCESSING refund reconcile finishes or abandons.
    refund = newRefund({
      outRefundNo: newOutRefundNo(req.now),
      order,
      amountFen,
      requestedBy: req.requester.openid,
      now: req.now,
      reason: req.reason,
    });
    await insertRefund(deps, refund);
  } else await chargeRefund(deps, req.requester, req.now); // resubmitted to WeChat
  await reserveFor(deps, refund, req);
  return submitRefund(deps, refund, order.amountFen, req.now);
}

/**
 * Runs a conditional write again when its answer was lost: the operation may have been applied, so
 * the re-read inside `apply` decides (an applied change answers "already"). A rule's refusal
 * (AppError) is final and not retried.
 */
async function ambiguousOnce<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isAppError(err)) throw err;
    return write();
  }
}

/** Inserts a refund; an insert whose answer is lost is re-read rather than taken as not written. */
async function insertRefund(deps: RefundRecordDeps, refund: RefundDoc): Promise<void> {
  try {
    await deps.refunds.insert(refund);
  } catch (err) {
    const stored = await deps.refunds.get(refund._id);
    if (!stored) throw err;
    deps.log.warn(`insert of refund ${refund._id} was applied but its answer lost; continuing`);
  }
}

/**
 * Holds the refund's amount on its order under the refund's name (already held on a retry). When the
 * rules refuse it (another refund won a race) the refund is abandoned: it was never sent to WeChat.
 */
async function reserveFor(deps: RefundDeps, refund: RefundDoc, req: RefundRequest): Promise<void> {
  const inherited = await legacyReservations(deps, refund);
  const decide = (doc: OrderDoc): Decision<OrderDoc> => {
    if (holdsReservation(doc, refund)) return { kind: 'already' };
    // The rules are checked again on the fresh document at every attempt of the conditional update.
    const amount = decideRefundAmount({
      order: doc,
      requester: req.requester,
      now: req.now,
      windowHours: req.windowHours,
      amountFen: refund.amountFen,
    });
    return {
      kind: 'apply',
      transition: reserveRefund(doc, { outRefundNo: refund._id, amountFen: amount }, req.now, inherited),
    };
  };
  let reserved;
  try {
    reserved = await ambiguousOnce(() => deps.orders.apply(refund.outTradeNo, decide));
  } catch (err) {
    if (isAppError(err))
      await ambiguousOnce(() => deps.refunds.apply(refund._id, (doc) => abandonRefund(doc, req.now)));
    throw err;
  }
  if (reserved.outcome === 'missing' || reserved.outcome === 'anomaly')
    throw conflict('the order changed while reserving the refund; retry');
  if (!(await confirmHeld(deps, refund._id, req.now)))
    throw conflict('the refund was abandoned while it was being reserved; request it again');
}

/**
 * Marks the refund as held by its order before it is sent. Reconcile abandons an unreserved refund
 * with a conditional update of the same document, so exactly one of them wins; when reconcile won,
 * the reservation is given back and the refund is never sent. False then.
 */
async function confirmHeld(deps: RefundRecordDeps, outRefundNo: string, now: Date): Promise<boolean> {
  const held = await ambiguousOnce(() => deps.refunds.apply(outRefundNo, (doc) => confirmReserved(doc, now)));
  // Only an abandoned refund gives its reservation back; one already finished stays as it is.
  const abandoned =
    held.outcome === 'missing' || (held.outcome === 'anomaly' && held.doc.failCode === NOT_RESERVED);
  if (!abandoned) return true;
  await settleOnOrder(deps, outRefundNo, now, { release: true });
  return false;
}

/**
 * The refunds an order written before reservations were named still holds fen for: those the old
 * flow recorded (it reserved before it recorded) and that are not settled yet.
 */
async function legacyReservations(deps: RefundDeps, refund: RefundDoc): Promise<string[]> {
  const order = await deps.orders.get(refund.outTradeNo);
  if (!order || order.reservedRefundNos !== undefined) return [];
  const settled = new Set(order.settledRefundNos ?? []);
  return (await deps.refunds.listOfOrder(refund.outTradeNo))
    .filter((r) => r._id !== refund._id && !settled.has(r._id) && !r.appliedToOrder)
    .filter((r) => r.namedReservation !== true && r.failCode !== NOT_RESERVED)
    .map((r) => r._id);
}

/**
 * A PROCESSING refund a crash left behind (reconcile): finished when its amount is held on the order
 * (sent, or resent with the same outRefundNo, to WeChat), abandoned when it never was.
 */
export async function finishInterrupted(deps: RefundDeps, refund: RefundDoc, now: Date): Promise<RefundDoc> {
  if (refund.status !== 'PROCESSING') return refund;
  const order = await deps.orders.get(refund.outTradeNo);
  if (refund.reservedOnOrder === true || (order && holdsReservation(order, refund)))
    return confirmRefund(deps, refund, now);
  const r = await ambiguousOnce(() => deps.refunds.apply(refund._id, (doc) => abandonRefund(doc, now)));
  if (r.outcome === 'missing') return refund;
  // Its request confirmed the reservation after the order was read here: it is sending it.
  if (r.outcome === 'anomaly' && r.reason === 'refund-reserved') return confirmRefund(deps, r.doc, now);
  if (r.outcome === 'applied')
    deps.log.warn(`refund ${refund._id} was never reserved on its order; abandoned`);
  return r.doc;
}

/**
 * Gives back what `order` holds for refunds that were abandoned (never sent; final): a reservation
 * can land after reconcile abandoned its refund when the request stalled in between, and the request
 * may die before it notices. Returns how many reservations were released.
 */
export async function releaseAbandoned(deps: RefundRecordDeps, order: OrderDoc, now: Date): Promise<number> {
  let released = 0;
  for (const outRefundNo of order.reservedRefundNos ?? []) {
    const refund = await deps.refunds.get(outRefundNo);
    if (refund?.status !== 'FAILED' || refund.failCode !== NOT_RESERVED) continue;
    const r = await deps.orders.apply(order._id, (doc) =>
      settleRefund(doc, { outRefundNo, amountFen: refund.amountFen }, 'RELEASE', now),
    );
    if (r.outcome !== 'applied') continue;
    released++;
    deps.log.warn(`released the reservation of abandoned refund ${outRefundNo} on order ${order._id}`);
  }
  return released;
}

/**
 * Sends (or resends, same outRefundNo) a PROCESSING refund to WeChat. A refusal marks it FAILED and
 * releases the reservation; a timeout or 5xx leaves it PROCESSING for a retry, the notification,
 * orders.get or reconcile, and surfaces as a retryable error.
 */
export async function submitRefund(
  deps: RefundDeps,
  refund: RefundDoc,
  totalFen: number,
  now: Date,
): Promise<RefundResponse> {
  let facts: RefundFacts;
  try {
    facts = await deps.gateway.refund({
      outTradeNo: refund.outTradeNo,
      outRefundNo: refund._id,
      refundFen: refund.amountFen,
      totalFen,
      reason: refund.reason,
    });
  } catch (err) {
    if (err instanceof WxpayUpstreamError && !(err instanceof WxpayRateLimitedError)) {
      const failed = await deps.refunds.apply(refund._id, (doc) => failRefund(doc, err.upstreamCode, now));
      if (failed.outcome === 'applied' || failed.outcome === 'already')
        await settleOnOrder(deps, refund._id, now);
    }
    throw err;
  }
  const after = (await applyRefundReport(deps, refund._id, facts, now)).refund;
  return view(after ?? refund);
}

export interface RefundReportResult {
  outcome: 'applied' | 'already' | 'anomaly' | 'missing';
  reason?: string;
  refund?: RefundDoc;
}

/**
 * Applies WeChat's report on a refund: first the refund document (PROCESSING → final), then its
 * effect on the order, then the `appliedToOrder` mark. Each step is idempotent, so a crash between
 * them is finished by the next notification, query or reconcile run.
 */
export async function applyRefundReport(
  deps: RefundRecordDeps,
  outRefundNo: string,
  facts: RefundFacts,
  now: Date,
): Promise<RefundReportResult> {
  const r = await deps.refunds.apply(outRefundNo, (doc) => finishRefund(doc, facts, now));
  if (r.outcome === 'missing') return { outcome: 'missing' };
  if (r.outcome === 'anomaly') {
    deps.log.error(`report on ${outRefundNo} contradicts the record`, { reason: r.reason });
    return { outcome: 'anomaly', reason: r.reason, refund: r.doc };
  }
  const wasSettled = r.doc.appliedToOrder;
  const refund = await settleOnOrder(deps, outRefundNo, now);
  const settledNow = !wasSettled && refund?.appliedToOrder === true;
  return { outcome: r.outcome === 'applied' || settledNow ? 'applied' : 'already', refund };
}

/** Moves a final refund's outcome onto its order once, then marks it applied. */
export async function settleOnOrder(
  deps: RefundRecordDeps,
  outRefundNo: string,
  now: Date,
  /** Give back a reservation taken for a refund already abandoned (reserveFor's race). */
  opts: { release?: boolean } = {},
): Promise<RefundDoc | undefined> {
  const refund = await deps.refunds.get(outRefundNo);
  if (!refund) return undefined;
  if (opts.release) {
    await deps.orders.apply(refund.outTradeNo, (doc) =>
      settleRefund(doc, { outRefundNo: refund._id, amountFen: refund.amountFen }, 'RELEASE', now),
    );
    return refund;
  }
  const effect = orderEffect(refund);
  if (!effect || refund.appliedToOrder) return refund;
  const o = await deps.orders.apply(refund.outTradeNo, (doc) =>
    settleRefund(doc, { outRefundNo: refund._id, amountFen: refund.amountFen }, effect, now),
  );
  if (o.outcome === 'anomaly' || o.outcome === 'missing') {
    deps.log.error(`cannot settle ${outRefundNo} on order ${refund.outTradeNo}`, {
      reason: o.outcome === 'anomaly' ? o.reason : 'order missing',
    });
    return refund;
  }
  const marked = await deps.refunds.apply(refund._id, (doc) => markAppliedToOrder(doc, now));
  if (marked.outcome === 'applied' && refund.status === 'SUCCESS')
    await deps.messages?.send(
      'refunded',
      o.doc,
      { refundAmountFen: refund.amountFen, refundedAt: refund.successAt ?? now },
      now,
    );
  return marked.outcome === 'missing' ? refund : marked.doc;
}

/** Who requests the automatic refund of a payment made after its order was closed. */
export const SYSTEM_REQUESTER = 'system';
export const PAID_AFTER_CLOSE_REASON = 'paid after the order was closed: refunded automatically';

/**
 * The outRefundNo of the automatic refund of order `outTradeNo`: derived from the order (`AR` + its
 * number, at most 32 characters, WeChat's limit) so that a replayed notification finds it.
 */
export function autoRefundNo(outTradeNo: string): string {
  return `AR${outTradeNo}`.slice(0, 32);
}

function canPay(gateway: NotificationGateway): gateway is PayGateway {
  return typeof (gateway as Partial<PayGateway>).refund === 'function';
}

/**
 * A payment WeChat confirmed for an order we had closed is never kept: the order records the payment
 * (staying CLOSED), and the whole amount is refunded through the ordinary path — the refund document
 * first, then its reservation, then WeChat, whose notification settles it. Every step is idempotent,
 * so duplicate notifications, queries and reconcile runs end on the one refund. A notification
 * endpoint that holds no merchant key records and reserves it; reconcile then sends it.
 */
export async function refundPaidAfterClose(
  deps: RefundRecordDeps & { gateway: NotificationGateway },
  outTradeNo: string,
  facts: PaymentFacts,
  now: Date,
): Promise<RefundDoc | undefined> {
  const { log } = deps;
  const paid = await deps.orders.apply(outTradeNo, (doc) => recordPaidAfterClose(doc, facts, now));
  if (paid.outcome === 'missing' || paid.outcome === 'anomaly') {
    log.error(`payment after close of ${outTradeNo} cannot be refunded automatically; refund it by hand`, {
      reason: paid.outcome === 'anomaly' ? paid.reason : 'order missing',
    });
    return undefined;
  }
  const order = paid.doc;
  const outRefundNo = autoRefundNo(outTradeNo);
  let refund = await deps.refunds.get(outRefundNo);
  if (!refund) {
    const amountFen = refundableFen(order);
    if (amountFen === 0) return undefined;
    refund = newRefund({
      outRefundNo,
      order,
      amountFen,
      requestedBy: SYSTEM_REQUESTER,
      reason: PAID_AFTER_CLOSE_REASON,
      now,
    });
    await insertRefund(deps, refund);
  }
  const stored = refund;
  if (stored.status === 'FAILED' || stored.status === 'CLOSED') {
    // Abandoned before it was reserved (a crash), refused or closed by WeChat: a final refund is never
    // reserved or sent again, and its number is taken, so a person has to return this payment.
    log.error(`automatic refund ${outRefundNo} of ${outTradeNo} ended ${stored.status}; refund it by hand`);
    return stored;
  }
  const reserved = await ambiguousOnce(() =>
    deps.orders.apply(outTradeNo, (doc) =>
      reserveAutoRefund(doc, { outRefundNo: stored._id, amountFen: stored.amountFen }, now),
    ),
  );
  if (reserved.outcome !== 'applied' && reserved.outcome !== 'already') {
    log.error(`automatic refund ${outRefundNo} of ${outTradeNo} could not be reserved; refund it by hand`, {
      reason: reserved.outcome === 'anomaly' ? reserved.reason : 'order missing',
    });
    return refund;
  }
  log.warn(`order ${outTradeNo} was paid after it was closed; refunding it automatically as ${outRefundNo}`);
  if (refund.status !== 'PROCESSING') return refund;
  if (!(await confirmHeld(deps, outRefundNo, now))) {
    log.error(`automatic refund ${outRefundNo} of ${outTradeNo} was abandoned; refund it by hand`);
    return (await deps.refunds.get(outRefundNo)) ?? refund;
  }
  if (!canPay(deps.gateway)) {
    log.warn(`refund ${outRefundNo} recorded and reserved; reconcile sends it (no merchant key here)`);
    return refund;
  }
  try {
    await submitRefund({ ...deps, gateway: deps.gateway }, refund, order.amountFen, now);
  } catch (err) {
    // Recorded and reserved: a retry of the notification, orders.get or reconcile sends it again.
    log.error(`automatic refund ${outRefundNo} not accepted yet; reconcile retries it`, { error: err });
  }
  return (await deps.refunds.get(outRefundNo)) ?? refund;
}

/** Asks WeChat about a PROCESSING refund; resubmits one WeChat never received. */
export async function confirmRefund(deps: RefundDeps, refund: RefundDoc, now: Date): Promise<RefundDoc> {
  if (refund.status !== 'PROCESSING') return refund;
  const seen = await deps.gateway.queryRefund(refund._id, refund.outTradeNo);
  if (seen.status === 'NOT_FOUND') {
    // Only a reserved refund is ever sent, and only once confirmed (the handshake with reconcile's
    // abandonment); an unreserved one is reconcile's to abandon (finishInterrupted).
    const order = await deps.orders.get(refund.outTradeNo);
    if (order && holdsReservation(order, refund) && (await confirmHeld(deps, refund._id, now)))
      await submitRefund(deps, refund, order.amountFen, now).catch(() => undefined);
  } else {
    await applyRefundReport(deps, refund._id, seen, now);
  }
  return (await deps.refunds.get(refund._id)) ?? refund;
}
