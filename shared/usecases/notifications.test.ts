// handleNotification decides against the real emulator and a fake WeChat: verify, check against the
// order, apply, record — and answer so that WeChat stops or retries.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NotificationFacts } from '../gateways/gateway';
import { markClosed } from '../domain/order';
import { WxpayUpstreamError } from '../wxpay/errors';
import { handleNotification } from './notifications';
import { confirmOrder, createPayment } from './payments';
import { autoRefundNo, PAID_AFTER_CLOSE_REASON, requestRefund } from './refunds';
import { FAKE_MERCHANT } from './testing/fake-wechat';
import { newOpenid, startBench, type Bench } from './testing/harness';

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

type Deps = ReturnType<Bench['deps']>;

async function unpaidOrder(deps: Deps, openid = newOpenid()) {
  const r = await createPayment(deps, {
    openid,
    items: [{ productId: 'cake', quantity: 1 }],
    now: new Date(),
  });
  return (await deps.orders.get(r.orderId))!;
}

/** What WeChat notifies once the payer has paid `outTradeNo`, with `change` applied. */
function paid(
  deps: Deps,
  outTradeNo: string,
  change: Partial<NotificationFacts['payment']> = {},
): NotificationFacts {
  const payment = { ...deps.gateway.pay(outTradeNo), ...change };
  return {
    id: `EV-${outTradeNo}-${payment.transactionId}`,
    eventType: 'TRANSACTION.SUCCESS',
    outTradeNo,
    ...FAKE_MERCHANT,
    payment,
  };
}

async function deliver(deps: Deps, kind: 'pay' | 'refund', facts: NotificationFacts, opts = {}) {
  return handleNotification(deps, kind, deps.gateway.notification(facts, opts), new Date());
}

describe('payment notifications', () => {
  it('apply once: 204, the order paid, the notification recorded; a duplicate changes nothing', async () => {
    const deps = bench.deps();
    const order = await unpaidOrder(deps);
    const facts = paid(deps, order._id);
    assert.equal((await deliver(deps, 'pay', facts)).statusCode, 204);
    const after = await deps.orders.get(order._id);
    assert.deepEqual([after?.status, after?.transactionId], ['SUCCESS', facts.payment?.transactionId]);
    assert.equal((await deps.notifications.get(facts.id))?.outcome, 'applied');

    const again = { ...facts, id: `${facts.id}-resent` };
    assert.equal((await deliver(deps, 'pay', again)).statusCode, 204);
    assert.equal((await deps.notifications.get(again.id))?.outcome, 'duplicate');
    assert.equal((await deps.orders.get(order._id))?.version, after?.version);
  });

  it('the first notification after a query applied the payment is the one recorded as applied', async () => {
    const deps = bench.deps();
    const order = await unpaidOrder(deps);
    const facts = paid(deps, order._id);
    assert.equal((await confirmOrder(deps, order, new Date())).status, 'SUCCESS');
    assert.equal((await deliver(deps, 'pay', facts)).statusCode, 204);
    assert.equal((await deps.notifications.get(facts.id))?.outcome, 'applied');
  });

  for (const [what, change, outcome] of [
    ['another amount', { amountTotalFen: 1 }, 'anomaly:amount-mismatch'],
    ['another payer', { payerOpenid: 'o-someone-else' }, 'anomaly:payer-mismatch'],
  ] as const) {
    it(`${what} is acknowledged as ${outcome} and moves no money`, async () => {
      const deps = bench.deps();
      const order = await unpaidOrder(deps);
      const facts = paid(deps, order._id, change);
      assert.equal((await deliver(deps, 'pay', facts)).statusCode, 204, 'WeChat must stop resending it');
      assert.equal((await deps.orders.get(order._id))?.status, 'NOTPAY');
      assert.equal((await deps.notifications.get(facts.id))?.outcome, outcome);
      assert.match(deps.log.lines.join('\n'), new RegExp(`acknowledged as ${outcome}`));
    });
  }

  it('an unknown order, another merchant or app: anomalies recorded, nothing changed', async () => {
    const deps = bench.deps();
    const order = await unpaidOrder(deps);
    const facts = paid(deps, order._id);
    const cases = [
      [{ ...facts, id: 'EV-unknown', outTradeNo: 'T_not_ours_0001' }, 'anomaly:unknown-order'],
      [{ ...facts, id: 'EV-other-mch', mchid: '1900000999' }, 'anomaly:other-merchant'],
      [{ ...facts, id: 'EV-other-app', appid: 'wxother000000001' }, 'anomaly:other-appid'],
    ] as const;
    for (const [n, outcome] of cases) {
      assert.equal((await deliver(deps, 'pay', n)).statusCode, 204);
      assert.equal((await deps.notifications.get(n.id))?.outcome, outcome);
    }
    assert.equal((await deps.orders.get(order._id))?.status, 'NOTPAY');
  });

  it('a forged notification is refused with 401 and nothing is recorded; a GET gets 400', async () => {
    const deps = bench.deps();
    const order = await unpaidOrder(deps);
    const facts = paid(deps, order._id);
    const forged = await deliver(deps, 'pay', facts, { forged: true });
    assert.equal(forged.statusCode, 401);
    // The sender hears a fixed reason; why it did not verify is in the function log only.
    assert.equal(JSON.parse(forged.body).message, 'signature verification failed');
    assert.match(
      deps.log.lines.join('\n'),
      /^warn refused \(401\) error="FakeSignatureError \[WXPAY_VERIFICATION\]: .*signature does not verify/m,
    );
    assert.equal(await deps.notifications.get(facts.id), undefined);
    assert.equal((await deps.orders.get(order._id))?.status, 'NOTPAY');
    assert.equal((await deliver(deps, 'pay', facts, { method: 'GET' })).statusCode, 400);
  });

  it('a failed payment is recorded as rejected and changes nothing', async () => {
    const deps = bench.deps();
    const order = await unpaidOrder(deps);
    const n: NotificationFacts = {
      id: 'EV-fail',
      eventType: 'TRANSACTION.FAIL',
      outTradeNo: order._id,
      ...FAKE_MERCHANT,
    };
    assert.equal((await deliver(deps, 'pay', n)).statusCode, 204);
    assert.equal((await deps.notifications.get(n.id))?.outcome, 'rejected:payment-failed');
    assert.equal((await deps.orders.get(order._id))?.status, 'NOTPAY');
  });
});

