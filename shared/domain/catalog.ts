// Cart → priced order lines. The client sends only product ids and quantities; every price and name
// comes from the server's `products` collection, and the amount is computed here in integer fen.
import { invalidArgument } from './errors';
import type { FulfilmentType } from './fulfilment';
import { MAX_ORDER_FEN, isPositiveFen, sumFen } from './money';
import { readObject, requireArray, requireInt, requireString } from './validate';

export interface Product {
  _id: string;
  name: string;
  priceFen: number;
  active: boolean;
  description?: string;
  /** How it reaches the buyer (issue 14); absent: physical goods sent by express. */
  fulfilment?: FulfilmentType;
}

export interface CartLine {
  productId: string;
  quantity: number;
}

export interface OrderItem {
  productId: string;
  name: string;
  priceFen: number;
  quantity: number;
}

export const CART_LIMITS = { minItems: 1, maxItems: 20, minQuantity: 1, maxQuantity: 99 } as const;
export const PRODUCT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** WeChat Pay v3 `description`: string[1,127]. */
export const DESCRIPTION_MAX_CHARS = 127;

/** Validates the `items` of a createPayment request; lines for the same product are merged. */
export function parseCart(items: unknown): CartLine[] {
  const list = requireArray({ items }, 'items', { min: CART_LIMITS.minItems, max: CART_LIMITS.maxItems });
  const merged = new Map<string, number>();
  list.forEach((raw, i) => {
    const line = readObject(raw, `items[${i}]`);
    const productId = requireString(line, 'productId', {
      max: 64,
      pattern: PRODUCT_ID_PATTERN,
      patternHint: '1–64 characters of [A-Za-z0-9_-]',
    });
    const quantity = requireInt(line, 'quantity', {
      min: CART_LIMITS.minQuantity,
      max: CART_LIMITS.maxQuantity,
    });
    merged.set(productId, (merged.get(productId) ?? 0) + quantity);
  });
  const lines: CartLine[] = [];
  for (const [productId, quantity] of merged) {
    if (quantity > CART_LIMITS.maxQuantity) {
      throw invalidArgument(
        `items: total quantity of ${productId} must not exceed ${CART_LIMITS.maxQuantity}, got ${quantity}`,
      );
    }
    lines.push({ productId, quantity });
  }
  return lines;
}

export interface PricedCart {
  items: OrderItem[];
  amountFen: number;
  description: string;
}

/** Prices validated cart lines against the catalog; unknown or inactive products are refused. */
export function priceCart(lines: readonly CartLine[], catalog: ReadonlyMap<string, Product>): PricedCart {
  const items: OrderItem[] = lines.map((line) => {
    const product = catalog.get(line.productId);
    if (!product || product.active !== true)
      throw invalidArgument(`product ${line.productId} is not available; refresh the catalog and try again`);
    if (!isPositiveFen(product.priceFen) || typeof product.name !== 'string' || product.name.trim() === '') {
      // A broken catalog entry must not be sold at whatever value it happens to hold.
      throw invalidArgument(`product ${line.productId} is not available (catalog entry is invalid)`);
    }
    return {
      productId: product._id,
      name: product.name,
      priceFen: product.priceFen,
      quantity: line.quantity,
    };
  });
  const amountFen = sumFen(items.map((it) => it.priceFen * it.quantity));
  if (amountFen > MAX_ORDER_FEN)
    throw invalidArgument(`order amount exceeds the limit of ${MAX_ORDER_FEN} fen; split the order`);
  return { items, amountFen, description: describeItems(items) };
}

function truncateChars(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max - 1).join('') + '…';
}

/**
 * The WeChat `description` shown on the payment sheet and the bill: product names with quantities,
 * or "<first name> 等N件商品" when they do not fit in 127 characters. Control characters are dropped.
 */
export function describeItems(items: readonly Pick<OrderItem, 'name' | 'quantity'>[]): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f]/gu, ' ').trim() || '商品';
  const full = items
    .map((it) => (it.quantity > 1 ? `${clean(it.name)}×${it.quantity}` : clean(it.name)))
    .join(', ');
  if (Array.from(full).length <= DESCRIPTION_MAX_CHARS) return full;
  const count = items.reduce((n, it) => n + it.quantity, 0);
  const suffix = ` 等${count}件商品`;
  return truncateChars(clean(items[0].name), DESCRIPTION_MAX_CHARS - suffix.length) + suffix;
}

/** Cuts UTF-8 text to at most `maxBytes` bytes without splitting a character (v2 `body` is 128 bytes). */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}
