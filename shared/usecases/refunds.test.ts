// requestRefund, applyRefundReport and confirmRefund decide against the real emulator and a fake WeChat.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../domain/errors';
import { newOutRefundNo } from '../domain/ids';
import { reserveRefund, type OrderDoc } from '../domain/order';
import { newRefund, type RefundDoc } from '../domain/refund';
import { WxpayUnavailableError, WxpayUpstreamError } from '../wxpay/errors';
import { confirmOrder, createPayment } from './payments';
import { reconcile } from './reconcile';
import {
  applyRefundReport,
  confirmRefund,
  finishInterrupted,
  requestRefund,
  type RefundDeps,
} from './refunds';
import type { FakeWechat } from './testing/fake-wechat';
import { newOpenid, startBench, type Bench } from './testing/harness';

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

const WINDOW = 168;
type Deps = ReturnType<Bench['deps']>;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'resolved';
}

/** A paid order of 2 × tea = 2400 fen. */
async function paidOrder(deps: RefundDeps & { gateway: FakeWechat }, openid: string): Promise<OrderDoc> {
  const now = new Date();
  const r = await createPayment(
    { ...deps, products: bench.repos.products, rateLimits: bench.repos.rateLimits },
    { openid, items: [{ productId: 'tea', quantity: 2 }], now },
  );
  deps.gateway.pay(r.orderId);
  return confirmOrder(deps, (await deps.orders.get(r.orderId))!, now);
}

/** A refund of 24 yuan as a request records it before reserving (a crash may stop it right there). */
async function recordedRefund(
  deps: RefundDeps,
  order: OrderDoc,
  openid: string,
  at: Date,
): Promise<RefundDoc> {
  const refund = newRefund({
    outRefundNo: newOutRefundNo(at),
    order,
    amountFen: 2400,
    requestedBy: openid,
    now: at,
  });
  await deps.refunds.insert(refund);
  return refund;
}

/** The request's next step: the order reserves the refund's fen. */
async function reserve(deps: RefundDeps, orderId: string, refund: RefundDoc, at: Date): Promise<void> {
  await deps.orders.apply(orderId, (doc) => ({
    kind: 'apply',
    transition: reserveRefund(doc, { outRefundNo: refund._id, amountFen: refund.amountFen }, at),
  }));
}

