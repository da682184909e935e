// Payment and refund notifications: verify (the gateway, over the raw body), check against our
// records, apply through the same transitions as queries, record once per notification id, and
// acknowledge so that WeChat stops or retries. A verified notification that contradicts our records
// is acknowledged as an anomaly and changes no money state. Protocol details (signatures, XML or
// JSON, how to answer) belong to the gateway.
import { isConfigError } from '../config/errors';
import { isStorageError } from '../db/errors';
import type { NotificationDoc, NotificationOutcome } from '../db/notifications';
import {
  refusalOf,
  type NotificationFacts,
  type NotificationGateway,
  type NotificationKind,
} from '../gateways/gateway';
import type { TriggerRequest, TriggerResponse } from '../http/trigger';
import type { UseCaseDeps } from './deps';
import type { EventFacts } from './messages';
import { applyPayment, outcomeOf } from './payments';
import { applyRefundReport } from './refunds';

export type NotificationDeps = Pick<
  UseCaseDeps,
  'orders' | 'refunds' | 'notifications' | 'log' | 'fulfilment' | 'messages'
> & {
  gateway: NotificationGateway;
};

/**
 * A notification that finds its change already in place (an active query or reconcile got there
 * first) is the one that confirms it: `applied`. Later notifications of the same event: `duplicate`.
 */
async function alreadyOutcome(deps: NotificationDeps, n: NotificationFacts): Promise<NotificationOutcome> {
  const ref = n.outRefundNo ? { outRefundNo: n.outRefundNo } : { outTradeNo: n.outTradeNo };
  return (await deps.notifications.hasApplied(n.eventType, ref)) ? 'duplicate' : 'applied';
}

async function apply(
  deps: NotificationDeps,
  kind: NotificationKind,
  n: NotificationFacts,
  now: Date,
): Promise<NotificationOutcome> {
  const { merchant } = deps.gateway;
  if (n.mchid !== merchant.mchid) return 'anomaly:other-merchant';
  if (n.appid !== undefined && n.appid !== merchant.appid) return 'anomaly:other-appid';
  if (kind === 'pay') {
    if (!n.payment || !n.outTradeNo) return 'rejected:payment-failed';
    const o = outcomeOf(await applyPayment(deps, n.outTradeNo, n.payment, now));
    if (o !== 'already') return o === 'missing' ? 'anomaly:unknown-order' : o;
    const first = await alreadyOutcome(deps, n);
    if (first === 'applied') await messageOfConfirmed(deps, 'paid', n.outTradeNo, {}, now);
    return first;
  }
  if (!n.refund || !n.outRefundNo) return 'rejected:no-refund';
  const stored = await deps.refunds.get(n.outRefundNo);
  if (!stored) return 'anomaly:unknown-refund';
  if (stored.outTradeNo !== n.outTradeNo) return 'anomaly:order-mismatch';
  const r = await applyRefundReport(deps, n.outRefundNo, n.refund, now);
  if (r.outcome === 'missing') return 'anomaly:unknown-refund';
  if (r.outcome === 'anomaly') return `anomaly:${r.reason ?? 'contradiction'}`;
  if (r.outcome === 'applied') return 'applied';
  const first = await alreadyOutcome(deps, n);
  const refund = r.refund;
  if (first === 'applied' && refund?.status === 'SUCCESS' && refund.appliedToOrder)
    await messageOfConfirmed(
      deps,
      'refunded',
      refund.outTradeNo,
      { refundAmountFen: refund.amountFen, refundedAt: new Date(refund.successAt ?? now) },
      now,
    );
  return first;
}

/**
 * The first notification of a change another path applied (orders.get, which sends no messages)
 * sends its subscription message; the `messages` claim keeps it to one.
 */
async function messageOfConfirmed(
  deps: NotificationDeps,
  event: 'paid' | 'refunded',
  outTradeNo: string,
  extra: EventFacts,
  now: Date,
): Promise<void> {
  if (!deps.messages) return;
  try {
    const order = await deps.orders.get(outTradeNo);
    if (order && (order.status === 'SUCCESS' || order.status === 'REFUNDED'))
      await deps.messages.send(event, order, extra, now);
  } catch (err) {
    // The change is applied and acknowledged either way; the message is not worth a redelivery.
    deps.log.error(`${event} message of ${outTradeNo} not sent`, { error: err });
  }
}

export async function handleNotification(
  deps: NotificationDeps,
  kind: NotificationKind,
  req: TriggerRequest,
  now: Date,
): Promise<TriggerResponse> {
  const { gateway, log } = deps;
  if (req.method !== 'POST')
    return gateway.acknowledge({ received: false, status: 400, message: 'notifications are POSTed' });

  let verified: NotificationFacts;
  try {
    verified = await gateway.verifyNotification(kind, req);
  } catch (err) {
    const refusal = refusalOf(err);
    if (refusal) {
      log.warn(`refused (${refusal.status})`, { error: err });
      return gateway.acknowledge({ received: false, ...refusal });
    }
    // e.g. the platform-certificate download failed: not the sender's fault, let WeChat retry.
    log.error('could not verify', { error: err });
    return gateway.acknowledge({
      received: false,
      status: 500,
      message: 'verification is temporarily unavailable; retry',
    });
  }

  try {
    const outcome = await apply(deps, kind, verified, now);
    const record: NotificationDoc = {
      _id: verified.id,
      eventType: verified.eventType,
      outcome,
      receivedAt: now,
    };
    if (verified.outTradeNo) record.outTradeNo = verified.outTradeNo;
    if (verified.outRefundNo) record.outRefundNo = verified.outRefundNo;
    await deps.notifications.record(record);
    if (outcome.startsWith('anomaly:')) log.error(`${verified.id} acknowledged as ${outcome}`);
    return gateway.acknowledge({ received: true });
  } catch (err) {
    log.error(`${verified.id} not applied, WeChat will retry`, { error: err });
    const storage = isStorageError(err) || isConfigError(err);
    return gateway.acknowledge({
      received: false,
      status: storage ? 503 : 500,
      message: 'the notification could not be stored; retry',
    });
  }
}
