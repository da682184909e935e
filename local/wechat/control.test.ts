// The in-process event stream for the console, the read-only listings, reset, and control errors.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, startReceiver, waitUntil, type Receiver, type SimHarness } from './testing';

let h: SimHarness;
let rx: Receiver;

before(async () => {
  h = await startHarness({ timeScale: 1000, refundDelayMs: 1000 });
  rx = await startReceiver();
});
after(async () => {
  await rx.close();
  await h.close();
});

test('events: user, order (each state), refund, delivery and attempt are emitted live', async () => {
  const seen: Array<[string, any]> = [];
  for (const name of ['user', 'order', 'refund', 'delivery', 'attempt'])
    h.handle.events.on(name, (e) => seen.push([name, e]));
  const openid = await h.user();
  const no = `EV${Date.now()}`;
  await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: 'ev',
    out_trade_no: no,
    notify_url: rx.url,
    amount: { total: 9 },
    payer: { openid },
  });
  await h.sim('POST', '/sim/pay-order', { outTradeNo: no });
  await h.v3('POST', '/v3/refund/domestic/refunds', {
    out_trade_no: no,
    out_refund_no: `${no}R`,
    notify_url: rx.url,
    amount: { refund: 9, total: 9, currency: 'CNY' },
  });
  await waitUntil(() => seen.filter(([n, e]) => n === 'delivery' && e.state === 'delivered').length === 2);
  const names = new Set(seen.map(([n]) => n));
  assert.deepEqual(names, new Set(['user', 'order', 'refund', 'delivery', 'attempt']));
  assert.equal(seen.find(([n]) => n === 'user')![1].openid, openid);
  const orderStates = seen.filter(([n]) => n === 'order').map(([, e]) => e.tradeState);
  assert.deepEqual([...new Set(orderStates)], ['NOTPAY', 'SUCCESS', 'REFUND']);
  assert.deepEqual(
    seen.filter(([n]) => n === 'refund').map(([, e]) => e.status),
    ['PROCESSING', 'SUCCESS'],
  );
  const attempt = seen.find(([n]) => n === 'attempt')![1];
  assert.equal(attempt.outTradeNo, no);
  assert.equal(attempt.status, 204);
  assert.ok(attempt.deliveryId);
  for (const name of ['user', 'order', 'refund', 'delivery', 'attempt'])
    h.handle.events.removeAllListeners(name);
});

test('listings, filters, reset, and readable control errors', async () => {
  const orders = (await h.sim('GET', '/sim/orders')).json;
  assert.ok(orders.length >= 1);
  assert.deepEqual(Object.keys(orders[0]).sort().slice(0, 4), [
    'apiVersion',
    'appid',
    'createdAt',
    'currency',
  ]);
  assert.equal(
    (await h.sim('GET', `/sim/orders?openid=${orders[0].openid}`)).json.length,
    orders.filter((o: any) => o.openid === orders[0].openid).length,
  );
  assert.equal(
    (await h.sim('GET', `/sim/refunds?outTradeNo=${orders[0].outTradeNo}`)).json[0].status,
    'SUCCESS',
  );
  assert.equal((await h.sim('GET', '/sim/users')).json.length, 1);
  assert.equal((await h.sim('GET', '/sim/health')).json.ok, true);
  const d = (await h.sim('GET', '/sim/deliveries')).json[0];
  assert.equal((await h.sim('GET', `/sim/deliveries/${d.id}`)).json.id, d.id);

  assert.equal((await h.sim('POST', '/sim/users', { appid: 42 })).status, 400);
  assert.equal((await h.sim('POST', '/sim/pay-order', { outTradeNo: 'nope00' })).status, 404);
  assert.equal(
    (await h.sim('POST', '/sim/pay-order', { outTradeNo: orders[0].outTradeNo, outcome: 'maybe' })).status,
    400,
  );
  assert.equal((await h.sim('POST', '/sim/clock', { timeScale: -1 })).status, 400);
  assert.equal((await h.sim('POST', '/sim/clock', { advanceSeconds: 'x' })).status, 400);
  const malformed = await fetch(`${h.url}/sim/users`, { method: 'POST', body: '[1,2' });
  assert.equal(malformed.status, 400);
  assert.equal((await h.sim('GET', '/sim/nothing')).status, 404);
  assert.equal((await h.sim('PUT', '/sim/users')).status, 405);

  assert.equal((await h.sim('POST', '/sim/reset')).status, 200);
  for (const path of ['/sim/orders', '/sim/refunds', '/sim/users', '/sim/deliveries', '/sim/faults'])
    assert.deepEqual((await h.sim('GET', path)).json, [], path);
});