describe('requestRefund', () => {
  it('an owner refunds the whole order; WeChat finishing it moves the money once', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    const now = new Date();
    const r = await requestRefund(deps, {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: WINDOW,
      now,
    });
    assert.deepEqual([r.status, r.amountFen], ['PROCESSING', 2400]);
    assert.equal((await deps.orders.get(order._id))?.refundingFen, 2400);

    const facts = deps.gateway.finishRefund(r.refundId);
    assert.equal((await applyRefundReport(deps, r.refundId, facts, now)).outcome, 'applied');
    assert.equal((await applyRefundReport(deps, r.refundId, facts, now)).outcome, 'already');
    const after = await deps.orders.get(order._id);
    assert.deepEqual([after?.status, after?.refundedFen, after?.refundingFen], ['REFUNDED', 2400, 0]);
    assert.equal((await deps.refunds.get(r.refundId))?.appliedToOrder, true);
  });

  it("another user's order is NOT_FOUND; an owner may not refund part of it", async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    const base = { orderId: order._id, windowHours: WINDOW, now: new Date() };
    assert.match(
      await codeOf(requestRefund(deps, { ...base, requester: { openid: newOpenid(), isAdmin: false } })),
      /^NOT_FOUND: order not found/,
    );
    assert.match(
      await codeOf(requestRefund(deps, { ...base, amountFen: 100, requester: { openid, isAdmin: false } })),
      /^PERMISSION_DENIED: only a full refund/,
    );
    assert.equal((await deps.orders.get(order._id))?.refundingFen, 0);
    assert.deepEqual(deps.gateway.callsOf('refund'), []);
  });

  it('admin partial refunds are bounded by what is left, counting refunds in flight', async () => {
    const deps = bench.deps();
    const order = await paidOrder(deps, newOpenid());
    const admin = { openid: newOpenid(), isAdmin: true };
    const ask = (amountFen: number) =>
      requestRefund(deps, {
        orderId: order._id,
        amountFen,
        requester: admin,
        windowHours: WINDOW,
        now: new Date(),
      });
    const a = await ask(1000);
    await ask(1000);
    assert.match(
      await codeOf(ask(401)),
      /^CONFLICT: amountFen 401 exceeds what is left to refund \(400 fen\)/,
    );
    assert.equal((await deps.orders.get(order._id))?.refundingFen, 2000);
    // WeChat closes one: its reservation is released and can be asked again
    const closed = deps.gateway.finishRefund(a.refundId, 'CLOSED');
    await applyRefundReport(deps, a.refundId, closed, new Date());
    assert.equal((await deps.orders.get(order._id))?.refundingFen, 1000);
    assert.equal((await ask(1400)).amountFen, 1400);
  });

  it('a refusal marks the refund FAILED and releases the reservation', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    deps.gateway.failNext('refund', new WxpayUpstreamError('not enough balance', 403, 'NOT_ENOUGH'));
    await assert.rejects(
      requestRefund(deps, {
        orderId: order._id,
        requester: { openid, isAdmin: false },
        windowHours: WINDOW,
        now: new Date(),
      }),
      WxpayUpstreamError,
    );
    const [refund] = await deps.refunds.listOfOrder(order._id);
    assert.deepEqual(
      [refund?.status, refund?.failCode, refund?.appliedToOrder],
      ['FAILED', 'NOT_ENOUGH', true],
    );
    const after = await deps.orders.get(order._id);
    assert.deepEqual([after?.status, after?.refundingFen, after?.refundedFen], ['SUCCESS', 0, 0]);
  });

  it('a timeout keeps the reservation; the retry resubmits the same refund instead of a second one', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    const req = {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: WINDOW,
      now: new Date(),
    };
    deps.gateway.failNext('refund', new WxpayUnavailableError('timed out', 'timeout'));
    await assert.rejects(requestRefund(deps, req), WxpayUnavailableError);
    const [pending] = await deps.refunds.listOfOrder(order._id);
    assert.equal(pending?.status, 'PROCESSING');
    const retry = await requestRefund(deps, req);
    assert.equal(retry.refundId, pending?._id);
    assert.equal((await deps.refunds.listOfOrder(order._id)).length, 1);
    assert.equal((await deps.orders.get(order._id))?.refundingFen, 2400);
  });
});

describe('applyRefundReport and confirmRefund', () => {
  it('a report that contradicts the record is an anomaly and moves no money', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    const r = await requestRefund(deps, {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: WINDOW,
      now: new Date(),
    });
    const wrong = { ...deps.gateway.finishRefund(r.refundId), refundFen: 1 };
    const result = await applyRefundReport(deps, r.refundId, wrong, new Date());
    assert.deepEqual([result.outcome, result.reason], ['anomaly', 'amount-mismatch']);
    assert.equal((await deps.refunds.get(r.refundId))?.status, 'PROCESSING');
    assert.equal((await deps.orders.get(order._id))?.refundedFen, 0);
    assert.match(deps.log.lines.join('\n'), /contradicts the record reason=amount-mismatch/);
    assert.equal((await applyRefundReport(deps, 'R_nope_0001', wrong, new Date())).outcome, 'missing');
  });

  it('confirmRefund applies what WeChat finished, and resubmits a refund WeChat never received', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    const req = {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: WINDOW,
      now: new Date(),
    };
    deps.gateway.failNext('refund', new WxpayUnavailableError('lost on the way', 'network'));
    await assert.rejects(requestRefund(deps, req), WxpayUnavailableError);
    const [lost] = await deps.refunds.listOfOrder(order._id);
    assert.equal(deps.gateway.refundsByNo.has(lost._id), false);

    const resubmitted = await confirmRefund(deps, lost, new Date());
    assert.equal(resubmitted.status, 'PROCESSING');
    assert.equal(deps.gateway.refundsByNo.get(lost._id)?.refundFen, 2400);

    deps.gateway.finishRefund(lost._id);
    const done = await confirmRefund(deps, resubmitted, new Date());
    assert.deepEqual([done.status, done.appliedToOrder], ['SUCCESS', true]);
    assert.equal((await deps.orders.get(order._id))?.status, 'REFUNDED');
  });
});

