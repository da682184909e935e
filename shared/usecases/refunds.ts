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
  type Caller,
  type RefundDoc,
  type RefundFacts,
} from '../domain/refund';
import { applyToOrder, getOrder } from '../db/orders';
import { applyToRefund, getRefund, insertRefund, listRefundsOfOrder } from '../db/refunds';
import { WxpayRateLimitedError, WxpayUpstreamError } from '../wxpay/errors';
import type { PayGateway } from './gateway';

export interface RefundRequest {
  orderId: string;
  amountFen?: number;
  reason?: string;
  caller: Caller;
  windowHours: number;
  now: Date;
}

function view(refund: RefundDoc): RefundResponse {
  return { refundId: refund._id, status: refund.status, amountFen: refund.amountFen };
}

/**
 * A refund this caller asked for that WeChat never acknowledged (timeout): a retry of the same
 * request resubmits it with the same outRefundNo instead of reserving a second refund.
 */
async function unacknowledged(req: RefundRequest, order: OrderDoc): Promise<RefundDoc | undefined> {
  const refunds = await listRefundsOfOrder(order._id);
  return refunds.find(
    (r) =>
      r.status === 'PROCESSING' &&
      !r.refundId &&
      r.requestedBy === req.caller.openid &&
      (req.amountFen === undefined || r.amountFen === req.amountFen),
  );
}

export async function requestRefund(gateway: PayGateway, req: RefundRequest): Promise<RefundResponse> {
  const order = await getOrder(req.orderId);
  if (!order || (order.openid !== req.caller.openid && !req.caller.isAdmin))
    throw notFound('order not found; check orderId');

  let refund = await unacknowledged(req, order);
  if (!refund) {
    const amountFen = decideRefundAmount({
      order,
      caller: req.caller,
      now: req.now,
      windowHours: req.windowHours,
      ...(req.amountFen !== undefined ? { amountFen: req.amountFen } : {}),
    });
    // The rules are checked again on the fresh document at every attempt of the conditional update.
    const reserved = await applyToOrder(order._id, (doc) => {
      const amount = decideRefundAmount({
        order: doc,
        caller: req.caller,
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
      requestedBy: req.caller.openid,
      now: req.now,
      ...(req.reason ? { reason: req.reason } : {}),
    });
    try {
      await insertRefund(refund);
    } catch (err) {
      // Without its refund record the reservation would be orphaned: give it back.
      await releaseOrphan(order._id, refund, req.now).catch(() => undefined);
      throw err;
    }
  }
  return submitRefund(gateway, refund, order.amountFen, req.now);
}

async function releaseOrphan(outTradeNo: string, refund: RefundDoc, now: Date): Promise<void> {
  await applyToOrder(outTradeNo, (doc) =>
    settleRefund(doc, { outRefundNo: refund._id, amountFen: refund.amountFen }, 'RELEASE', now),
  );
}

/**
 * Sends (or resends, same outRefundNo) a PROCESSING refund to WeChat. A refusal marks it FAILED and
 * releases the reservation; a timeout or 5xx leaves it PROCESSING for a retry, the notification,
 * orders.get or reconcile, and surfaces as a retryable error.
 */
export async function submitRefund(
  gateway: PayGateway,
  refund: RefundDoc,
  totalFen: number,
  now: Date,
): Promise<RefundResponse> {
  let facts: RefundFacts;
  try {
    facts = await gateway.refund({
      outTradeNo: refund.outTradeNo,
      outRefundNo: refund._id,
      refundFen: refund.amountFen,
      totalFen,
      ...(refund.reason ? { reason: refund.reason } : {}),
    });
  } catch (err) {
    if (err instanceof WxpayUpstreamError && !(err instanceof WxpayRateLimitedError)) {
      const failed = await applyToRefund(refund._id, (doc) => failRefund(doc, err.upstreamCode, now));
      if (failed.outcome === 'applied' || failed.outcome === 'already') await settleOnOrder(refund._id, now);
    }
    throw err;
  }
  const after = await applyRefundFacts(refund._id, facts, now);
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
  outRefundNo: string,
  facts: RefundFacts,
  now: Date,
): Promise<RefundReportResult> {
  const r = await applyToRefund(outRefundNo, (doc) => finishRefund(doc, facts, now));
  if (r.outcome === 'missing') return { outcome: 'missing' };
  if (r.outcome === 'anomaly') {
    console.error(`[refunds] report on ${outRefundNo} contradicts the record: ${r.reason}`);
    return { outcome: 'anomaly', reason: r.reason, refund: r.doc };
  }
  const wasSettled = r.doc.appliedToOrder;
  const refund = await settleOnOrder(outRefundNo, now);
  const settledNow = !wasSettled && refund?.appliedToOrder === true;
  return {
    outcome: r.outcome === 'applied' || settledNow ? 'applied' : 'already',
    ...(refund ? { refund } : {}),
  };
}

export async function applyRefundFacts(
  outRefundNo: string,
  facts: RefundFacts,
  now: Date,
): Promise<RefundDoc | undefined> {
  return (await applyRefundReport(outRefundNo, facts, now)).refund;
}

/** Moves a final refund's outcome onto its order once, then marks it applied. */
export async function settleOnOrder(outRefundNo: string, now: Date): Promise<RefundDoc | undefined> {
  const refund = await getRefund(outRefundNo);
  if (!refund) return undefined;
  const effect = orderEffect(refund);
  if (!effect || refund.appliedToOrder) return refund;
  const o = await applyToOrder(refund.outTradeNo, (doc) =>
    settleRefund(doc, { outRefundNo: refund._id, amountFen: refund.amountFen }, effect, now),
  );
  if (o.outcome === 'anomaly' || o.outcome === 'missing') {
    console.error(
      `[refunds] cannot settle ${outRefundNo} on order ${refund.outTradeNo}: ${o.outcome === 'anomaly' ? o.reason : 'order missing'}`,
    );
    return refund;
  }
  const marked = await applyToRefund(refund._id, (doc) => markAppliedToOrder(doc, now));
  return marked.outcome === 'missing' ? refund : marked.doc;
}

/** Asks WeChat about a PROCESSING refund; resubmits one WeChat never received. */
export async function confirmRefund(gateway: PayGateway, refund: RefundDoc, now: Date): Promise<RefundDoc> {
  if (refund.status !== 'PROCESSING') return refund;
  const seen = await gateway.queryRefund(refund._id, refund.outTradeNo);
  if (seen.status === 'NOT_FOUND') {
    const order = await getOrder(refund.outTradeNo);
    if (order) await submitRefund(gateway, refund, order.amountFen, now).catch(() => undefined);
  } else {
    await applyRefundFacts(refund._id, seen, now);
  }
  return (await getRefund(refund._id)) ?? refund;
}
