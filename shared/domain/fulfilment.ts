// Fulfilment (issue 14) as pure functions: how a cart is fulfilled, the `ship` input, the shipping
// info WeChat's 发货信息管理 wants, and the order's fulfilment state
// PENDING → SHIPPED → CONFIRMED → SETTLED, each step a conditional update on the order's version.
// WeChat accepts one upload plus one change per order; `uploads` counts the accepted ones.
// Over 250 lines because the ship input's rules, WeChat's shipping-info body and the fulfilment state
// machine share their types; every part is pure.
import type { OrderItem, Product } from './catalog';
import { conflict, invalidArgument } from './errors';
import type { Decision, OrderDoc, Transition } from './order';
import { readObject, requireArray, TEXT_PATTERN, type Fields } from './validate';

export const FULFILMENT_TYPES = ['virtual', 'express', 'local-delivery', 'pickup'] as const;
export type FulfilmentType = (typeof FULFILMENT_TYPES)[number];
export type FulfilmentStatus = 'PENDING' | 'SHIPPED' | 'CONFIRMED' | 'SETTLED';

/** WeChat's logistics_type for each fulfilment type. */
export const LOGISTICS_TYPE: Record<FulfilmentType, 1 | 2 | 3 | 4> = {
  express: 1,
  'local-delivery': 2,
  virtual: 3,
  pickup: 4,
};

export interface Shipment {
  trackingNo: string;
  expressCompany: string;
  itemDesc: string;
}

export interface Fulfilment {
  type: FulfilmentType;
  status: FulfilmentStatus;
  /** Shipping uploads WeChat accepted: 0, 1, or 2 after the one allowed change. */
  uploads: number;
  shippedAt?: Date;
  confirmedAt?: Date;
  settledAt?: Date;
  shipments?: Shipment[];
  /** Automatic (virtual) upload: held by one invocation until then, so only one uploads. */
  claimUntil?: Date;
  /** Automatic upload attempts started; after the first, WeChat is asked before uploading again. */
  attempts?: number;
}

export type FulfilledOrder = OrderDoc & { fulfilment?: Fulfilment };

/** WeChat allows the first upload and one change. */
export const MAX_UPLOADS = 2;
export const MAX_SHIPMENTS = 15;
export const ITEM_DESC_MAX = 120;
/** Delivery ids of WeChat's get_delivery_list that the admin form offers. */
export const EXPRESS_COMPANIES = [
  'ZTO',
  'YTO',
  'STO',
  'YD',
  'JTSD',
  'EMS',
  'JD',
  'SF',
  'DBL',
  'HTKY',
  'YZPY',
  'ZJS',
];

export function isFulfilmentType(value: unknown): value is FulfilmentType {
  return (FULFILMENT_TYPES as readonly unknown[]).includes(value);
}

/**
 * An order's type from its products' types: `virtual` only when every item is virtual, else the
 * one physical type among them. Products without a type are physical `express`.
 */
export function fulfilmentTypeOf(types: ReadonlyArray<FulfilmentType | undefined>): FulfilmentType {
  const physical = new Set(types.map((t) => t ?? 'express').filter((t) => t !== 'virtual'));
  if (physical.size === 0) return 'virtual';
  if (physical.size > 1)
    throw invalidArgument(
      `the cart mixes goods fulfilled as ${[...physical].join(' and ')}; WeChat takes one logistics type per order, so place separate orders`,
    );
  return [...physical][0];
}

/**
 * The type of an order of these catalog entries. A value the catalog should not hold is refused like
 * any broken entry: selling it would upload the wrong logistics type to WeChat.
 */
export function cartFulfilmentType(
  products: ReadonlyArray<Pick<Product, '_id' | 'fulfilment'>>,
): FulfilmentType {
  for (const p of products)
    if (p.fulfilment !== undefined && !isFulfilmentType(p.fulfilment))
      throw invalidArgument(
        `product ${p._id} is not available (its catalog entry's fulfilment must be one of ${FULFILMENT_TYPES.join(', ')})`,
      );
  return fulfilmentTypeOf(products.map((p) => p.fulfilment));
}

export function newFulfilment(type: FulfilmentType): Fulfilment {
  return { type, status: 'PENDING', uploads: 0 };
}

/** Orders created before fulfilment existed are treated as physical goods not yet shipped. */
export function fulfilmentOf(order: FulfilledOrder): Fulfilment {
  return order.fulfilment ?? newFulfilment('express');
}

/** `item_desc`: the item names, cut to WeChat's 120 characters. */
export function itemDescOf(items: ReadonlyArray<Pick<OrderItem, 'name' | 'quantity'>>): string {
  const text = items.map((i) => (i.quantity > 1 ? `${i.name}×${i.quantity}` : i.name)).join('、');
  const chars = [...text];
  return chars.length <= ITEM_DESC_MAX ? text : `${chars.slice(0, ITEM_DESC_MAX - 1).join('')}…`;
}

/** RFC 3339 in China time with milliseconds, e.g. 2026-11-30T18:00:00.000+08:00 (WeChat's example). */
export function uploadTime(at: Date): string {
  const cst = new Date(at.getTime() + 8 * 3600_000);
  return `${cst.toISOString().slice(0, 23)}+08:00`;
}

