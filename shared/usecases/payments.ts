// Payment use cases over the domain rules, the repositories and a PayGateway: create (idempotent),
// confirm by query, apply a verified payment, close. Shared by createPayment, orders, payNotify and
// reconcile so that every path applies a payment through the very same transition.
import { createHash } from 'node:crypto';
import type { CreatePaymentResponse } from '../contracts/api';
import { parseCart, priceCart } from '../domain/catalog';
import { AppError, conflict, invalidArgument } from '../domain/errors';
import { cartFulfilmentType, newFulfilment, type FulfilledOrder } from '../domain/fulfilment';
import { newOutTradeNo } from '../domain/ids';
import {
  markClosed,
  markPaid,
  newOrder,
  payableUntil,
  recordPrepay,
  reusablePrepayId,
  type OrderDoc,
  type PaymentFacts,
} from '../domain/order';
import type { ApplyOutcome } from '../db/conditional';
import { isDuplicateKey } from '../db/errors';
import type { NotificationGateway, TradeView } from '../gateways/gateway';
import { WxpayUpstreamError } from '../wxpay/errors';
import type { UseCaseDeps } from './deps';
import { uploadVirtualShipping } from './fulfilment';
import { chargeCall } from './rate-limit';
import type { SubscribedOrder } from './messages';
import { refundPaidAfterClose } from './refunds';

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

export type PaymentDeps = Pick<
  UseCaseDeps,
  'orders' | 'refunds' | 'gateway' | 'log' | 'fulfilment' | 'messages'
>;
/** Applying a payment WeChat confirmed: a notification endpoint may hold no merchant key. */
export type ApplyPaymentDeps = Pick<UseCaseDeps, 'orders' | 'refunds' | 'log' | 'fulfilment' | 'messages'> & {
  gateway: NotificationGateway;
};

export interface CreatePaymentInput {
  openid: string;
  appid?: string | undefined;
  items: unknown;
  idempotencyKey?: string | undefined;
  /** Template ids the user accepted (checked by parseSubscriptions); stored for the messages. */
  subscriptions?: string[] | undefined;
  now: Date;
}

function sameCart(order: OrderDoc, lines: { productId: string; quantity: number }[]): boolean {
  if (order.items.length !== lines.length) return false;
  return lines.every((l) =>
    order.items.some((i) => i.productId === l.productId && i.quantity === l.quantity),
  );
}

function stillPayable(order: OrderDoc, now: Date): boolean {
  return payableUntil(order).getTime() > now.getTime();
}

/**
 * The order id an idempotency key stands for: derived from (openid, key), so concurrent first calls
 * race on one insert and every caller ends on the same order: `K` + 31 hex characters.
 */
export function idempotentOrderId(openid: string, idempotencyKey: string): string {
  return `K${createHash('sha256').update(`${openid}\n${idempotencyKey}`).digest('hex').slice(0, 31)}`;
}

function checkReusable(
  existing: OrderDoc,
  lines: { productId: string; quantity: number }[],
  now: Date,
): OrderDoc {
  if (!sameCart(existing, lines))
    throw conflict(
      'idempotencyKey was already used for a different cart; generate a new key for a new purchase',
    );
  if (existing.status === 'SUCCESS' || existing.status === 'REFUNDED')
    throw conflict(`order ${existing._id} for this idempotencyKey is already paid`);
  if (existing.status === 'CLOSED' || !stillPayable(existing, now)) {
    throw conflict(
      `order ${existing._id} for this idempotencyKey is closed or expired; generate a new key to buy again`,
    );
  }
  return existing;
}

export async function createPayment(
  deps: PaymentDeps & Pick<UseCaseDeps, 'products' | 'rateLimits'>,
  input: CreatePaymentInput,
): Promise<CreatePaymentResponse> {
  const { orders, gateway } = deps;
  const lines = parseCart(input.items);
  const keyedId = input.idempotencyKey ? idempotentOrderId(input.openid, input.idempotencyKey) : undefined;
  const existing = keyedId ? await orders.get(keyedId) : undefined;
  let order = existing ? checkReusable(existing, lines, input.now) : undefined;
  // Every new prepay counts against the user's limit before anything is written; a keyed retry that
  // reuses a live prepay sends nothing to WeChat and costs nothing.
  let charged = false;
  if (!order) {
    const catalog = await deps.products.getMany(lines.map((l) => l.productId));
    const priced = priceCart(lines, catalog);
    // Refuses a cart WeChat could not ship as one order before anything is written.
    const type = cartFulfilmentType(lines.map((l) => catalog.get(l.productId) ?? { _id: l.productId }));
    const doc: FulfilledOrder & SubscribedOrder = {
      ...newOrder({
        outTradeNo: keyedId ?? newOutTradeNo(input.now),
        openid: input.openid,
        items: priced.items,
        amountFen: priced.amountFen,
        description: priced.description,
        apiVersion: gateway.apiVersion,
        now: input.now,
        appid: input.appid,
        idempotencyKey: input.idempotencyKey,
      }),
      fulfilment: newFulfilment(type),
      ...(input.subscriptions?.length ? { subscriptions: input.subscriptions } : {}),
    };
    await chargeCall(deps, 'prepay', input.openid, input.now);
    charged = true;
    // Written before WeChat is called: a notification can always find its order.
    try {
      await orders.insert(doc);
      order = doc;
    } catch (err) {
      if (!keyedId || !isDuplicateKey(err)) throw err;
      const winner = await orders.get(keyedId); // a concurrent first call with the same key inserted it
      if (!winner) throw err;
      order = checkReusable(winner, lines, input.now);
    }
  }
  if (order.status !== 'NOTPAY')
    throw conflict(`order ${order._id} is ${order.status}; start a new purchase`);

  let prepayId = reusablePrepayId(order, input.now);
  if (!prepayId) {
    if (!charged) await chargeCall(deps, 'prepay', input.openid, input.now);
    const expiresAt = payableUntil(order);
    try {
      ({ prepayId } = await gateway.prepay({
        outTradeNo: order._id,
        description: order.description,
        amountFen: order.amountFen,
        openid: order.openid,
        expiresAt,
      }));
    } catch (err) {
      if (err instanceof WxpayUpstreamError && err.upstreamCode === 'ORDERPAID') {
        await confirmOrder(deps, order, input.now);
        throw conflict(`order ${order._id} is already paid`);
      }
      throw err;
    }
    const stored = prepayId;
    const recorded = await orders.apply(order._id, (doc) => recordPrepay(doc, stored, input.now));
    if (recorded.outcome === 'anomaly' || recorded.outcome === 'missing') {
      // The order was closed while WeChat created the prepay (orders.close found nothing to close
      // there): never hand out parameters for it, and close the trade WeChat just opened.
      await gateway
        .closeTrade(order._id)
        .catch((err: unknown) =>
          deps.log.warn(`could not close the prepay of closed order ${order._id}`, { error: err }),
        );
      throw conflict(
        `order ${order._id} was closed while its payment was being prepared; start a new purchase`,
      );
    }
  }
  return { orderId: order._id, amountFen: order.amountFen, payment: gateway.paymentParams(prepayId) };
}

