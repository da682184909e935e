// orders: get (confirming an unpaid order at WeChat), list (own, newest first), close (own unpaid).
import type { OrdersCloseResponse, OrdersGetResponse, OrdersListResponse } from '../../shared/contracts/api';
import { notFound } from '../../shared/domain/errors';
import { MERCHANT_NO_PATTERN } from '../../shared/domain/ids';
import type { OrderDoc } from '../../shared/domain/order';
import {
  optionalInt,
  optionalString,
  requireOneOf,
  requireString,
  type Fields,
} from '../../shared/domain/validate';
import { getOrder, listOrders } from '../../shared/db/orders';
import { listRefundsOfOrder } from '../../shared/db/refunds';
import { authedCallable, type CallerContext } from '../../shared/http/callable';
import { getGateway } from '../../shared/usecases/gateways';
import { closeOrder, confirmOrder } from '../../shared/usecases/payments';
import { confirmRefund } from '../../shared/usecases/refunds';
import { orderView, refundView } from '../../shared/usecases/views';

const ORDER_ID = {
  min: 6,
  max: 32,
  pattern: MERCHANT_NO_PATTERN,
  patternHint: 'the orderId returned by createPayment',
};
const MAX_REFUND_QUERIES = 5;

async function ownOrder(ctx: CallerContext, fields: Fields, forAction: 'read' | 'write'): Promise<OrderDoc> {
  const orderId = requireString(fields, 'orderId', ORDER_ID);
  const order = await getOrder(orderId);
  // Another user's order is indistinguishable from a missing one; admins may read any.
  const allowed = order && (order.openid === ctx.caller.openid || (forAction === 'read' && ctx.isAdmin));
  if (!order || !allowed) throw notFound('order not found; check orderId');
  return order;
}

async function get(ctx: CallerContext): Promise<OrdersGetResponse> {
  const gateway = getGateway(ctx.config);
  const order = await confirmOrder(gateway, await ownOrder(ctx, ctx.fields, 'read'), ctx.now);
  let refunds = await listRefundsOfOrder(order._id);
  const pending = refunds.filter((r) => r.status === 'PROCESSING').slice(0, MAX_REFUND_QUERIES);
  if (pending.length > 0) {
    await Promise.all(pending.map((r) => confirmRefund(gateway, r, ctx.now).catch(() => undefined)));
    refunds = await listRefundsOfOrder(order._id);
  }
  const fresh = pending.length > 0 ? ((await getOrder(order._id)) ?? order) : order;
  return { ...orderView(fresh), refunds: refunds.map(refundView) };
}

async function list(ctx: CallerContext): Promise<OrdersListResponse> {
  const pageSize = optionalInt(ctx.fields, 'pageSize', { min: 1, max: 50 }) ?? 20;
  const before = optionalString(ctx.fields, 'before', ORDER_ID);
  const page = await listOrders(ctx.caller.openid, pageSize, before);
  return page.nextBefore
    ? { orders: page.orders.map(orderView), nextBefore: page.nextBefore }
    : { orders: page.orders.map(orderView) };
}

async function close(ctx: CallerContext): Promise<OrdersCloseResponse> {
  const order = await ownOrder(ctx, ctx.fields, 'write');
  return orderView(await closeOrder(getGateway(ctx.config), order, ctx.now));
}

export const main = authedCallable<OrdersGetResponse | OrdersListResponse | OrdersCloseResponse>(
  'orders',
  async (ctx) => {
    const action = requireOneOf(ctx.fields, 'action', ['get', 'list', 'close'] as const);
    if (action === 'get') return get(ctx);
    if (action === 'list') return list(ctx);
    return close(ctx);
  },
);