// ---- the admin's `ship` request ----

export interface ShipmentInput extends Shipment {
  /** SF only: the sender's phone, masked before it leaves us. */
  consignorContact?: string;
}

const TRACKING_NO = /^[A-Za-z0-9-]{1,128}$/;
const PHONE = /^\+?[0-9]{7,15}$/;
const MASKED = /^\+?[0-9]{3,4}\*{4}[0-9]{4}$/;

/** `138****0000`: WeChat wants SF contacts masked; a masked value passes as it is. */
export function maskPhone(phone: string): string {
  if (MASKED.test(phone)) return phone;
  return `${phone.slice(0, phone.length - 8)}****${phone.slice(-4)}`;
}

export function parseShipments(value: unknown, defaultItemDesc: string): ShipmentInput[] {
  const list = requireArray({ shipments: value }, 'shipments', { min: 1, max: MAX_SHIPMENTS });
  return list.map((raw, i) => {
    const s: Fields = readObject(raw, `shipments[${i}]`);
    const field = (name: string) => `shipments[${i}].${name}`;
    for (const key of Object.keys(s))
      if (!['trackingNo', 'expressCompany', 'itemDesc', 'consignorContact'].includes(key))
        throw invalidArgument(
          `${field(key)} is not a field of a shipment (trackingNo, expressCompany, itemDesc?, consignorContact?)`,
        );
    if (typeof s.trackingNo !== 'string' || !TRACKING_NO.test(s.trackingNo))
      throw invalidArgument(`${field('trackingNo')} must be 1–128 characters of letters, digits and -`);
    if (typeof s.expressCompany !== 'string' || !EXPRESS_COMPANIES.includes(s.expressCompany))
      throw invalidArgument(
        `${field('expressCompany')} must be a WeChat delivery id: one of ${EXPRESS_COMPANIES.join(', ')}`,
      );
    let itemDesc = defaultItemDesc;
    if (s.itemDesc !== undefined) {
      if (
        typeof s.itemDesc !== 'string' ||
        s.itemDesc.trim() === '' ||
        [...s.itemDesc].length > ITEM_DESC_MAX ||
        !TEXT_PATTERN.test(s.itemDesc)
      )
        throw invalidArgument(`${field('itemDesc')} must be 1–${ITEM_DESC_MAX} characters of text`);
      itemDesc = s.itemDesc;
    }
    const out: ShipmentInput = { trackingNo: s.trackingNo, expressCompany: s.expressCompany, itemDesc };
    if (s.consignorContact !== undefined) {
      if (
        typeof s.consignorContact !== 'string' ||
        !(PHONE.test(s.consignorContact) || MASKED.test(s.consignorContact))
      )
        throw invalidArgument(
          `${field('consignorContact')} must be the sender's phone number, e.g. 13800000000`,
        );
      out.consignorContact = maskPhone(s.consignorContact);
    }
    if (s.expressCompany === 'SF' && out.consignorContact === undefined)
      throw invalidArgument(
        `${field('consignorContact')} is required for SF (顺丰): WeChat needs the sender's phone, masked`,
      );
    return out;
  });
}

// ---- what WeChat gets ----

export interface ShippingInfoInput {
  order: FulfilledOrder;
  mchid: string;
  type: FulfilmentType;
  shipments?: ShipmentInput[];
  now: Date;
}

/** The upload_shipping_info body for an order (virtual goods: one entry, no tracking). */
export function shippingInfoBody(input: ShippingInfoInput): Record<string, unknown> {
  const { order, type } = input;
  if (!order.transactionId && order.status !== 'SUCCESS')
    throw conflict(`order ${order._id} is not paid; only paid orders are shipped`);
  const list =
    type === 'express' && input.shipments
      ? input.shipments.map((s) => ({
          tracking_no: s.trackingNo,
          express_company: s.expressCompany,
          item_desc: s.itemDesc,
          ...(s.consignorContact ? { contact: { consignor_contact: s.consignorContact } } : {}),
        }))
      : [{ item_desc: input.shipments?.[0]?.itemDesc ?? itemDescOf(order.items) }];
  return {
    order_key: { order_number_type: 1, mchid: input.mchid, out_trade_no: order._id },
    logistics_type: LOGISTICS_TYPE[type],
    delivery_mode: list.length > 1 ? 2 : 1,
    ...(list.length > 1 ? { is_all_delivered: true } : {}),
    shipping_list: list,
    upload_time: uploadTime(input.now),
    payer: { openid: order.openid },
  };
}

// ---- state transitions ----

function guardedSet(order: FulfilledOrder, fulfilment: Fulfilment, now: Date): Transition<FulfilledOrder> {
  return {
    where: { _id: order._id, version: order.version },
    set: { fulfilment, version: order.version + 1, updatedAt: now },
  };
}

