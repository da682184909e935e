// Fulfilment use cases (issue 14): the admin's `ship`, the automatic upload for virtual goods once an
// order is paid, and WeChat's settlement events. WeChat is asked first and the order changes only
// after WeChat accepted, through conditional updates; nothing is uploaded for an order that must not
// ship. The upload for virtual goods never throws: paying is never blocked or undone by it.
import { applyDecision, type ApplyOutcome } from '../db/conditional';
import { COLLECTIONS } from '../db/collections';
import { run, type Database } from '../db/database';
import type { OrderRepository } from '../db/orders';
import { conflict, notFound, permissionDenied } from '../domain/errors';
import {
  claimUpload,
  fulfilmentOf,
  itemDescOf,
  markConfirmed,
  markSettled,
  parseShipments,
  recordUpload,
  recordUploadsExhausted,
  releaseClaim,
  shipBlocker,
  shippingInfoBody,
  type FulfilledOrder,
  type Fulfilment,
} from '../domain/fulfilment';
import type { Decision } from '../domain/order';
import type { CallOpenApi } from '../wechat/openapi/client';
import { OpenApiError } from '../wechat/openapi/errors';
import type { Logger } from '../log';
import type { OrderMessenger } from './messages';

/** The orders the fulfilment state lives on: the repository for reads, the handle for its own queries. */
export interface FulfilmentStore {
  db: Database;
  orders: OrderRepository;
  log: Logger;
}

export interface FulfilmentDeps extends FulfilmentStore {
  callOpenApi: CallOpenApi;
  /** The merchant id of the orders (order_key.mchid). */
  mchid: string;
  /** The `shipped` subscription message after the admin's upload is recorded. */
  messages?: OrderMessenger | undefined;
}

const readOrder = (store: FulfilmentStore, id: string) =>
  store.orders.get(id) as Promise<FulfilledOrder | undefined>;

function applyToFulfilledOrder(
  store: FulfilmentStore,
  id: string,
  decide: (o: FulfilledOrder) => Decision<FulfilledOrder>,
): Promise<ApplyOutcome<FulfilledOrder>> {
  return applyDecision({
    db: store.db,
    collection: COLLECTIONS.orders,
    read: () => readOrder(store, id),
    decide,
  });
}

function isUsedUp(err: unknown): boolean {
  return err instanceof OpenApiError && (err.errcode === 10060003 || err.errcode === 10060002);
}

// ---- ship (admin) ----

export interface ShipInput {
  orderId: string;
  shipments: unknown;
  isAdmin: boolean;
  now: Date;
}

export async function shipOrder(
  deps: FulfilmentDeps,
  input: ShipInput,
): Promise<{ orderId: string; fulfilment: Fulfilment }> {
  if (!input.isAdmin) throw permissionDenied('only admins (ADMIN_OPENIDS) may ship orders');
  const order = await readOrder(deps, input.orderId);
  if (!order) throw notFound(`order ${input.orderId} does not exist`);
  const shipments = parseShipments(input.shipments, itemDescOf(order.items));
  const blocker = shipBlocker(order);
  if (blocker) throw conflict(blocker);
  const type = fulfilmentOf(order).type;
  if (type === 'virtual')
    throw conflict(`order ${order._id} holds virtual goods only; it is shipped automatically once paid`);
  try {
    await deps.callOpenApi(
      'uploadShippingInfo',
      shippingInfoBody({ order, mchid: deps.mchid, type, shipments, now: input.now }),
    );
  } catch (err) {
    if (isUsedUp(err)) {
      // WeChat knows of more uploads than we recorded (an earlier answer was lost): catch up.
      await applyToFulfilledOrder(deps, order._id, (o) => recordUploadsExhausted(o, input.now));
      throw conflict(`order ${order._id}: ${(err as OpenApiError).message}`);
    }
    throw err;
  }
  const applied = await applyToFulfilledOrder(deps, order._id, (o) => recordUpload(o, shipments, input.now));
  if (applied.outcome === 'missing') throw notFound(`order ${order._id} does not exist`);
  const shipped = fulfilmentOf(applied.doc);
  if (applied.outcome === 'applied')
    await deps.messages?.send(
      'shipped',
      applied.doc,
      { shippedAt: new Date(shipped.shippedAt ?? input.now), trackingNo: shipments[0]?.trackingNo },
      input.now,
    );
  return { orderId: order._id, fulfilment: shipped };
}

// ---- virtual goods ----

export type VirtualUploadOutcome = 'uploaded' | 'already' | 'not-virtual' | 'not-shippable' | 'failed';

/**
 * Uploads the shipping info of a paid order of virtual goods, once. Call it in the invocation that
 * made the order SUCCESS (notification, query or reconcile) and from reconcile for orders whose
 * upload failed. Never throws; a failure is logged (without secrets) and left to reconcile.
 */
