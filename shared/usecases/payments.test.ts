// createPayment, confirmOrder and closeOrder decide against the real emulator and a fake WeChat.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../domain/errors';
import type { FulfilledOrder } from '../domain/fulfilment';
import { PREPAY_LIFETIME_MS } from '../domain/order';
import { WxpayUnavailableError } from '../wxpay/errors';
import type { FulfilmentDeps } from './fulfilment';
import { applyPayment, closeOrder, confirmOrder, createPayment, idempotentOrderId } from './payments';
import { newOpenid, startBench, type Bench } from './testing/harness';
import { orderView } from './views';

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

const TEA = [{ productId: 'tea', quantity: 2 }];
const CAKE = [{ productId: 'cake', quantity: 1 }];
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'resolved';
}

describe('createPayment', () => {
  it('prices from the catalog, writes the order before WeChat, and prepays until the order ends', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const r = await createPayment(deps, { openid, items: [...TEA, ...CAKE], now });
    assert.equal(r.amountFen, 2 * 1200 + 2550);
    const order = await deps.orders.get(r.orderId);
    assert.equal(order?.status, 'NOTPAY');
    assert.equal(order?.amountFen, 4950);
    const trade = deps.gateway.trades.get(r.orderId);
    assert.equal(trade?.amountFen, 4950);
    assert.equal(trade?.expiresAt.getTime(), now.getTime() + PREPAY_LIFETIME_MS);
    assert.equal(order?.prepayId, trade?.prepayId);
    assert.equal(r.payment.package, `prepay_id=${trade?.prepayId}`);
  });

  it('same key and cart → the same order and prepay, asked of WeChat once', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const first = await createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-same-cart', now });
    const again = await createPayment(deps, {
      openid,
      items: TEA,
      idempotencyKey: 'key-same-cart',
      now: at(now, 60_000),
    });
    assert.equal(again.orderId, first.orderId);
    assert.equal(first.orderId, idempotentOrderId(openid, 'key-same-cart'));
    assert.deepEqual(again.payment, first.payment);
    assert.equal(deps.gateway.callsOf('prepay').length, 1);
    // the same key from another user is another order
    const other = await createPayment(deps, {
      openid: newOpenid(),
      items: TEA,
      idempotencyKey: 'key-same-cart',
      now,
    });
    assert.notEqual(other.orderId, first.orderId);
  });

  it('concurrent first calls with one key race on one insert and end on one order', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-race', now }),
      ),
    );
    assert.deepEqual(
      new Set(results.map((r) => r.orderId)),
      new Set([idempotentOrderId(openid, 'key-race')]),
    );
    assert.equal((await deps.orders.list(openid, 10)).orders.length, 1);
    assert.equal(new Set(results.map((r) => r.payment.package)).size, 1, 'one prepay id for everyone');
  });

  it('same key, different cart → CONFLICT, and nothing is written', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const first = await createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-other-cart', now });
    const before = await deps.orders.get(first.orderId);
    assert.match(
      await codeOf(createPayment(deps, { openid, items: CAKE, idempotencyKey: 'key-other-cart', now })),
      /^CONFLICT: idempotencyKey was already used for a different cart/,
    );
    assert.deepEqual(await deps.orders.get(first.orderId), before);
    assert.equal(deps.gateway.callsOf('prepay').length, 1);
    // The same products in another quantity, or one more line, are a different cart too.
    for (const items of [[{ productId: 'tea', quantity: 3 }], [...TEA, { productId: 'cake', quantity: 1 }]]) {
      assert.match(
        await codeOf(createPayment(deps, { openid, items, idempotencyKey: 'key-other-cart', now })),
        /^CONFLICT: idempotencyKey was already used for a different cart/,
        JSON.stringify(items),
      );
    }
    assert.deepEqual(await deps.orders.get(first.orderId), before);
  });

  it('a keyed order is payable until its prepay expires, then CONFLICT (no renewal)', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const first = await createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-expiry', now });
    const lastMoment = at(now, PREPAY_LIFETIME_MS - 1);
    const late = await createPayment(deps, {
      openid,
      items: TEA,
      idempotencyKey: 'key-expiry',
      now: lastMoment,
    });
    assert.equal(late.orderId, first.orderId);
    assert.deepEqual(late.payment, first.payment, 'the stored prepay is reused up to its time_expire');
    assert.match(
      await codeOf(
        createPayment(deps, {
          openid,
          items: TEA,
          idempotencyKey: 'key-expiry',
          now: at(now, PREPAY_LIFETIME_MS),
        }),
      ),
      /^CONFLICT: .*closed or expired; generate a new key/,
    );
    assert.equal(deps.gateway.callsOf('prepay').length, 1);
  });

  it('a closed or paid keyed order answers CONFLICT', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const closed = await createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-closed', now });
    await closeOrder(deps, (await deps.orders.get(closed.orderId))!, now);
    assert.match(
      await codeOf(createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-closed', now })),
      /^CONFLICT: .*closed or expired/,
    );
    const paid = await createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-paid', now });
    deps.gateway.pay(paid.orderId);
    await confirmOrder(deps, (await deps.orders.get(paid.orderId))!, now);
    assert.match(
      await codeOf(createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-paid', now })),
      /^CONFLICT: .*already paid/,
    );
  });

  it('a prepay that failed leaves the order; the retry with the same key completes it', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    deps.gateway.failNext('prepay', new WxpayUnavailableError('timed out', 'timeout'));
    await assert.rejects(
      createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-retry', now }),
      WxpayUnavailableError,
    );
    const id = idempotentOrderId(openid, 'key-retry');
    const stored = await deps.orders.get(id);
    assert.equal(stored?.status, 'NOTPAY');
    assert.equal(stored?.prepayId, undefined);
    const retry = await createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-retry', now });
    assert.equal(retry.orderId, id);
    assert.equal((await deps.orders.get(id))?.prepayId, deps.gateway.trades.get(id)?.prepayId);
  });

  it('an order closed while its prepay is in flight gets no payment parameters; the prepay is closed', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const prepay = deps.gateway.prepay.bind(deps.gateway);
    // orders.close runs between our insert and WeChat's prepay: WeChat has nothing to close yet.
    deps.gateway.prepay = async (input) => {
      const order = (await deps.orders.get(input.outTradeNo))!;
      assert.equal((await closeOrder(deps, order, now)).status, 'CLOSED');
      return prepay(input);
    };
    const id = idempotentOrderId(openid, 'key-close-race');
    assert.match(
      await codeOf(createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-close-race', now })),
      /^CONFLICT: order .* was closed while its payment was being prepared; start a new purchase/,
    );
    const stored = await deps.orders.get(id);
    assert.equal(stored?.status, 'CLOSED');
    assert.equal(stored?.prepayId, undefined);
    assert.equal(deps.gateway.trades.get(id)?.state, 'CLOSED', 'the just-created prepay is closed');
  });

  it('rejects a product that is not on sale, before anything is written', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    assert.match(
      await codeOf(
        createPayment(deps, { openid, items: [{ productId: 'gone', quantity: 1 }], now: new Date() }),
      ),
      /^INVALID_ARGUMENT: product gone is not available/,
    );
    assert.deepEqual((await deps.orders.list(openid, 5)).orders, []);
    assert.deepEqual(deps.gateway.calls, []);
  });
});

