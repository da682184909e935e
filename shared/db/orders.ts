// `orders`: `_id` = outTradeNo. Reads return the stored document; every change goes through a domain
// Decision and `applyDecision` (conditional update).
import type { Decision, OrderDoc } from '../domain/order';
import { COLLECTIONS } from './collections';
import { applyDecision, type ApplyOutcome } from './conditional';
import { getDatabase, run } from './database';

const orders = () => getDatabase().collection(COLLECTIONS.orders);

export async function getOrder(outTradeNo: string): Promise<OrderDoc | undefined> {
  const res = await run('get orders', () => orders().where({ _id: outTradeNo }).limit(1).get());
  return res.data[0] as OrderDoc | undefined;
}

export async function insertOrder(doc: OrderDoc): Promise<void> {
  await run('insert orders', () => orders().add(doc));
}

/** The newest (`desc`) or first (`asc`) order a user created with an idempotency key. */
export async function findByIdempotencyKey(openid: string, idempotencyKey: string, direction: 'asc' | 'desc'): Promise<OrderDoc | undefined> {
  const res = await run('get orders', () =>
    orders().where({ openid, idempotencyKey }).orderBy('createdAt', direction).orderBy('_id', direction).limit(1).get(),
  );
  return res.data[0] as OrderDoc | undefined;
}

/** A user's unpaid orders for an idempotency key, oldest first (resolving concurrent first calls). */
export async function listUnpaidByIdempotencyKey(openid: string, idempotencyKey: string, limit: number): Promise<OrderDoc[]> {
  const res = await run('get orders', () =>
    orders().where({ openid, idempotencyKey, status: 'NOTPAY' }).orderBy('createdAt', 'asc').orderBy('_id', 'asc').limit(limit).get(),
  );
  return res.data as OrderDoc[];
}

/**
 * A user's orders, newest first. Order ids start with their creation time (see domain/ids), so the
 * id is both the sort key and the cursor: the next page is everything with a smaller id.
 */
export async function listOrders(openid: string, pageSize: number, before?: string): Promise<{ orders: OrderDoc[]; nextBefore?: string }> {
  const _ = getDatabase().command;
  const where: Record<string, unknown> = before ? { openid, _id: _.lt(before) } : { openid };
  const res = await run('get orders', () => orders().where(where).orderBy('_id', 'desc').limit(pageSize + 1).get());
  const docs = res.data as OrderDoc[];
  const page = docs.slice(0, pageSize);
  return docs.length > pageSize ? { orders: page, nextBefore: page[page.length - 1]!._id } : { orders: page };
}

/** Unpaid orders created before `createdBefore`, oldest first (reconcile). */
export async function findStaleUnpaid(createdBefore: Date, limit: number): Promise<OrderDoc[]> {
  const _ = getDatabase().command;
  const res = await run('get orders', () =>
    orders().where({ status: 'NOTPAY', createdAt: _.lt(createdBefore) }).orderBy('createdAt', 'asc').limit(limit).get(),
  );
  return res.data as OrderDoc[];
}

export function applyToOrder(outTradeNo: string, decide: (order: OrderDoc) => Decision<OrderDoc>): Promise<ApplyOutcome<OrderDoc>> {
  return applyDecision({ collection: COLLECTIONS.orders, read: () => getOrder(outTradeNo), decide });
}
