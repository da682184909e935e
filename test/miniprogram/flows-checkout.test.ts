// The sample mini-program's checkout, run in Node against the real local stack through the wx
// adapter: pay, cancel, failure, the gap between the phone's success and the notification, and
// network failures with retries.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { add, emptyCart, totalFen } from '../../miniprogram/miniprogram/logic/cart';
import { ORDER_QUERY_INTERVAL_MS } from '../../shared/domain/rate-limit';
import { type MiniprogramStack, checkout, eventually, startMiniprogramStack } from './phone';

let stack: MiniprogramStack;
before(async () => {
  stack = await startMiniprogramStack();
});
after(() => stack?.close());

describe('checkout', () => {
  test('buy and pay: the order is confirmed paid for the cart total', async () => {
    const phone = await stack.newPhone();
    const items = [stack.catalog[0], stack.catalog[1], stack.catalog[1]];
    let cart = emptyCart();
    for (const p of items) cart = add(cart, p);
    const flow = checkout(phone, items);
    const state = await flow.pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    if (state.step !== 'paid') return;
    assert.equal(state.order.status, 'SUCCESS');
    assert.equal(state.order.amountFen, totalFen(cart), 'the server priced the cart as the page showed it');
    assert.ok(state.order.transactionId);
    assert.deepEqual(
      state.order.items.map((i) => [i.productId, i.quantity]),
      cart.lines.map((l) => [l.product.id, l.quantity]),
    );
    const creates = phone.adapter.calls.filter((c) => c.name === 'createPayment');
    assert.equal(creates.length, 1);
    assert.equal(creates[0]?.data.idempotencyKey, flow.idempotencyKey);
  });

  test('cancel: the order stays unpaid; paying again in the same checkout pays the same order', async () => {
    const phone = await stack.newPhone();
    const flow = checkout(phone, [stack.catalog[0]]);
    phone.adapter.payOutcome = 'cancel';
    const cancelled = await flow.pay();
    assert.equal(cancelled.step, 'cancelled');
    if (cancelled.step !== 'cancelled') return;
    assert.equal((await phone.services.api.getOrder(cancelled.orderId)).status, 'NOTPAY');
    phone.adapter.payOutcome = 'success';
    const paid = await flow.pay();
    assert.equal(paid.step, 'paid', JSON.stringify(paid));
    if (paid.step === 'paid') assert.equal(paid.order.orderId, cancelled.orderId, 'one checkout, one order');
  });

  test('paying an already paid checkout again reports it paid, not failed', async () => {
    const phone = await stack.newPhone();
    const flow = checkout(phone, [stack.catalog[0]]);
    const first = await flow.pay();
    assert.equal(first.step, 'paid', JSON.stringify(first));
    const again = await flow.pay();
    assert.equal(again.step, 'paid', JSON.stringify(again));
    if (first.step === 'paid' && again.step === 'paid')
      assert.equal(again.order.orderId, first.order.orderId);
    assert.equal((await phone.services.api.listOrders()).orders.length, 1);
  });

  test('too many checkouts in a minute: the page says how many seconds to wait, and no order is written', async () => {
    const phone = await stack.newPhone();
    phone.adapter.payOutcome = 'cancel';
    // 10 prepays a minute per user; 21 checkouts cannot all fit, even across a minute boundary.
    let limited: { code: string; message: string } | undefined;
    let started = 0;
    for (; started < 21 && !limited; started++) {
      const state = await checkout(phone, [stack.catalog[0]]).pay();
      if (state.step === 'failed') limited = state;
      else assert.equal(state.step, 'cancelled', JSON.stringify(state));
    }
    assert.ok(limited, 'a checkout was refused');
    assert.equal(limited.code, 'RATE_LIMITED');
    assert.match(limited.message, /^操作太频繁，请 \d+ 秒后再试$/);
    assert.ok(started >= 11, `refused after ${started - 1} checkouts`);
    const orders = (await phone.services.api.listOrders({ pageSize: 50 })).orders;
    assert.equal(orders.length, started - 1, 'the refused checkout wrote no order');
  });

  test('cancel then give up: the unpaid order is closed', async () => {
    const phone = await stack.newPhone();
    const flow = checkout(phone, [stack.catalog[0]]);
    phone.adapter.payOutcome = 'cancel';
    const cancelled = await flow.pay();
    assert.equal(cancelled.step, 'cancelled');
    const closed = await flow.abandon();
    assert.equal(closed?.status, 'CLOSED');
  });

  test('payment failure: reported with its message and the order is not paid', async () => {
    const phone = await stack.newPhone();
    const flow = checkout(phone, [stack.catalog[1]]);
    phone.adapter.payOutcome = 'fail';
    const state = await flow.pay();
    assert.equal(state.step, 'failed');
    if (state.step !== 'failed') return;
    assert.equal(state.code, 'PAYMENT_FAILED');
    assert.ok(state.orderId);
    assert.notEqual((await phone.services.api.getOrder(state.orderId)).status, 'SUCCESS');
  });

  test('notification delayed: orders.get confirms the payment before the notification arrives', async () => {
    const phone = await stack.newPhone();
    await stack.sim('POST', '/sim/faults', { target: 'notify', kind: 'delay', delayMs: 4000, count: 1 });
    const state = await checkout(phone, [stack.catalog[0]]).pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    if (state.step !== 'paid') return;
    const deliveriesAtConfirmation = (await stack.sim(
      'GET',
      `/sim/deliveries?outTradeNo=${state.order.orderId}`,
    )) as { state: string; attempts: unknown[] }[];
    assert.ok(
      deliveriesAtConfirmation.every((d) => d.state !== 'delivered'),
      `the notification had not been delivered yet: ${JSON.stringify(deliveriesAtConfirmation)}`,
    );
    // The late notification is applied as "already paid" and changes nothing.
    await eventually('the delayed notification', 15_000, async () => {
      const ds = (await stack.sim('GET', `/sim/deliveries?outTradeNo=${state.order.orderId}`)) as {
        state: string;
      }[];
      return ds.some((d) => d.state === 'delivered') ? true : undefined;
    });
    const after = await phone.services.api.getOrder(state.order.orderId);
    assert.equal(after.status, 'SUCCESS');
    assert.equal(after.amountFen, state.order.amountFen);
  });

  test('notification dropped: the payment is still confirmed by orders.get', async () => {
    const phone = await stack.newPhone();
    await stack.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1000 }); // every attempt
    try {
      const state = await checkout(phone, [stack.catalog[1]]).pay();
      assert.equal(state.step, 'paid', JSON.stringify(state));
      if (state.step !== 'paid') return;
      const deliveries = (await stack.sim('GET', `/sim/deliveries?outTradeNo=${state.order.orderId}`)) as {
        state: string;
      }[];
      assert.ok(
        deliveries.every((d) => d.state !== 'delivered'),
        'confirmed without any notification',
      );
    } finally {
      await stack.sim('DELETE', '/sim/faults');
    }
  });

  test('phone says paid, server cannot confirm yet: "confirming", then paid on a later check', async () => {
    const phone = await stack.newPhone();
    // No notification, and WeChat's order query failing: nothing can tell the server about the payment.
    await stack.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1000 });
    await stack.sim('POST', '/sim/faults', { target: 'query', kind: '5xx', count: 1000 });
    const flow = checkout(phone, [stack.catalog[0]], { attempts: 2, intervalMs: 100 });
    try {
      const state = await flow.pay();
      assert.equal(state.step, 'confirming', JSON.stringify(state));
      if (state.step !== 'confirming') return;
      // orders.get answers (a failing WeChat query leaves the order as stored) and still says unpaid;
      // a throwing orders.get is a failure here, not a pass.
      const order = await phone.services.api.getOrder(state.orderId);
      assert.equal(order.orderId, state.orderId);
      assert.equal(order.status, 'NOTPAY');
    } finally {
      await stack.sim('DELETE', '/sim/faults');
    }
    // WeChat is asked about an order at most once every 5 s; the check inside that interval above got
    // the stored order. The later check comes after it.
    await new Promise((r) => setTimeout(r, ORDER_QUERY_INTERVAL_MS));
    const later = await flow.confirm();
    assert.equal(later.step, 'paid', JSON.stringify(later));
  });

  test('network error with retry: a lost createPayment answer does not create a second order', async () => {
    const phone = await stack.newPhone();
    await phone.services.auth.signIn();
    phone.adapter.failNextCalls(1, 'after'); // createPayment runs, its answer is lost
    const flow = checkout(phone, [stack.catalog[0]]);
    const state = await flow.pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    const creates = phone.adapter.calls.filter((c) => c.name === 'createPayment');
    assert.equal(creates.length, 2, 'retried once');
    assert.ok(creates[0]?.failure && !creates[1]?.failure);
    assert.deepEqual(
      (creates[0]?.result as any)?.data?.orderId,
      (creates[1]?.result as any)?.data?.orderId,
      'the retry found the same order',
    );
    const list = await phone.services.api.listOrders();
    assert.equal(list.orders.length, 1);
  });

  test('network error that outlasts the retries: the user gets the network message, then can try again', async () => {
    const phone = await stack.newPhone();
    await phone.services.auth.signIn();
    phone.adapter.failNextCalls(3, 'before');
    const flow = checkout(phone, [stack.catalog[0]]);
    const failed = await flow.pay();
    assert.equal(failed.step, 'failed');
    if (failed.step === 'failed') assert.equal(failed.code, 'NETWORK');
    assert.equal((await flow.pay()).step, 'paid');
  });
});
