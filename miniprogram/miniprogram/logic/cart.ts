// The cart is a plain value: every operation returns a new cart, so a page can keep it in `data`.
import type { CartItem } from '../types/api';
import type { Product } from './catalog';

/** Limits of createPayment (docs/product.md#createpayment); checked here so users see them before paying. */
export const MAX_LINES = 20;
export const MAX_QUANTITY = 99;

export interface CartLine {
  product: Product;
  quantity: number;
}

export interface Cart {
  lines: CartLine[];
}

export const emptyCart = (): Cart => ({ lines: [] });

export function setQuantity(cart: Cart, product: Product, quantity: number): Cart {
  const q = Math.max(0, Math.min(MAX_QUANTITY, Math.floor(quantity)));
  const rest = cart.lines.filter((l) => l.product.id !== product.id);
  if (q === 0) return { lines: rest };
  const index = cart.lines.findIndex((l) => l.product.id === product.id);
  if (index === -1) {
    if (cart.lines.length >= MAX_LINES) return cart;
    return { lines: [...cart.lines, { product, quantity: q }] };
  }
  const lines = cart.lines.slice();
  lines[index] = { product, quantity: q };
  return { lines };
}

export function add(cart: Cart, product: Product, by = 1): Cart {
  const current = cart.lines.find((l) => l.product.id === product.id)?.quantity ?? 0;
  return setQuantity(cart, product, current + by);
}

/** Display total; the charged amount is the one createPayment returns. */
export function totalFen(cart: Cart): number {
  return cart.lines.reduce((sum, l) => sum + l.product.priceFen * l.quantity, 0);
}

export function toCartItems(cart: Cart): CartItem[] {
  return cart.lines.map((l) => ({ productId: l.product.id, quantity: l.quantity }));
}