describe('refunds under lost database answers and crashes', () => {
  /** WeChat finishes every refund it holds for the order; each report is applied once. */
  async function wechatFinishesAll(deps: Deps, outTradeNo: string): Promise<number> {
    let sum = 0;
    for (const [no, r] of deps.gateway.refundsByNo) {
      if (r.outTradeNo !== outTradeNo) continue;
      await applyRefundReport(deps, no, deps.gateway.finishRefund(no), new Date());
      sum += r.refundFen;
    }
    return sum;
  }

  it('an insert applied but whose answer is lost: the refund WeChat completes lands on the order once', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    await bench.fault({ action: 'insert', collection: 'refunds', lostResponse: true, count: 1 });
    const req = { orderId: order._id, requester: { openid, isAdmin: false }, windowHours: WINDOW };
    await requestRefund(deps, { ...req, now: new Date() }).catch(() => undefined);
    await bench.clearFaults();
    // The owner retries and reconcile runs; whatever reached WeChat must be recorded.
    await requestRefund(deps, { ...req, now: new Date() }).catch(() => undefined);
    await reconcile(deps, new Date(Date.now() + 3600_000), 0);
    const paidOut = await wechatFinishesAll(deps, order._id);
    await reconcile(deps, new Date(Date.now() + 3600_000), 0);

    const after = await deps.orders.get(order._id);
    assert.equal(paidOut, 2400, 'WeChat refunded the order once');
    assert.deepEqual(
      [after?.status, after?.refundedFen, after?.refundingFen],
      ['REFUNDED', 2400, 0],
      'every fen WeChat paid back is recorded, nothing is still reserved',
    );
    assert.match(
      await codeOf(requestRefund(deps, { ...req, now: new Date() })),
      /^CONFLICT: order .* is already fully refunded/,
    );
  });

  it('a refund whose record cannot be written reserves nothing, so no reservation is orphaned', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    // The refund record fails and so would any later write to the order: nothing may be left to give back.
    await bench.fault({ action: 'insert', collection: 'refunds', count: 1, error: { code: 'INJECTED' } });
    await bench.fault({ action: 'update', collection: 'orders', count: 5, error: { code: 'INJECTED' } });
    const req = { orderId: order._id, requester: { openid, isAdmin: false }, windowHours: WINDOW };
    await assert.rejects(requestRefund(deps, { ...req, now: new Date() }));
    await bench.clearFaults();
    await reconcile(deps, new Date(Date.now() + 3600_000), 0);
    assert.equal((await deps.orders.get(order._id))?.refundingFen, 0, 'nothing held without a refund');
    const r = await requestRefund(deps, { ...req, now: new Date() });
    assert.deepEqual([r.status, r.amountFen], ['PROCESSING', 2400], 'the owner can refund again');
  });

  it('reconcile abandons a refund a crash left unreserved and finishes one left reserved but unsent', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const unreservedOrder = await paidOrder(deps, openid);
    const reservedOrder = await paidOrder(deps, openid);
    const old = new Date(Date.now() - 3600_000);
    // Crash right after the refund record was written: nothing reserved, nothing sent.
    const unreserved = await recordedRefund(deps, unreservedOrder, openid, old);
    // Crash right after the reservation: the refund never reached WeChat.
    const reserved = await recordedRefund(deps, reservedOrder, openid, old);
    await reserve(deps, reservedOrder._id, reserved, old);

    await reconcile(deps, new Date(), 0);
    const abandoned = await deps.refunds.get(unreserved._id);
    assert.deepEqual(
      [abandoned?.status, abandoned?.failCode, abandoned?.appliedToOrder],
      ['FAILED', 'NOT_RESERVED', true],
    );
    assert.equal(deps.gateway.refundsByNo.has(unreserved._id), false, 'an unreserved refund is never sent');
    assert.equal((await deps.orders.get(unreservedOrder._id))?.refundingFen, 0);
    assert.equal(deps.gateway.refundsByNo.get(reserved._id)?.refundFen, 2400, 'the reserved one is sent');

    await applyRefundReport(deps, reserved._id, deps.gateway.finishRefund(reserved._id), new Date());
    const done = await deps.orders.get(reservedOrder._id);
    assert.deepEqual([done?.status, done?.refundedFen, done?.refundingFen], ['REFUNDED', 2400, 0]);
    // The owner of the abandoned one can ask again.
    const again = await requestRefund(deps, {
      orderId: unreservedOrder._id,
      requester: { openid, isAdmin: false },
      windowHours: WINDOW,
      now: new Date(),
    });
    assert.equal(again.amountFen, 2400);
  });
  it('reconcile that read the order before a request reserved never abandons the refund the request sent', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    // Reconcile (minimum age 0, or a client retrying an old refund) read the order before the
    // reservation landed; the request then reserved, checked its refund and sent it to WeChat.
    const before = (await deps.orders.get(order._id))!;
    const r = await requestRefund(deps, {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: WINDOW,
      now: new Date(),
    });
    const staleOrders = { ...deps.orders, get: async () => Promise.resolve(before) };
    const seenByReconcile = (await deps.refunds.get(r.refundId))!;
    const after = await finishInterrupted({ ...deps, orders: staleOrders }, seenByReconcile, new Date());
    assert.notEqual(after.status, 'FAILED', 'a refund sent to WeChat is never abandoned');

    await applyRefundReport(deps, r.refundId, deps.gateway.finishRefund(r.refundId), new Date());
    await reconcile(deps, new Date(Date.now() + 3600_000), 0);
    const done = await deps.orders.get(order._id);
    assert.deepEqual(
      [done?.status, done?.refundedFen, done?.refundingFen],
      ['REFUNDED', 2400, 0],
      'the refund WeChat paid lands on the order',
    );
  });
  it('a refund resent by orders.get while reconcile abandons it from a stale read is never lost', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    const before = (await deps.orders.get(order._id))!;
    // A request recorded and reserved its refund, then stalled before confirming and sending it.
    const refund = await recordedRefund(deps, order, openid, new Date());
    await reserve(deps, order._id, refund, new Date());
    // orders.get finds it PROCESSING, unknown to WeChat and held by the order: it sends it.
    await confirmRefund(deps, refund, new Date());
    assert.ok(deps.gateway.refundsByNo.has(refund._id), 'sent by orders.get');
    // Reconcile had read the order before the reservation landed.
    const staleOrders = { ...deps.orders, get: async () => Promise.resolve(before) };
    const after = await finishInterrupted({ ...deps, orders: staleOrders }, refund, new Date());
    assert.notEqual(after.status, 'FAILED', 'a refund sent to WeChat is never abandoned');

    await applyRefundReport(deps, refund._id, deps.gateway.finishRefund(refund._id), new Date());
    const done = await deps.orders.get(order._id);
    assert.deepEqual([done?.status, done?.refundedFen, done?.refundingFen], ['REFUNDED', 2400, 0]);
  });
  it('a reservation that landed after reconcile abandoned its refund is released by reconcile', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    // A request recorded its refund and stalled; reconcile (minimum age 0) abandoned it as unreserved;
    // the request's reservation then landed and its instance died before it could look again.
    const refund = await recordedRefund(deps, order, openid, new Date());
    assert.equal((await finishInterrupted(deps, refund, new Date())).failCode, 'NOT_RESERVED');
    await reserve(deps, order._id, refund, new Date());

    const report = await reconcile(deps, new Date(Date.now() + 3600_000), 0);
    assert.ok(report.refundsSettled >= 1, JSON.stringify(report));
    const released = await deps.orders.get(order._id);
    assert.deepEqual([released?.refundingFen, released?.reservedRefundNos], [0, []], 'nothing held');
    assert.equal(deps.gateway.refundsByNo.has(refund._id), false, 'the abandoned refund is never sent');
    await reconcile(deps, new Date(Date.now() + 3600_000), 0);
    assert.equal((await deps.orders.get(order._id))?.version, released?.version, 'released once');
    const again = await requestRefund(deps, {
      orderId: order._id,
      requester: { openid, isAdmin: false },
      windowHours: WINDOW,
      now: new Date(),
    });
    assert.equal(again.amountFen, 2400, 'the owner can refund again');
  });
});