describe('confirmOrder and closeOrder', () => {
  it('applies a payment WeChat reports, and leaves the order when WeChat is unreachable', async () => {
    const deps = bench.deps();
    const now = new Date();
    const r = await createPayment(deps, { openid: newOpenid(), items: TEA, now });
    deps.gateway.pay(r.orderId);
    deps.gateway.failNext('queryTrade', new WxpayUnavailableError('timed out', 'timeout'));
    const unreachable = await confirmOrder(deps, (await deps.orders.get(r.orderId))!, now);
    assert.equal(unreachable.status, 'NOTPAY');
    assert.match(deps.log.lines.join('\n'), /query of .* failed error=WxpayUnavailableError/);
    const paid = await confirmOrder(deps, unreachable, now);
    assert.equal(paid.status, 'SUCCESS');
    assert.equal(paid.transactionId, deps.gateway.trades.get(r.orderId)?.transactionId);
  });

  it('closes an expired unpaid order at WeChat and here only when asked to', async () => {
    const deps = bench.deps();
    const now = new Date();
    const r = await createPayment(deps, { openid: newOpenid(), items: TEA, now });
    const order = (await deps.orders.get(r.orderId))!;
    assert.equal((await confirmOrder(deps, order, at(now, PREPAY_LIFETIME_MS + 1))).status, 'NOTPAY');
    assert.equal(
      (await confirmOrder(deps, order, at(now, 60_000), { closeIfExpired: true })).status,
      'NOTPAY',
    );
    const closed = await confirmOrder(deps, order, at(now, PREPAY_LIFETIME_MS + 1), { closeIfExpired: true });
    assert.equal(closed.status, 'CLOSED');
    assert.equal(deps.gateway.trades.get(r.orderId)?.state, 'CLOSED');
  });

  it('closing an order the payer has just paid answers CONFLICT and records the payment', async () => {
    const deps = bench.deps();
    const now = new Date();
    const r = await createPayment(deps, { openid: newOpenid(), items: TEA, now });
    deps.gateway.pay(r.orderId);
    assert.match(
      await codeOf(closeOrder(deps, (await deps.orders.get(r.orderId))!, now)),
      /^CONFLICT: .*was paid before it could be closed/,
    );
    assert.equal((await deps.orders.get(r.orderId))?.status, 'SUCCESS');
    assert.match(
      await codeOf(closeOrder(deps, (await deps.orders.get(r.orderId))!, now)),
      /^CONFLICT: .*is SUCCESS/,
    );
  });
});

