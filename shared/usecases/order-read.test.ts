// orders.get's use case against the real emulator and a fake WeChat: one WeChat query per order every
// 5 s, the stored order in between, and a refund that ended before its order was updated settled.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { finishRefund } from '../domain/refund';
import { readOrder } from './order-read';
import { confirmOrder, createPayment } from './payments';
import { requestRefund } from './refunds';
import { newOpenid, startBench, type Bench } from './testing/harness';

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

const T0 = new Date(Date.UTC(2026, 10, 30, 12, 0, 0));
const at = (ms: number) => new Date(T0.getTime() + ms);

describe('readOrder', () => {
  it('asks WeChat about an unpaid order at most once every 5 s and answers from the store in between', async () => {
    const deps = bench.deps();
    const r = await createPayment(deps, {
      openid: newOpenid(),
      items: [{ productId: 'tea', quantity: 1 }],
      now: at(0),
    });
    const read = async (ms: number) =>
      (await readOrder(deps, (await deps.orders.get(r.orderId))!, at(ms))).order;
    assert.equal((await read(1000)).status, 'NOTPAY');
    deps.gateway.pay(r.orderId, at(1500)); // paid, and no notification arrives
    assert.equal((await read(2000)).status, 'NOTPAY', 'inside the interval: the stored order');
    assert.equal((await read(5999)).status, 'NOTPAY');
    assert.equal(deps.gateway.callsOf('queryTrade').length, 1);
    assert.equal((await read(6000)).status, 'SUCCESS', 'after it: asked, and the payment applied');
    assert.equal(deps.gateway.callsOf('queryTrade').length, 2);
    await read(7000);
    assert.equal(deps.gateway.callsOf('queryTrade').length, 2, 'a paid order is not asked about');
  });

  it('settles a refund that ended before its order was updated, so the order shows it refunded', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const r = await createPayment(deps, { openid, items: [{ productId: 'tea', quantity: 1 }], now: at(0) });
    deps.gateway.pay(r.orderId, at(0));
    const paid = await confirmOrder(deps, (await deps.orders.get(r.orderId))!, at(0));
    const refund = await requestRefund(deps, {
      orderId: r.orderId,
      requester: { openid, isAdmin: false },
      windowHours: 168,
      now: at(1000),
    });
    // The notification's first write only (its process died before the second): the refund is final.
    const facts = deps.gateway.finishRefund(refund.refundId, 'SUCCESS', at(2000));
    await deps.refunds.apply(refund.refundId, (doc) => finishRefund(doc, facts, at(2000)));
    assert.equal((await deps.orders.get(r.orderId))?.refundingFen, paid.amountFen);

    const queries = deps.gateway.calls.length;
    const seen = await readOrder(deps, (await deps.orders.get(r.orderId))!, at(3000));
    assert.equal(deps.gateway.calls.length, queries, 'settling asks WeChat nothing');
    assert.deepEqual(
      [seen.order.status, seen.order.refundedFen, seen.order.refundingFen],
      ['REFUNDED', paid.amountFen, 0],
    );
    assert.deepEqual(
      seen.refunds.map((x) => [x.status, x.appliedToOrder]),
      [['SUCCESS', true]],
    );
  });
});