describe('how a refund ends decides its reservation, once', () => {
  async function adminRefund(deps: Deps, amountFen: number) {
    const openid = newOpenid();
    const order = await paidOrder(deps, openid);
    const r = await requestRefund(deps, {
      orderId: order._id,
      amountFen,
      requester: { openid: 'o-admin', isAdmin: true },
      windowHours: WINDOW,
      now: new Date(),
    });
    return { order, r };
  }

  it('CLOSED frees the reservation and refunds nothing; a replay changes nothing', async () => {
    const deps = bench.deps();
    const { order, r } = await adminRefund(deps, 1000);
    const closed = deps.gateway.finishRefund(r.refundId, 'CLOSED');
    assert.equal((await applyRefundReport(deps, r.refundId, closed, new Date())).outcome, 'applied');
    assert.equal((await applyRefundReport(deps, r.refundId, closed, new Date())).outcome, 'already');
    const o = await deps.orders.get(order._id);
    assert.deepEqual([o?.status, o?.refundedFen, o?.refundingFen], ['SUCCESS', 0, 0]);
    assert.deepEqual(o?.reservedRefundNos, []);
  });

  it('ABNORMAL keeps the reservation; SUCCESS afterwards refunds it exactly once', async () => {
    const deps = bench.deps();
    const { order, r } = await adminRefund(deps, 1000);
    const abnormal = deps.gateway.finishRefund(r.refundId, 'ABNORMAL');
    await applyRefundReport(deps, r.refundId, abnormal, new Date());
    let o = await deps.orders.get(order._id);
    assert.deepEqual([o?.refundedFen, o?.refundingFen], [0, 1000], 'money may still move: still reserved');
    const success = deps.gateway.finishRefund(r.refundId, 'SUCCESS');
    assert.equal((await applyRefundReport(deps, r.refundId, success, new Date())).outcome, 'applied');
    await applyRefundReport(deps, r.refundId, success, new Date());
    await reconcile(deps, new Date(Date.now() + 3600_000), 0);
    o = await deps.orders.get(order._id);
    assert.deepEqual([o?.status, o?.refundedFen, o?.refundingFen], ['SUCCESS', 1000, 0]);
  });
});

