// Refund use cases: request (reserve → record → ask WeChat), apply WeChat's answer (notification,
// query, reconcile) to the refund and then, exactly once, to the order.
import type { RefundResponse } from '../contracts/api';
import { conflict, notFound } from '../domain/errors';
import { newOutRefundNo } from '../domain/ids';
import { reserveRefund, settleRefund, type OrderDoc } from '../domain/order';
import {
  decideRefundAmount,
  failRefund,
  finishRefund,
  markAppliedToOrder,
  newRefund,
  orderEffect,
  type RefundDoc,
  type RefundFacts,
  type RefundRequester,
} from '../domain/refund';
import { WxpayRateLimitedError, WxpayUpstreamError } from '../wxpay/errors';
import type { UseCaseDeps } from './deps';

export type RefundDeps = Pick<UseCaseDeps, 'orders' | 'refunds' | 'gateway' | 'log'>;
/** Applying a report WeChat already made needs no gateway. */
export type RefundRecordDeps = Pick<UseCaseDeps, 'orders' | 'refunds' | 'log'>;

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

export async function requestRefund(deps: RefundDeps, req: RefundRequest): Promise<RefundResponse> {
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
    // The rules are checked again on the fresh document at every attempt of the conditional update.
    const reserved = await orders.apply(order._id, (doc) => {
      const amount = decideRefundAmount({
        order: doc,
        requester: req.requester,
        now: req.now,
        windowHours: req.windowHours,
        amountFen,
      });
      return { kind: 'apply', transition: reserveRefund(doc, amount, req.now) };
    });
    if (reserved.outcome !== 'applied') throw conflict('the order changed while reserving the refund; retry');
    refund = newRefund({
      outRefundNo: newOutRefundNo(req.now),
      order: reserved.doc,
      amountFen,
      requestedBy: req.requester.openid,
      now: req.now,
      reason: req.reason,
    });
    try {
      await deps.refunds.insert(refund);
    } catch (err) {
      // Without its refund record the reservation would be orphaned: give it back.
      await releaseOrphan(deps, refund, req.now).catch(() => undefined);
      throw err;
    }
  }
  return submitRefund(deps, refund, order.amountFen, req.now);
}

async function releaseOrphan(deps: RefundDeps, refund: RefundDoc, now: Date): Promise<void> {
  await deps.orders.apply(refund.outTradeNo, (doc) =>
    settleRefund(doc, { outRefundNo: refund._id, amountFen: refund.amountFen }, 'RELEASE', now),
  );
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
): Promise<RefundDoc | undefined> {
  const refund = await deps.refunds.get(outRefundNo);
  if (!refund) return undefined;
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
  return marked.outcome === 'missing' ? refund : marked.doc;
}

/** Asks WeChat about a PROCESSING refund; resubmits one WeChat never received. */
export async function confirmRefund(deps: RefundDeps, refund: RefundDoc, now: Date): Promise<RefundDoc> {
  if (refund.status !== 'PROCESSING') return refund;
  const seen = await deps.gateway.queryRefund(refund._id, refund.outTradeNo);
  if (seen.status === 'NOT_FOUND') {
    const order = await deps.orders.get(refund.outTradeNo);
    if (order) await submitRefund(deps, refund, order.amountFen, now).catch(() => undefined);
  } else {
    await applyRefundReport(deps, refund._id, seen, now);
  }
  return (await deps.refunds.get(refund._id)) ?? refund;
}
