// Pure pieces of the mini-program: money display, the cart, idempotency keys, backoff, labels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newIdempotencyKey } from '../../miniprogram/miniprogram/lib/idempotency';
import { formatPrice, formatYuan } from '../../miniprogram/miniprogram/lib/money';
import { backoffDelay } from '../../miniprogram/miniprogram/lib/retry';
import {
  MAX_LINES,
  MAX_QUANTITY,
  add,
  emptyCart,
  setQuantity,
  toCartItems,
  totalFen,
} from '../../miniprogram/miniprogram/logic/cart';
import { toProduct } from '../../miniprogram/miniprogram/logic/catalog';

test('fen are formatted as yuan without floating point', () => {
  const cases: [number, string][] = [
    [0, '0.00'],
    [1, '0.01'],
    [10, '0.10'],
    [199, '1.99'],
    [123456789, '1234567.89'],
    [-50, '-0.50'],
  ];
  for (const [fen, yuan] of cases) assert.equal(formatYuan(fen), yuan);
  assert.equal(formatPrice(1), '¥0.01');
  assert.throws(() => formatYuan(0.5), RangeError);
});

test('cart: add, set, remove, limits and the items sent to createPayment', () => {
  const a = toProduct({ _id: 'p_a', name: 'A', priceFen: 1, active: true })!;
  const b = toProduct({ _id: 'p_b', name: 'B', priceFen: 250 })!;
  let cart = add(add(add(emptyCart(), a), a), b);
  assert.equal(totalFen(cart), 2 * 1 + 250);
  assert.deepEqual(toCartItems(cart), [
    { productId: 'p_a', quantity: 2 },
    { productId: 'p_b', quantity: 1 },
  ]);
  cart = setQuantity(cart, a, 1000);
  assert.equal(cart.lines[0]?.quantity, MAX_QUANTITY);
  cart = setQuantity(cart, a, 0);
  assert.deepEqual(toCartItems(cart), [{ productId: 'p_b', quantity: 1 }]);
  let full = emptyCart();
  for (let i = 0; i < MAX_LINES + 3; i++) full = add(full, { id: `p${i}`, name: `P${i}`, priceFen: 1 });
  assert.equal(full.lines.length, MAX_LINES);
});

test('catalog documents that are not sellable products are skipped', () => {
  assert.equal(toProduct({ _id: 'x', name: 'bad price', priceFen: 1.5 }), null);
  assert.equal(toProduct({ _id: 'x', name: 'free', priceFen: 0 }), null);
  assert.equal(toProduct({ name: 'no id', priceFen: 1 }), null);
  assert.deepEqual(toProduct({ _id: 'x', name: 'ok', priceFen: 1, description: 'd' }), {
    id: 'x',
    name: 'ok',
    priceFen: 1,
    description: 'd',
  });
});

test('idempotency keys are well-formed and distinct', () => {
  const keys = new Set(Array.from({ length: 1000 }, () => newIdempotencyKey()));
  assert.equal(keys.size, 1000);
  for (const key of keys) assert.match(key, /^ck_[0-9a-z]{24}$/);
});

test('backoff grows exponentially, is capped and jittered into [50%, 100%]', () => {
  const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 1)),
    [100, 200, 400, 800, 1000],
  );
  assert.equal(
    backoffDelay(policy, 3, () => 0),
    200,
  );
});
