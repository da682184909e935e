// Stored documents → the wire views of shared/contracts/api.ts (dates as ISO strings, no internals).
import type { FulfilmentView, OrderView, RefundView } from '../contracts/api';
import { fulfilmentOf, type FulfilledOrder } from '../domain/fulfilment';
import type { RefundDoc } from '../domain/refund';

const iso = (d: Date | string) => new Date(d).toISOString();

/** The state the buyer and the console see: no upload counters or claims. */
export function fulfilmentView(o: FulfilledOrder): FulfilmentView {
  const f = fulfilmentOf(o);
  const v: FulfilmentView = { type: f.type, status: f.status };
  if (f.shippedAt) v.shippedAt = iso(f.shippedAt);
  if (f.confirmedAt) v.confirmedAt = iso(f.confirmedAt);
  if (f.settledAt) v.settledAt = iso(f.settledAt);
  if (f.shipments)
    v.shipments = f.shipments.map(({ trackingNo, expressCompany, itemDesc }) => ({
      trackingNo,
      expressCompany,
      itemDesc,
    }));
  return v;
}

export function orderView(o: FulfilledOrder): OrderView {
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
    fulfilment: fulfilmentView(o),
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