/** Why an order cannot be shipped (CONFLICT before anything goes to WeChat), or undefined. */
export function shipBlocker(order: FulfilledOrder): string | undefined {
  if (order.status === 'NOTPAY' || order.status === 'CLOSED')
    return `order ${order._id} is ${order.status}; only paid orders are shipped`;
  if (order.status === 'REFUNDED' || order.refundedFen + order.refundingFen >= order.amountFen)
    return `order ${order._id} is refunded; a refunded order is never shipped`;
  const f = fulfilmentOf(order);
  if (f.status === 'CONFIRMED' || f.status === 'SETTLED')
    return `order ${order._id} is ${f.status}: the user already received it, so its shipping info can no longer change`;
  if (f.uploads >= MAX_UPLOADS)
    return `order ${order._id} was shipped and changed once; WeChat allows only one change of shipping info (已完成发货，不能再修改)`;
  return undefined;
}

/** WeChat accepted an upload: SHIPPED, one more upload counted, the shipments as sent. */
export function recordUpload(
  order: FulfilledOrder,
  shipments: Shipment[] | undefined,
  now: Date,
): Decision<FulfilledOrder> {
  const f = fulfilmentOf(order);
  if (f.uploads >= MAX_UPLOADS) return { kind: 'anomaly', reason: 'uploads-exhausted' };
  const next: Fulfilment = {
    ...f,
    status: f.status === 'PENDING' ? 'SHIPPED' : f.status,
    uploads: f.uploads + 1,
    shippedAt: f.shippedAt ?? now,
  };
  if (shipments)
    next.shipments = shipments.map(({ trackingNo, expressCompany, itemDesc }) => ({
      trackingNo,
      expressCompany,
      itemDesc,
    }));
  return { kind: 'apply', transition: guardedSet(order, next, now) };
}

/** How long one invocation holds the automatic upload before another may try. */
export const UPLOAD_CLAIM_MS = 30_000;

/** Takes the automatic upload of a paid virtual order, so concurrent invocations upload once. */
export function claimUpload(order: FulfilledOrder, now: Date): Decision<FulfilledOrder> {
  const f = fulfilmentOf(order);
  if (f.uploads > 0) return { kind: 'already' };
  if (f.claimUntil && new Date(f.claimUntil).getTime() > now.getTime())
    return { kind: 'anomaly', reason: 'claimed' };
  return {
    kind: 'apply',
    transition: guardedSet(
      order,
      { ...f, claimUntil: new Date(now.getTime() + UPLOAD_CLAIM_MS), attempts: (f.attempts ?? 0) + 1 },
      now,
    ),
  };
}

/**
 * The invocation holding the claim (until `heldUntil`) failed to upload: the next one (reconcile) may
 * try at once, and asks WeChat first in case the failed attempt reached it after all.
 */
export function releaseClaim(order: FulfilledOrder, heldUntil: Date, now: Date): Decision<FulfilledOrder> {
  const f = fulfilmentOf(order);
  if (f.uploads > 0 || !f.claimUntil || new Date(f.claimUntil).getTime() !== heldUntil.getTime())
    return { kind: 'already' }; // uploaded meanwhile, or the claim ran out and another holds it now
  return { kind: 'apply', transition: guardedSet(order, { ...f, claimUntil: now }, now) };
}

/** WeChat says its change was used (10060003) while we counted fewer: bring the count in line. */
export function recordUploadsExhausted(order: FulfilledOrder, now: Date): Decision<FulfilledOrder> {
  const f = fulfilmentOf(order);
  if (f.uploads >= MAX_UPLOADS) return { kind: 'already' };
  return {
    kind: 'apply',
    transition: guardedSet(
      order,
      { ...f, status: f.status === 'PENDING' ? 'SHIPPED' : f.status, uploads: MAX_UPLOADS },
      now,
    ),
  };
}

/** The user confirmed receipt (WeChat's settlement event without settlement_time). */
export function markConfirmed(order: FulfilledOrder, at: Date, now: Date): Decision<FulfilledOrder> {
  if (order.status === 'NOTPAY' || order.status === 'CLOSED')
    return { kind: 'anomaly', reason: `order-${order.status.toLowerCase()}` };
  const f = fulfilmentOf(order);
  if (f.status === 'CONFIRMED' || f.status === 'SETTLED') return { kind: 'already' };
  return {
    kind: 'apply',
    transition: guardedSet(
      order,
      { ...f, status: 'CONFIRMED', confirmedAt: at, shippedAt: f.shippedAt ?? at },
      now,
    ),
  };
}

/** The money settled to the merchant (settlement event with settlement_time). */
export function markSettled(
  order: FulfilledOrder,
  at: Date,
  confirmedAt: Date | undefined,
  now: Date,
): Decision<FulfilledOrder> {
  if (order.status === 'NOTPAY' || order.status === 'CLOSED')
    return { kind: 'anomaly', reason: `order-${order.status.toLowerCase()}` };
  const f = fulfilmentOf(order);
  if (f.status === 'SETTLED') return { kind: 'already' };
  return {
    kind: 'apply',
    transition: guardedSet(
      order,
      {
        ...f,
        status: 'SETTLED',
        settledAt: at,
        confirmedAt: f.confirmedAt ?? confirmedAt ?? at,
        shippedAt: f.shippedAt ?? confirmedAt ?? at,
      },
      now,
    ),
  };
}
