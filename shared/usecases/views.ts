// Stored documents → the wire views of shared/contracts/api.ts (dates as ISO strings, no internals).
import type { OrderView, RefundView } from '../contracts/api';
import type { OrderDoc } from '../domain/order';
import type { RefundDoc } from '../domain/refund';

const iso = (d: Date | string) => new Date(d).toISOString();

export function orderView(o: OrderDoc): OrderView {
  const v: OrderView = {
    orderId: o._id,
    status: o.status,
    amountFen: o.amountFen,
    refundedFen: o.refundedFen,
    refundingFen: o.refundingFen,
    description: o.description,
    items: o.items.map((i) => ({
      productId: i.productId,
      name: i.name,
      priceFen: i.priceFen,
      quantity: i.quantity,
    })),
    createdAt: iso(o.createdAt),
  };
  if (o.paidAt) v.paidAt = iso(o.paidAt);
  if (o.transactionId) v.transactionId = o.transactionId;
  return v;
}

export function refundView(r: RefundDoc): RefundView {
  const v: RefundView = {
    refundId: r._id,
    status: r.status,
    amountFen: r.amountFen,
    createdAt: iso(r.createdAt),
  };
  if (r.successAt) v.successAt = iso(r.successAt);
  return v;
}