describe('orders written before reservations were named', () => {
  it('a new refund names the refunds the order already held fen for, so they still settle', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const paid = await paidOrder(deps, openid);
    // The old flow: reservation first (anonymous), then the record, then WeChat.
    const old = newRefund({
      outRefundNo: newOutRefundNo(new Date()),
      order: paid,
      amountFen: 1000,
      requestedBy: 'o-admin',
      now: new Date(),
    });
    const _ = bench.db.command;
    await bench.db
      .collection('orders')
      .where({ _id: paid._id })
      .update({ refundingFen: 1000, reservedRefundNos: _.remove() });
    delete old.namedReservation; // as the old flow recorded it
    await deps.refunds.insert(old);
    await deps.gateway.refund({
      outTradeNo: paid._id,
      outRefundNo: old._id,
      refundFen: 1000,
      totalFen: 2400,
    });
    const legacy = await deps.orders.get(paid._id);
    assert.equal(legacy?.reservedRefundNos, undefined, 'a legacy order');

    const r = await requestRefund(deps, {
      orderId: paid._id,
      amountFen: 500,
      requester: { openid: 'o-admin', isAdmin: true },
      windowHours: WINDOW,
      now: new Date(),
    });
    assert.deepEqual((await deps.orders.get(paid._id))?.reservedRefundNos, [old._id, r.refundId]);
    for (const no of [old._id, r.refundId])
      assert.equal(
        (await applyRefundReport(deps, no, deps.gateway.finishRefund(no), new Date())).outcome,
        'applied',
      );
    const o = await deps.orders.get(paid._id);
    assert.deepEqual([o?.refundedFen, o?.refundingFen, o?.reservedRefundNos], [1500, 0, []]);
  });
});