describe('a payment on an order we closed', () => {
  /** The race of issue 17: closed here while WeChat still took the payment. */
  async function closedButPaid(deps: Deps) {
    const order = await unpaidOrder(deps);
    await deps.orders.apply(order._id, (doc) => markClosed(doc, new Date()));
    return { order, facts: paid(deps, order._id) };
  }

  it('is refunded in full automatically, once, and the order stays CLOSED', async () => {
    const deps = bench.deps();
    const { order, facts } = await closedButPaid(deps);
    assert.equal((await deliver(deps, 'pay', facts)).statusCode, 204);
    assert.equal((await deps.notifications.get(facts.id))?.outcome, 'anomaly:paid-after-close');

    const no = autoRefundNo(order._id);
    assert.ok(no.length <= 32);
    const refund = await deps.refunds.get(no);
    assert.deepEqual(
      [refund?.amountFen, refund?.requestedBy, refund?.reason, refund?.status],
      [order.amountFen, 'system', PAID_AFTER_CLOSE_REASON, 'PROCESSING'],
    );
    assert.equal(deps.gateway.refundsByNo.get(no)?.refundFen, order.amountFen, 'sent to WeChat');
    const held = await deps.orders.get(order._id);
    assert.deepEqual(
      [held?.status, held?.transactionId, held?.refundingFen, held?.reservedRefundNos],
      ['CLOSED', facts.payment?.transactionId, order.amountFen, [no]],
    );

    // WeChat resends the payment notification: the same refund, nothing sent or reserved twice
    const again = { ...facts, id: `${facts.id}-resent` };
    assert.equal((await deliver(deps, 'pay', again)).statusCode, 204);
    assert.equal((await deps.notifications.get(again.id))?.outcome, 'anomaly:paid-after-close');
    assert.equal(deps.gateway.refundsByNo.size, 1);
    assert.equal((await deps.refunds.listOfOrder(order._id)).length, 1);
    assert.equal((await deps.orders.get(order._id))?.refundingFen, order.amountFen);

    // WeChat finishes the refund: its notification settles it on the order, which stays CLOSED
    const done = deps.gateway.finishRefund(no);
    const report = { id: `EV-${no}`, eventType: 'REFUND.SUCCESS', outTradeNo: order._id, outRefundNo: no };
    assert.equal(
      (await deliver(deps, 'refund', { ...report, ...FAKE_MERCHANT, refund: done })).statusCode,
      204,
    );
    const settled = await deps.orders.get(order._id);
    assert.deepEqual(
      [settled?.status, settled?.refundedFen, settled?.refundingFen, settled?.transactionId],
      ['CLOSED', order.amountFen, 0, facts.payment?.transactionId],
    );
    assert.equal((await deps.refunds.get(no))?.status, 'SUCCESS');
  });

  it('found by an active query is refunded the same way', async () => {
    const deps = bench.deps();
    const order = await unpaidOrder(deps);
    deps.gateway.pay(order._id);
    // The query began on the unpaid order; the close landed before its answer was applied.
    await deps.orders.apply(order._id, (doc) => markClosed(doc, new Date()));
    assert.equal((await confirmOrder(deps, order, new Date())).status, 'CLOSED');
    const no = autoRefundNo(order._id);
    assert.equal((await deps.refunds.get(no))?.requestedBy, 'system');
    assert.equal(deps.gateway.refundsByNo.get(no)?.refundFen, order.amountFen);
  });

  it('a refund that does not reach WeChat stays recorded and reserved; the next notification sends it', async () => {
    const deps = bench.deps();
    const { order, facts } = await closedButPaid(deps);
    deps.gateway.failNext('refund', new Error('connection reset'));
    assert.equal((await deliver(deps, 'pay', facts)).statusCode, 204);
    const no = autoRefundNo(order._id);
    assert.equal((await deps.refunds.get(no))?.status, 'PROCESSING');
    assert.equal(deps.gateway.refundsByNo.size, 0);
    // the next notification sends it
    assert.equal((await deliver(deps, 'pay', { ...facts, id: `${facts.id}-2` })).statusCode, 204);
    assert.equal(deps.gateway.refundsByNo.get(no)?.refundFen, order.amountFen);
    assert.equal((await deps.orders.get(order._id))?.refundingFen, order.amountFen);
  });

  it('an automatic refund WeChat refused is never reserved again; the log says to refund it by hand', async () => {
    const deps = bench.deps();
    const { order, facts } = await closedButPaid(deps);
    deps.gateway.failNext('refund', new WxpayUpstreamError('refused', 400, 'NOT_ENOUGH'));
    assert.equal((await deliver(deps, 'pay', facts)).statusCode, 204);
    const no = autoRefundNo(order._id);
    assert.equal((await deps.refunds.get(no))?.status, 'FAILED');
    const released = await deps.orders.get(order._id);
    assert.equal(released?.refundingFen, 0);
    assert.equal((await deliver(deps, 'pay', { ...facts, id: `${facts.id}-2` })).statusCode, 204);
    assert.equal((await deps.orders.get(order._id))?.version, released?.version, 'nothing reserved again');
    assert.equal(deps.gateway.callsOf('refund').length, 1);
    assert.ok(
      deps.log.lines.some((l) => l.includes(`${no} of ${order._id} ended FAILED; refund it by hand`)),
    );
  });
});

