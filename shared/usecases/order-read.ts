// orders.get's use case: an order and its refunds as current as the quota allows. WeChat is asked
// (the trade while unpaid, up to five PROCESSING refunds) at most once per order every 5 s, whoever
// reads it; otherwise the stored documents, which the notifications keep current, are the answer.
import type { OrderDoc } from '../domain/order';
import type { RefundDoc } from '../domain/refund';
import type { UseCaseDeps } from './deps';
import { confirmOrder } from './payments';
import { mayQueryOrder } from './rate-limit';
import { confirmRefund, settleOnOrder } from './refunds';

export type OrderReadDeps = Pick<UseCaseDeps, 'orders' | 'refunds' | 'gateway' | 'log' | 'fulfilment'>;

/** Refund queries per read at most. */
export const MAX_REFUND_QUERIES = 5;

/** `order` is the caller's (already checked); returns it and its refunds as they stand afterwards. */
export async function readOrder(
  deps: OrderReadDeps,
  order: OrderDoc,
  now: Date,
): Promise<{ order: OrderDoc; refunds: RefundDoc[] }> {
  // One refund that cannot be brought up to date does not stop the read; reconcile finishes it.
  const logged = (what: string) => (err: unknown) => deps.log.warn(`orders.get: ${what}`, { error: err });
  let refunds = await deps.refunds.listOfOrder(order._id);
  const pending = refunds.filter((r) => r.status === 'PROCESSING').slice(0, MAX_REFUND_QUERIES);
  if ((order.status === 'NOTPAY' || pending.length > 0) && (await mayQueryOrder(deps, order._id, now))) {
    order = await confirmOrder(deps, order, now);
    if (pending.length > 0) {
      await Promise.all(
        pending.map((r) => confirmRefund(deps, r, now).catch(logged(`refund ${r._id} not confirmed`))),
      );
      refunds = await deps.refunds.listOfOrder(order._id);
    }
  }
  // A refund that ended while its order was not yet updated (the notification between its two writes,
  // or a crash there): settle it now, so the order never shows less refunded than its refunds say.
  const unsettled = refunds.filter((r) => r.status !== 'PROCESSING' && r.appliedToOrder === false);
  if (unsettled.length > 0) {
    await Promise.all(
      unsettled.map((r) => settleOnOrder(deps, r._id, now).catch(logged(`refund ${r._id} not settled`))),
    );
    refunds = await deps.refunds.listOfOrder(order._id);
  }
  // Read after the refunds, so the order shown is at least as current as the refunds shown with it.
  if (refunds.length > 0) order = (await deps.orders.get(order._id)) ?? order;
  return { order, refunds };
}
