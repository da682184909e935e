// orders: get (confirming an unpaid order at WeChat, at most once every 5 s), list (own, newest
// first), close (own unpaid).
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
import { authedCallable, type CallerContext } from '../../shared/http/callable';
import { perInstance } from '../../shared/http/per-instance';
import { payingFunctionDeps } from '../../shared/http/paying-deps';
import type { UseCaseDeps } from '../../shared/usecases/deps';
import { readOrder } from '../../shared/usecases/order-read';
import { closeOrder } from '../../shared/usecases/payments';
import { orderView, refundView } from '../../shared/usecases/views';

const ORDER_ID = {
  min: 6,
  max: 32,
  pattern: MERCHANT_NO_PATTERN,
  patternHint: 'the orderId returned by createPayment',
};

type Context = CallerContext & { deps: UseCaseDeps };

async function ownOrder(ctx: Context, fields: Fields, forAction: 'read' | 'write'): Promise<OrderDoc> {
  const orderId = requireString(fields, 'orderId', ORDER_ID);
  const order = await ctx.deps.orders.get(orderId);
  // Another user's order is indistinguishable from a missing one; admins may read any.
  const allowed = order && (order.openid === ctx.caller.openid || (forAction === 'read' && ctx.isAdmin));
  if (!order || !allowed) throw notFound('order not found; check orderId');
  return order;
}

async function get(ctx: Context): Promise<OrdersGetResponse> {
  const { order, refunds } = await readOrder(ctx.deps, await ownOrder(ctx, ctx.fields, 'read'), ctx.now);
  return { ...orderView(order), refunds: refunds.map(refundView) };
}

async function list(ctx: Context): Promise<OrdersListResponse> {
  const pageSize = optionalInt(ctx.fields, 'pageSize', { min: 1, max: 50 }) ?? 20;
  const before = optionalString(ctx.fields, 'before', ORDER_ID);
  const page = await ctx.deps.orders.list(ctx.caller.openid, pageSize, before);
  return page.nextBefore
    ? { orders: page.orders.map(orderView), nextBefore: page.nextBefore }
    : { orders: page.orders.map(orderView) };
}

async function close(ctx: Context): Promise<OrdersCloseResponse> {
  const order = await ownOrder(ctx, ctx.fields, 'write');
  return orderView(await closeOrder(ctx.deps, order, ctx.now));
}

const depsOf = perInstance(payingFunctionDeps);

export const main = authedCallable<OrdersGetResponse | OrdersListResponse | OrdersCloseResponse>(
  'orders',
  async (callerCtx) => {
    const action = requireOneOf(callerCtx.fields, 'action', ['get', 'list', 'close'] as const);
    const ctx = { ...callerCtx, deps: depsOf(callerCtx.config, callerCtx.log) };
    if (action === 'get') return get(ctx);
    if (action === 'list') return list(ctx);
    return close(ctx);
  },
);