test('the ledger: per order state, amount, payer, transaction id and refund sums; per refund state, amount, order; call counts', async () => {
  // WeChat-time completion far away: refunds stay PROCESSING until completed by hand.
  const h = await startHarness({ refundDelayMs: 3_600_000 });
  try {
    const openid = await h.user();
    const no = `LD${Date.now()}`;
    const unpaid = `${no}U`;
    for (const outTradeNo of [no, unpaid]) {
      await h.v3('POST', '/v3/pay/transactions/jsapi', {
        appid: h.env.WX_APPID,
        mchid: h.env.WXPAY_MCHID,
        description: 'ledger',
        out_trade_no: outTradeNo,
        notify_url: rx.url,
        amount: { total: 100 },
        payer: { openid },
      });
    }
    await h.sim('POST', '/sim/pay-order', { outTradeNo: no });
    await h.sim('POST', '/sim/faults', { target: 'refund', kind: 'notEnough' });
    const refused = await h.v3('POST', '/v3/refund/domestic/refunds', {
      out_trade_no: no,
      out_refund_no: `${no}R0`,
      amount: { refund: 10, total: 100, currency: 'CNY' },
    });
    assert.equal(refused.status, 403, 'a refused refund is not in the ledger');
    for (const [i, refund] of [30, 20].entries()) {
      await h.v3('POST', '/v3/refund/domestic/refunds', {
        out_trade_no: no,
        out_refund_no: `${no}R${i + 1}`,
        amount: { refund, total: 100, currency: 'CNY' },
      });
    }
    await h.sim('POST', `/sim/refunds/${no}R1/complete`, { status: 'SUCCESS' });

    const [paid] = (await h.sim('GET', `/sim/orders?outTradeNo=${no}`)).json;
    assert.equal(paid.outTradeNo, no);
    assert.equal(paid.paid, true);
    assert.equal(paid.tradeState, 'REFUND');
    assert.equal(paid.total, 100);
    assert.equal(paid.openid, openid);
    assert.match(paid.transactionId, /^\d{28}$/);
    assert.equal(paid.refunded, 30);
    assert.equal(paid.refunding, 20);
    const [open] = (await h.sim('GET', `/sim/orders?outTradeNo=${unpaid}`)).json;
    assert.equal(open.paid, false);
    assert.equal(open.tradeState, 'NOTPAY');
    assert.equal(open.transactionId, undefined);
    assert.equal(open.refunded + open.refunding, 0);

    const refunds = (await h.sim('GET', `/sim/refunds?outTradeNo=${no}`)).json as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(refunds.map((r) => [r.outRefundNo, r.status, r.amount, r.outTradeNo, r.mchid]).sort(), [
      [`${no}R1`, 'SUCCESS', 30, no, h.env.WXPAY_MCHID],
      [`${no}R2`, 'PROCESSING', 20, no, h.env.WXPAY_MCHID],
    ]);

    // Every API request is counted per target, refused ones included; reset clears the counts.
    const stats = (await h.sim('GET', '/sim/stats')).json;
    assert.deepEqual(stats.apiCalls, { jsapi: 2, refund: 3 });
    await h.sim('POST', '/sim/reset');
    assert.deepEqual((await h.sim('GET', '/sim/stats')).json, { stableTokens: 0, openapi: {}, apiCalls: {} });
  } finally {
    await h.close();
  }
});