describe('fulfilment on orders', () => {
  const view = async (deps: ReturnType<Bench['deps']>, id: string) =>
    orderView((await deps.orders.get(id)) as FulfilledOrder).fulfilment;

  it('createPayment records how the cart is fulfilled, and the order views show it', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const now = new Date();
    const ebook = await createPayment(deps, { openid, items: [{ productId: 'ebook', quantity: 2 }], now });
    assert.deepEqual(await view(deps, ebook.orderId), { type: 'virtual', status: 'PENDING' });
    const stored = (await deps.orders.get(ebook.orderId)) as FulfilledOrder;
    assert.deepEqual(stored.fulfilment, { type: 'virtual', status: 'PENDING', uploads: 0 });
    const mixed = await createPayment(deps, {
      openid,
      items: [{ productId: 'ebook', quantity: 1 }, ...TEA],
      now,
    });
    assert.deepEqual(await view(deps, mixed.orderId), { type: 'express', status: 'PENDING' });
    const pizza = await createPayment(deps, {
      openid,
      items: [
        { productId: 'pizza', quantity: 1 },
        { productId: 'ebook', quantity: 1 },
      ],
      now,
    });
    assert.equal((await view(deps, pizza.orderId)).type, 'local-delivery');
  });

  it('a cart mixing two physical fulfilments, or a catalog entry with an unknown one, is refused and writes nothing', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    assert.match(
      await codeOf(
        createPayment(deps, {
          openid,
          items: [...TEA, { productId: 'pizza', quantity: 1 }],
          idempotencyKey: 'key-mixed-cart',
          now: new Date(),
        }),
      ),
      /^INVALID_ARGUMENT: the cart mixes goods fulfilled as express and local-delivery; .*separate orders/,
    );
    assert.match(
      await codeOf(
        createPayment(deps, { openid, items: [{ productId: 'drone', quantity: 1 }], now: new Date() }),
      ),
      /^INVALID_ARGUMENT: product drone is not available \(its catalog entry's fulfilment must be one of/,
    );
    assert.deepEqual((await deps.orders.list(openid, 5)).orders, []);
    assert.equal(await deps.orders.get(idempotentOrderId(openid, 'key-mixed-cart')), undefined);
    assert.deepEqual(deps.gateway.calls, []);
  });

  /** WeChat's shipping API as a recording fake (the simulator's is exercised in fulfilment.test.ts). */
  function shippingApi(deps: ReturnType<Bench['deps']>, fail = 0) {
    const calls: string[] = [];
    const fulfilment: FulfilmentDeps = {
      db: bench.db,
      orders: deps.orders,
      log: deps.log,
      mchid: '1900000109',
      callOpenApi: (name, body) => {
        calls.push(`${name} ${(body.order_key as { out_trade_no?: string } | undefined)?.out_trade_no}`);
        if (fail-- > 0) return Promise.reject(new Error('WeChat answered 500'));
        return Promise.resolve({ errcode: 0 });
      },
    };
    return { calls, deps: { ...deps, fulfilment } };
  }

  it('the invocation that makes a virtual order SUCCESS uploads its shipping once; physical goods wait for ship', async () => {
    const api = shippingApi(bench.deps());
    const now = new Date();
    const openid = newOpenid();
    const ebook = await createPayment(api.deps, {
      openid,
      items: [{ productId: 'ebook', quantity: 1 }],
      now,
    });
    const tea = await createPayment(api.deps, { openid, items: TEA, now });
    const facts = api.deps.gateway.pay(ebook.orderId);
    api.deps.gateway.pay(tea.orderId);
    const paid = await confirmOrder(api.deps, (await api.deps.orders.get(ebook.orderId))!, now);
    assert.equal(paid.status, 'SUCCESS');
    assert.deepEqual(api.calls, [`uploadShippingInfo ${ebook.orderId}`]);
    assert.equal((await view(api.deps, ebook.orderId)).status, 'SHIPPED');
    // Confirming again, or applying the same payment from a notification, changes and uploads nothing.
    await confirmOrder(api.deps, paid, now);
    assert.equal((await applyPayment(api.deps, ebook.orderId, facts, now)).outcome, 'already');
    assert.equal(api.calls.length, 1);
    await confirmOrder(api.deps, (await api.deps.orders.get(tea.orderId))!, now);
    assert.equal((await api.deps.orders.get(tea.orderId))?.status, 'SUCCESS');
    assert.equal(api.calls.length, 1, 'express goods are uploaded by ship');
  });

  it('a failed upload never fails or undoes the payment; it is left for reconcile', async () => {
    const api = shippingApi(bench.deps(), 1);
    const now = new Date();
    const r = await createPayment(api.deps, {
      openid: newOpenid(),
      items: [{ productId: 'ebook', quantity: 1 }],
      now,
    });
    api.deps.gateway.pay(r.orderId);
    const paid = await confirmOrder(api.deps, (await api.deps.orders.get(r.orderId))!, now);
    assert.equal(paid.status, 'SUCCESS');
    assert.equal(api.calls.length, 1);
    assert.equal((await view(api.deps, r.orderId)).status, 'PENDING');
    assert.match(
      api.deps.log.lines.join('\n'),
      /virtual shipping upload of \S+ failed .*reconcile retries it/,
    );
    assert.ok(!api.deps.log.lines.join('\n').includes('1900000109'), 'no merchant data in the log line');
  });
});
