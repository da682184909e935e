// The timer's work (docs/product.md#reconcile): bounded per run, idempotent, each item independent so that
// one failure does not stop the rest.
import type { UseCaseDeps } from './deps';
import { retryVirtualUploads } from './fulfilment';
import { confirmOrder } from './payments';
import { finishInterrupted, settleOnOrder } from './refunds';

export type ReconcileDeps = Pick<
  UseCaseDeps,
  'orders' | 'refunds' | 'gateway' | 'log' | 'fulfilment' | 'messages'
>;

export const RECONCILE_LIMITS = {
  orders: 50,
  refunds: 50,
  unapplied: 50,
  shipping: 20,
  messages: 20,
} as const;
/** Orders and refunds younger than this are left to the notification. */
export const RECONCILE_MIN_AGE_MS = 5 * 60 * 1000;

export interface ReconcileReport {
  ordersChecked: number;
  ordersPaid: number;
  ordersClosed: number;
  refundsChecked: number;
  refundsFinished: number;
  refundsSettled: number;
  /** Paid virtual orders whose shipping upload had not landed, and how many landed now. */
  shippingChecked: number;
  shippingUploaded: number;
  /** Subscription messages due again (transient failure, or an attempt that never reported). */
  messagesChecked: number;
  messagesSent: number;
  errors: number;
}

export async function reconcile(
  deps: ReconcileDeps,
  now: Date,
  minAgeMs = RECONCILE_MIN_AGE_MS,
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    ordersChecked: 0,
    ordersPaid: 0,
    ordersClosed: 0,
    refundsChecked: 0,
    refundsFinished: 0,
    refundsSettled: 0,
    shippingChecked: 0,
    shippingUploaded: 0,
    messagesChecked: 0,
    messagesSent: 0,
    errors: 0,
  };
  const cutoff = new Date(now.getTime() - minAgeMs);
  const failed = (what: string, err: unknown) => {
    report.errors++;
    deps.log.error(what, { error: err });
  };

  for (const order of await deps.orders.findStaleUnpaid(cutoff, RECONCILE_LIMITS.orders)) {
    report.ordersChecked++;
    try {
      const after = await confirmOrder(deps, order, now, { closeIfExpired: true });
      if (after.status === 'SUCCESS' || after.status === 'REFUNDED') report.ordersPaid++;
      if (after.status === 'CLOSED') report.ordersClosed++;
    } catch (err) {
      failed(`order ${order._id}`, err);
    }
  }
  for (const refund of await deps.refunds.findProcessing(cutoff, RECONCILE_LIMITS.refunds)) {
    report.refundsChecked++;
    try {
      const after = await finishInterrupted(deps, refund, now);
      if (after.status !== 'PROCESSING') report.refundsFinished++;
    } catch (err) {
      failed(`refund ${refund._id}`, err);
    }
  }
  for (const refund of await deps.refunds.findUnapplied(RECONCILE_LIMITS.unapplied)) {
    try {
      const after = await settleOnOrder(deps, refund._id, now);
      if (after?.appliedToOrder) report.refundsSettled++;
    } catch (err) {
      failed(`settling refund ${refund._id}`, err);
    }
  }
  if (deps.fulfilment) {
    // After the payments above (whose own uploads ran as they were applied): whatever is still missing.
    const shipping = await retryVirtualUploads(deps.fulfilment, now, RECONCILE_LIMITS.shipping);
    report.shippingChecked = shipping.checked;
    report.shippingUploaded = shipping.uploaded;
    report.errors += shipping.failed;
  }
  if (deps.messages) {
    // Last: the payments and refunds above sent their own messages as they were applied.
    const messages = await deps.messages.retry(now, RECONCILE_LIMITS.messages);
    report.messagesChecked = messages.checked;
    report.messagesSent = messages.sent;
    report.errors += messages.failed;
  }
  return report;
}
