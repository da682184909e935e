// reconcile decides against the real emulator and a fake WeChat: what it checks, what it changes,
// and that one failing item does not stop the rest.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FulfilledOrder } from '../domain/fulfilment';
import { PREPAY_LIFETIME_MS } from '../domain/order';
import { WxpayUnavailableError } from '../wxpay/errors';
import { createPayment } from './payments';
import { reconcile } from './reconcile';
import { requestRefund } from './refunds';
import { newOpenid, startBench, type Bench } from './testing/harness';

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

type Deps = ReturnType<Bench['deps']>;
const MINUTE = 60_000;

async function order(deps: Deps, createdAt: Date, openid = newOpenid()) {
  const r = await createPayment(deps, { openid, items: [{ productId: 'tea', quantity: 1 }], now: createdAt });
  return r.orderId;
}

describe('reconcile', () => {
  it('pays what WeChat says is paid, closes what expired, leaves young and open orders alone', async () => {
    const deps = bench.deps();
    // Runs far in the future so that orders of other tests in this file are not stale for it.
    const now = new Date(Date.now() + 1000 * 24 * 3600_000);
    const paidAtWechat = await order(deps, new Date(now.getTime() - 10 * MINUTE));
    const expired = await order(deps, new Date(now.getTime() - PREPAY_LIFETIME_MS - MINUTE));
    const open = await order(deps, new Date(now.getTime() - 10 * MINUTE));
    const young = await order(deps, new Date(now.getTime() - MINUTE));
    deps.gateway.pay(paidAtWechat);
    deps.gateway.pay(young);

    const report = await reconcile(deps, now);
    assert.deepEqual(
      {
        checked: report.ordersChecked,
        paid: report.ordersPaid,
        closed: report.ordersClosed,
        errors: report.errors,
      },
      { checked: 3, paid: 1, closed: 1, errors: 0 },
    );
    const status = async (id: string) => (await deps.orders.get(id))?.status;
    assert.equal(await status(paidAtWechat), 'SUCCESS');
    assert.equal(await status(expired), 'CLOSED');
    assert.equal(deps.gateway.trades.get(expired)?.state, 'CLOSED', 'closed at WeChat first');
    assert.equal(await status(open), 'NOTPAY');
    assert.equal(await status(young), 'NOTPAY', 'younger than the minimum age: left to its notification');
    assert.deepEqual(
      deps.gateway.callsOf('queryTrade').sort(),
      [paidAtWechat, expired, open].map((id) => `queryTrade ${id}`).sort(),
    );

    const again = await reconcile(deps, now);
    assert.deepEqual([again.ordersChecked, again.ordersPaid, again.ordersClosed], [1, 0, 0], 'idempotent');
  });

  it('finishes refunds WeChat finished, and one failing item does not stop the others', async () => {
    const deps = bench.deps();
    const now = new Date(Date.now() + 2000 * 24 * 3600_000);
    const created = new Date(now.getTime() - 10 * MINUTE);
    const openid = newOpenid();
    const ids = [await order(deps, created, openid), await order(deps, created, openid)];
    for (const id of ids) deps.gateway.pay(id, created);
    const first = await reconcile(deps, now);
    assert.equal(first.ordersPaid, 2);

    const refunds = [];
    for (const id of ids)
      refunds.push(
        await requestRefund(deps, {
          orderId: id,
          requester: { openid, isAdmin: false },
          windowHours: 168,
          now: created,
        }),
      );
    for (const r of refunds) deps.gateway.finishRefund(r.refundId);
    deps.gateway.failNext('queryRefund', new WxpayUnavailableError('timed out', 'timeout'));

    const report = await reconcile(deps, now);
    assert.deepEqual([report.refundsChecked, report.refundsFinished, report.errors], [2, 1, 1]);
    assert.match(deps.log.lines.join('\n'), /^error refund \S+ error="WxpayUnavailableError/m);
    const healed = await reconcile(deps, now);
    assert.deepEqual([healed.refundsChecked, healed.refundsFinished, healed.errors], [1, 1, 0]);
    for (const id of ids) assert.equal((await deps.orders.get(id))?.status, 'REFUNDED');
  });
});

describe('reconcile and virtual goods', () => {
  it('uploads the shipping of paid virtual orders whose upload failed, once, right after the failure', async () => {
    const deps = bench.deps();
    const now = new Date(Date.now() + 3000 * 24 * 3600_000);
    const created = new Date(now.getTime() - 10 * MINUTE);
    const r = await createPayment(deps, {
      openid: newOpenid(),
      items: [{ productId: 'ebook', quantity: 1 }],
      now: created,
    });
    deps.gateway.pay(r.orderId, created);
    const uploads: string[] = [];
    let failures = 1;
    const withShipping = {
      ...deps,
      fulfilment: {
        db: bench.db,
        orders: deps.orders,
        log: deps.log,
        mchid: '1900000109',
        // WeChat's shipping API: down for the first call (the one in the paying invocation).
        callOpenApi: (name: string, body: Record<string, unknown>) => {
          if (name !== 'uploadShippingInfo')
            return Promise.resolve({ errcode: 0, order: { order_state: 1 } });
          if (failures-- > 0) return Promise.reject(new Error('WeChat answered 500'));
          uploads.push(String((body.order_key as { out_trade_no: string }).out_trade_no));
          return Promise.resolve({ errcode: 0 });
        },
      },
    };
    const report = await reconcile(withShipping, now);
    assert.equal(report.ordersPaid, 1);
    assert.ok(report.shippingChecked >= 1, JSON.stringify(report));
    assert.deepEqual(uploads, [r.orderId], 'the failed claim was released, so the retry ran in the same run');
    assert.equal(report.shippingUploaded, 1);
    const again = await reconcile(withShipping, now);
    assert.deepEqual([again.shippingUploaded, uploads.length], [0, 1], 'idempotent');
    const order = (await deps.orders.get(r.orderId)) as FulfilledOrder;
    assert.equal(order.fulfilment?.status, 'SHIPPED');
  });
});