export async function uploadVirtualShipping(
  deps: FulfilmentDeps,
  orderOrId: FulfilledOrder | string,
  now: Date,
): Promise<VirtualUploadOutcome> {
  const id = typeof orderOrId === 'string' ? orderOrId : orderOrId._id;
  // An order's type of goods is fixed when it is created: an order at hand that is not virtual needs
  // no fresh read (the payment paths hand over the order they have just written).
  if (typeof orderOrId !== 'string' && fulfilmentOf(orderOrId).type !== 'virtual') return 'not-virtual';
  try {
    const order = await readOrder(deps, id);
    if (!order) return 'not-shippable';
    const f = fulfilmentOf(order);
    if (!order.fulfilment || f.type !== 'virtual') return 'not-virtual';
    if (f.uploads > 0) return 'already';
    if (shipBlocker(order)) return 'not-shippable';
    const claim = await applyToFulfilledOrder(deps, id, (o) => claimUpload(o, now));
    if (claim.outcome !== 'applied') return 'already'; // done, or another invocation is on it
    try {
      if ((f.attempts ?? 0) > 0 && (await wechatHasShipping(deps, order))) {
        // An earlier attempt reached WeChat but its answer was lost: record it, do not upload again.
      } else {
        try {
          await deps.callOpenApi(
            'uploadShippingInfo',
            shippingInfoBody({ order, mchid: deps.mchid, type: 'virtual', now }),
          );
        } catch (err) {
          if (!isUsedUp(err)) throw err;
        }
      }
    } catch (err) {
      const heldUntil = fulfilmentOf(claim.doc).claimUntil;
      if (heldUntil)
        await applyToFulfilledOrder(deps, id, (o) => releaseClaim(o, new Date(heldUntil), now)).catch(
          () => undefined, // the claim then runs out by itself
        );
      throw err;
    }
    const applied = await applyToFulfilledOrder(deps, id, (o) =>
      fulfilmentOf(o).uploads > 0 ? { kind: 'already' } : recordUpload(o, undefined, now),
    );
    return applied.outcome === 'applied' ? 'uploaded' : 'already';
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e?.code === 'string' ? e.code : 'error';
    const message = typeof e?.message === 'string' ? e.message : 'unknown failure';
    deps.log.error(
      `virtual shipping upload of ${id} failed (${code}): ${message.slice(0, 300)}; reconcile retries it`,
    );
    return 'failed';
  }
}

async function wechatHasShipping(deps: FulfilmentDeps, order: FulfilledOrder): Promise<boolean> {
  const got = await deps.callOpenApi('getShippingOrder', {
    merchant_id: deps.mchid,
    merchant_trade_no: order._id,
  });
  const state = (got.order as { order_state?: unknown } | undefined)?.order_state;
  return typeof state === 'number' && state >= 2 && state <= 4;
}

/** Paid virtual orders whose upload has not landed yet, oldest first (for reconcile). */
export async function findPendingVirtualUploads(
  store: FulfilmentStore,
  limit: number,
): Promise<FulfilledOrder[]> {
  const res = await run('get orders', () =>
    store.db
      .collection(COLLECTIONS.orders)
      .where({ status: 'SUCCESS', 'fulfilment.type': 'virtual', 'fulfilment.uploads': 0 })
      .orderBy('paidAt', 'asc')
      .limit(limit)
      .get(),
  );
  return res.data as FulfilledOrder[];
}

/**
 * Reconcile's share: retries the uploads of paid virtual orders that have not landed (oldest
 * first, bounded). Never throws; returns how many were uploaded and how many failed again.
 */
export async function retryVirtualUploads(
  deps: FulfilmentDeps,
  now: Date,
  limit = 20,
): Promise<{ checked: number; uploaded: number; failed: number }> {
  const out = { checked: 0, uploaded: 0, failed: 0 };
  let pending: FulfilledOrder[];
  try {
    pending = await findPendingVirtualUploads(deps, limit);
  } catch (err) {
    deps.log.error(`cannot list pending virtual uploads: ${(err as Error).message}`);
    return out;
  }
  for (const order of pending) {
    out.checked += 1;
    const outcome = await uploadVirtualShipping(deps, order, now);
    if (outcome === 'uploaded') out.uploaded += 1;
    if (outcome === 'failed') out.failed += 1;
  }
  return out;
}

// ---- WeChat's settlement event ----

export interface SettlementFacts {
  outTradeNo: string;
  transactionId?: string;
  confirmedAt?: Date;
  settledAt?: Date;
}

export type SettlementOutcome = 'applied' | 'duplicate' | 'anomaly:unknown-order' | `anomaly:${string}`;

export async function applySettlementEvent(
  store: FulfilmentStore,
  facts: SettlementFacts,
  now: Date,
): Promise<SettlementOutcome> {
  const order = await readOrder(store, facts.outTradeNo);
  if (!order) return 'anomaly:unknown-order';
  if (facts.transactionId && order.transactionId && facts.transactionId !== order.transactionId)
    return 'anomaly:transaction-mismatch';
  const applied = await applyToFulfilledOrder(store, facts.outTradeNo, (o) =>
    facts.settledAt
      ? markSettled(o, facts.settledAt, facts.confirmedAt, now)
      : markConfirmed(o, facts.confirmedAt ?? now, now),
  );
  switch (applied.outcome) {
    case 'applied':
      return 'applied';
    case 'already':
      return 'duplicate';
    case 'anomaly':
      return `anomaly:${applied.reason}`;
    case 'missing':
      return 'anomaly:unknown-order';
  }
}