export type PaymentOutcome = 'applied' | 'already' | `anomaly:${string}` | 'missing';

export function outcomeOf<T>(r: ApplyOutcome<T>): PaymentOutcome {
  return r.outcome === 'anomaly' ? `anomaly:${r.reason}` : r.outcome;
}

/**
 * The one way a confirmed payment (notification or query) reaches an order. The invocation whose
 * update made the order SUCCESS also uploads the shipping info of virtual goods: WeChat keeps the
 * money frozen until it has them. That upload never throws; a failed one is left to reconcile.
 * A payment on an order we closed stays an anomaly, and its money goes back automatically.
 */
export async function applyPayment(
  deps: ApplyPaymentDeps,
  outTradeNo: string,
  facts: PaymentFacts,
  now: Date,
): Promise<ApplyOutcome<OrderDoc>> {
  const r = await deps.orders.apply(outTradeNo, (doc) => markPaid(doc, facts, now));
  if (r.outcome === 'applied' && deps.fulfilment) await uploadVirtualShipping(deps.fulfilment, r.doc, now);
  if (r.outcome === 'applied') await deps.messages?.send('paid', r.doc, {}, now);
  if (r.outcome === 'anomaly' && r.reason === 'paid-after-close')
    await refundPaidAfterClose(deps, outTradeNo, facts, now);
  return r;
}

/**
 * Asks WeChat about an unpaid order and applies what it says. Returns the order as stored afterwards.
 * An unreachable WeChat leaves the order as it is (the caller sees NOTPAY and may ask again).
 */
export async function confirmOrder(
  deps: PaymentDeps,
  order: OrderDoc,
  now: Date,
  opts: { closeIfExpired?: boolean } = {},
): Promise<OrderDoc> {
  const { orders, gateway, log } = deps;
  if (order.status !== 'NOTPAY') return order;
  let view: TradeView;
  try {
    view = await gateway.queryTrade(order._id);
  } catch (err) {
    if (err instanceof AppError) throw err;
    log.error(`query of ${order._id} failed`, { error: (err as Error).name });
    return order;
  }
  if (view.state === 'SUCCESS' || view.state === 'REFUND') {
    const r = await applyPayment(deps, order._id, view.facts, now);
    if (r.outcome === 'anomaly')
      log.error(`query of ${order._id} contradicts the order`, { reason: r.reason });
  } else if (view.state === 'CLOSED' || view.state === 'REVOKED') {
    await orders.apply(order._id, (doc) => markClosed(doc, now));
  } else if (opts.closeIfExpired && payableUntil(order).getTime() < now.getTime()) {
    if (view.state !== 'NOT_FOUND') await gateway.closeTrade(order._id);
    await orders.apply(order._id, (doc) => markClosed(doc, now));
  }
  return (await orders.get(order._id)) ?? order;
}

/** Closes an unpaid order: at WeChat first, then here. A paid one is confirmed instead. */
export async function closeOrder(deps: PaymentDeps, order: OrderDoc, now: Date): Promise<OrderDoc> {
  if (order.status === 'CLOSED') return order;
  if (order.status !== 'NOTPAY')
    throw conflict(`order ${order._id} is ${order.status}; only an unpaid order can be closed`);
  try {
    await deps.gateway.closeTrade(order._id);
  } catch (err) {
    if (err instanceof WxpayUpstreamError && err.upstreamCode === 'ORDERPAID') {
      const confirmed = await confirmOrder(deps, order, now);
      throw conflict(`order ${confirmed._id} was paid before it could be closed`);
    }
    throw err;
  }
  const r = await deps.orders.apply(order._id, (doc) => markClosed(doc, now));
  if (r.outcome === 'anomaly') throw conflict(`order ${order._id} changed while closing: ${r.reason}`);
  if (r.outcome === 'missing') throw invalidArgument('order not found');
  return r.doc;
}