describe('refund notifications', () => {
  it('settle the refund on its order once; an unknown refund or another order is an anomaly', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await unpaidOrder(deps, openid);
    await deliver(deps, 'pay', paid(deps, order._id));
    const r = await requestRefund(deps, {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: 168,
      now: new Date(),
    });
    const refund = deps.gateway.finishRefund(r.refundId);
    const facts: NotificationFacts = {
      id: `EV-${r.refundId}`,
      eventType: 'REFUND.SUCCESS',
      outTradeNo: order._id,
      outRefundNo: r.refundId,
      mchid: FAKE_MERCHANT.mchid,
      refund,
    };
    assert.equal((await deliver(deps, 'refund', facts)).statusCode, 204);
    assert.equal((await deps.notifications.get(facts.id))?.outcome, 'applied');
    const after = await deps.orders.get(order._id);
    assert.deepEqual([after?.status, after?.refundedFen, after?.refundingFen], ['REFUNDED', 2550, 0]);

    await deliver(deps, 'refund', { ...facts, id: `${facts.id}-again` });
    assert.equal((await deps.notifications.get(`${facts.id}-again`))?.outcome, 'duplicate');
    await deliver(deps, 'refund', { ...facts, id: 'EV-unknown-refund', outRefundNo: 'R_not_ours_0001' });
    assert.equal((await deps.notifications.get('EV-unknown-refund'))?.outcome, 'anomaly:unknown-refund');
    await deliver(deps, 'refund', { ...facts, id: 'EV-other-order', outTradeNo: 'T_other_0001' });
    assert.equal((await deps.notifications.get('EV-other-order'))?.outcome, 'anomaly:order-mismatch');
    assert.equal((await deps.orders.get(order._id))?.refundedFen, 2550);
  });

  it('a refund report naming another order is an anomaly even while the refund is in flight', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await unpaidOrder(deps, openid);
    await deliver(deps, 'pay', paid(deps, order._id));
    const r = await requestRefund(deps, {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: 168,
      now: new Date(),
    });
    const facts: NotificationFacts = {
      id: `EV-${r.refundId}-mismatch`,
      eventType: 'REFUND.SUCCESS',
      outTradeNo: 'T_other_order_0002',
      outRefundNo: r.refundId,
      mchid: FAKE_MERCHANT.mchid,
      refund: deps.gateway.finishRefund(r.refundId),
    };
    assert.equal((await deliver(deps, 'refund', facts)).statusCode, 204);
    assert.equal((await deps.notifications.get(facts.id))?.outcome, 'anomaly:order-mismatch');
    assert.equal((await deps.refunds.get(r.refundId))?.status, 'PROCESSING', 'the refund is untouched');
    const o = await deps.orders.get(order._id);
    assert.deepEqual([o?.status, o?.refundedFen, o?.refundingFen], ['SUCCESS', 0, 2550], 'no money moved');
  });
});
