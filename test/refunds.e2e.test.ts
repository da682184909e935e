// Refunds and WeChat faults on the local stack: concurrent refund requests never exceed what was
// paid; timeouts and 5xx during prepay and refund give clean retryable errors whose retries finish
// the same order / refund; synchronous rejections release the reservation; a crash between the
// refund's two writes is finished by reconcile.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ApiResult, CreatePaymentResponse, RefundResponse } from '../shared/contracts/api';
import { CART, CART_FEN, startE2E, type E2E, type TestUser } from './support/e2e';

let e: E2E;
let admin: TestUser;
let user: TestUser;
const figures: Record<string, unknown> = {};

before(async () => {
  // Refunds stay PROCESSING at the simulator until a test completes them (no automatic completion).
  e = await startE2E({ simulator: { refundDelayMs: 1e9 } });
  admin = await e.newUser();
  user = await e.newUser();
  e.setEnv({ ADMIN_OPENIDS: admin.openid });
});
// A buyer per test: one buyer for the whole file would meet the per-user limits (10 payments, 5
// refund requests a minute; docs/numbers.md#per-user-limits).
beforeEach(async () => {
  user = await e.newUser();
});
after(async () => {
  console.log(`[refunds] figures ${JSON.stringify(figures)}`);
  await e?.close();
});

interface Doc {
  _id: string;
  [k: string]: unknown;
}

async function docs(collection: string, filter: (d: Doc) => boolean): Promise<Doc[]> {
  return ((await e.dump(collection)) as Doc[]).filter(filter);
}

async function paidOrder(owner: TestUser = user): Promise<CreatePaymentResponse> {
  const created = await e.createPayment(owner, CART);
  assert.equal(await e.pay(owner, created.payment), 'requestPayment:ok');
  await e.waitFor(
    () => e.getOrder(owner, created.orderId),
    (o) => o.status === 'SUCCESS',
    'paid',
  );
  return created;
}

const refund = (who: TestUser, orderId: string, amountFen?: number) =>
  e.call<RefundResponse>(
    'refund',
    { orderId, ...(amountFen !== undefined ? { amountFen } : {}) },
    { openid: who.openid },
  );

describe('refunds', () => {
  it('50 concurrent refund requests never reserve or refund more than was paid', async () => {
    const order = await paidOrder();
    const started = Date.now();
    // Distinct amounts (400–449 fen): each request is a separate refund, not a retry of another.
    const amounts = Array.from({ length: 50 }, (_, i) => 400 + i);
    const results: ApiResult<RefundResponse>[] = await Promise.all(
      amounts.map((a) => refund(admin, order.orderId, a)),
    );
    const ok = results.filter((r): r is { ok: true; data: RefundResponse } => r.ok);
    const codes = results.filter((r) => !r.ok).map((r) => (!r.ok ? r.error.code : ''));
    const acceptedFen = ok.reduce((sum, r) => sum + r.data.amountFen, 0);
    figures.concurrentRefunds = {
      requests: 50,
      accepted: ok.length,
      acceptedFen,
      paidFen: CART_FEN,
      ms: Date.now() - started,
    };
    assert.equal(new Set(ok.map((r) => r.data.refundId)).size, ok.length, 'distinct refunds');
    assert.ok(acceptedFen <= CART_FEN, `accepted ${acceptedFen} fen of ${CART_FEN}`);
    assert.ok(ok.length >= 1);
    assert.ok(
      codes.every((c) => c === 'CONFLICT'),
      codes.join(','),
    );
    const o = (await docs('orders', (d) => d._id === order.orderId))[0];
    assert.equal(o.refundingFen, acceptedFen);
    assert.ok(o.refundingFen + (o.refundedFen as number) <= CART_FEN);
    const stored = await docs('refunds', (d) => d.outTradeNo === order.orderId);
    // A request that lost the reservation race leaves its refund abandoned: never sent, holding nothing.
    const live = stored.filter((d) => d.failCode !== 'NOT_RESERVED');
    assert.equal(live.length, ok.length, 'one live refund document per accepted request');
    for (const d of stored.filter((x) => x.failCode === 'NOT_RESERVED'))
      assert.deepEqual([d.status, d.appliedToOrder], ['FAILED', true]);
    const atWeChat = await e.sim<unknown[]>('GET', `/sim/refunds?outTradeNo=${order.orderId}`);
    assert.equal(atWeChat.length, ok.length);

    // Complete them all: the order ends with exactly the accepted amount refunded.
    for (const r of ok)
      await e.sim('POST', `/sim/refunds/${r.data.refundId}/complete`, { status: 'SUCCESS' });
    const done = await e.waitFor(
      () => e.getOrder(user, order.orderId),
      (v) => v.refundingFen === 0,
      'all refunds applied',
      30_000,
    );
    assert.equal(done.refundedFen, acceptedFen);

    // Owners: 20 concurrent full refunds of one order → exactly one.
    const own = await paidOrder();
    const owners = await Promise.all(Array.from({ length: 20 }, () => refund(user, own.orderId)));
    // Concurrent identical requests collapse into one refund (a retry resubmits the unacknowledged one).
    const ownIds = new Set(owners.flatMap((r) => (r.ok ? [r.data.refundId] : [])));
    assert.equal(ownIds.size, 1, JSON.stringify(owners.filter((r) => !r.ok).slice(0, 2)));
    // RATE_LIMITED: one owner's 20 requests in a second are beyond the refund limit (5 per minute).
    assert.ok(owners.every((r) => r.ok || r.error.code === 'CONFLICT' || r.error.code === 'RATE_LIMITED'));
    const ownDocs = await docs('refunds', (d) => d.outTradeNo === own.orderId);
    assert.equal(ownDocs.filter((d) => d.failCode !== 'NOT_RESERVED').length, 1);
    const ownOrder = (await docs('orders', (d) => d._id === own.orderId))[0];
    assert.equal(ownOrder.refundingFen, CART_FEN);
  });

  it('timeouts and 5xx during prepay: retryable errors, and the retry completes the same order', async () => {
    const key = `key-${Date.now()}`;
    await e.sim('POST', '/sim/faults', { target: 'jsapi', kind: '5xx', count: 1 });
    const first = await e.call<CreatePaymentResponse>(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: user.openid },
    );
    assert.equal(!first.ok && first.error.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(first));
    const pending = await docs('orders', (d) => d.idempotencyKey === key);
    assert.equal(pending.length, 1, 'the order was written before WeChat was called');
    assert.equal(pending[0].prepayId, undefined);

    await e.sim('POST', '/sim/faults', { target: 'jsapi', kind: 'timeout', count: 1, delayMs: 8000 });
    const started = Date.now();
    const second = await e.call<CreatePaymentResponse>(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: user.openid },
    );
    figures.prepayTimeoutMs = Date.now() - started;
    assert.equal(!second.ok && second.error.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(second));

    const third = await e.call<CreatePaymentResponse>(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: user.openid },
    );
    assert.ok(third.ok, JSON.stringify(third));
    assert.equal(third.data.orderId, pending[0]._id, 'same outTradeNo');
    const fourth = await e.call<CreatePaymentResponse>(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: user.openid },
    );
    assert.ok(
      fourth.ok && fourth.data.payment.package === third.data.payment.package,
      'valid prepay id reused',
    );
    assert.equal((await docs('orders', (d) => d.idempotencyKey === key)).length, 1, 'no duplicate order');
    assert.equal(await e.pay(user, third.data.payment), 'requestPayment:ok');
    await e.waitFor(
      () => e.getOrder(user, third.data.orderId),
      (o) => o.status === 'SUCCESS',
      'paid after retries',
    );
    const reuse = await e.call(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: user.openid },
    );
    assert.equal(!reuse.ok && reuse.error.code, 'CONFLICT');
    const otherUser = await e.newUser();
    const sameKeyOtherUser = await e.call<CreatePaymentResponse>(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: otherUser.openid },
    );
    assert.ok(
      sameKeyOtherUser.ok && sameKeyOtherUser.data.orderId !== third.data.orderId,
      'keys are per user',
    );
    const otherCart = await e.call(
      'createPayment',
      { items: [{ productId: 'tea-oolong', quantity: 1 }], idempotencyKey: `${key}-b` },
      { openid: user.openid },
    );
    assert.ok(otherCart.ok);
  });

  it('concurrent first calls with one idempotency key end on one payable order', async () => {
    const key = `race-${Date.now()}`;
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        e.call<CreatePaymentResponse>(
          'createPayment',
          { items: CART, idempotencyKey: key },
          { openid: user.openid },
        ),
      ),
    );
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results.find((r) => !r.ok)),
    );
    const ids = new Set(results.map((r) => (r.ok ? r.data.orderId : '')));
    assert.equal(ids.size, 1, 'every caller got the same order');
    const stored = await docs('orders', (d) => d.idempotencyKey === key);
    assert.deepEqual(
      stored.map((d) => d._id),
      [...ids],
      'exactly one order for the key',
    );
    const atWeChat = await e.sim<{ outTradeNo: string }[]>('GET', `/sim/orders?openid=${user.openid}`);
    assert.equal(atWeChat.filter((o) => o.outTradeNo === [...ids][0]).length, 1);
  });

  it('timeouts and 5xx during refund: retryable errors, the retry resubmits the same refund, nothing is duplicated', async () => {
    const order = await paidOrder();
    await e.sim('POST', '/sim/faults', { target: 'refund', kind: '5xx', count: 1 });
    const first = await refund(admin, order.orderId, 700);
    assert.equal(!first.ok && first.error.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(first));
    const afterFirst = await docs('refunds', (d) => d.outTradeNo === order.orderId);
    assert.equal(afterFirst.length, 1);
    assert.equal(afterFirst[0].status, 'PROCESSING', 'never reported as done');

    await e.sim('POST', '/sim/faults', { target: 'refund', kind: 'timeout', count: 1, delayMs: 8000 });
    const second = await refund(admin, order.orderId, 700);
    assert.equal(!second.ok && second.error.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(second));

    const third = await refund(admin, order.orderId, 700);
    assert.ok(third.ok, JSON.stringify(third));
    assert.equal(third.data.refundId, afterFirst[0]._id, 'same outRefundNo');
    assert.equal((await docs('refunds', (d) => d.outTradeNo === order.orderId)).length, 1);
    const atWeChat = await e.sim<unknown[]>('GET', `/sim/refunds?outTradeNo=${order.orderId}`);
    assert.equal(atWeChat.length, 1, 'WeChat holds one refund');
    const o = (await docs('orders', (d) => d._id === order.orderId))[0];
    assert.equal(o.refundingFen, 700);
  });

  it('WeChat did it but the answer was lost (prepay, refund): the retry finds the same order and refund, nothing is doubled', async () => {
    // prepay: created at WeChat, answer lost
    const key = `lost-${Date.now()}`;
    await e.sim('POST', '/sim/faults', { target: 'jsapi', kind: 'lostResponse', count: 1 });
    let started = Date.now();
    const lost = await e.call<CreatePaymentResponse>(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: user.openid },
    );
    figures.lostPrepayMs = Date.now() - started;
    assert.equal(!lost.ok && lost.error.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(lost));
    const [pending] = await docs('orders', (d) => d.idempotencyKey === key);
    assert.ok(pending);
    const atWeChatBefore = await e.sim<{ outTradeNo: string }[]>('GET', `/sim/orders?openid=${user.openid}`);
    assert.equal(
      atWeChatBefore.filter((o) => o.outTradeNo === pending._id).length,
      1,
      'WeChat created the order although we never heard back',
    );
    const retried = await e.call<CreatePaymentResponse>(
      'createPayment',
      { items: CART, idempotencyKey: key },
      { openid: user.openid },
    );
    assert.ok(retried.ok, JSON.stringify(retried));
    assert.equal(retried.data.orderId, pending._id);
    const atWeChat = await e.sim<{ outTradeNo: string }[]>('GET', `/sim/orders?openid=${user.openid}`);
    assert.equal(atWeChat.filter((o) => o.outTradeNo === pending._id).length, 1, 'still one order at WeChat');
    assert.equal(await e.pay(user, retried.data.payment), 'requestPayment:ok');
    await e.waitFor(
      () => e.getOrder(user, retried.data.orderId),
      (o) => o.status === 'SUCCESS',
      'paid after the lost answer',
    );

    // refund: created at WeChat, answer lost
    await e.sim('POST', '/sim/faults', { target: 'refund', kind: 'lostResponse', count: 1 });
    started = Date.now();
    const first = await refund(admin, retried.data.orderId, 900);
    figures.lostRefundMs = Date.now() - started;
    assert.equal(!first.ok && first.error.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(first));
    const [reserved] = await docs('refunds', (d) => d.outTradeNo === retried.data.orderId);
    assert.equal(
      reserved.status,
      'PROCESSING',
      'not reported as done, not released either: WeChat may have it',
    );
    assert.equal(
      (await e.sim<unknown[]>('GET', `/sim/refunds?outTradeNo=${retried.data.orderId}`)).length,
      1,
      'WeChat holds the refund',
    );
    const second = await refund(admin, retried.data.orderId, 900);
    assert.ok(second.ok, JSON.stringify(second));
    assert.equal(second.data.refundId, reserved._id, 'the retry resubmits the same outRefundNo');
    assert.equal(
      (await e.sim<unknown[]>('GET', `/sim/refunds?outTradeNo=${retried.data.orderId}`)).length,
      1,
      'still one refund at WeChat',
    );
    await e.sim('POST', `/sim/refunds/${second.data.refundId}/complete`, { status: 'SUCCESS' });
    await e.waitFor(
      async () => (await docs('orders', (d) => d._id === retried.data.orderId))[0],
      (o) => o.refundedFen === 900,
      'refund applied once',
    );
    const o = (await docs('orders', (d) => d._id === retried.data.orderId))[0];
    assert.deepEqual([o.refundedFen, o.refundingFen, o.status], [900, 0, 'SUCCESS']);
  });

  it('login: a code spent at WeChat whose answer was lost gets "call wx.login again"; a new code works', async () => {
    const who = await e.newUser();
    await e.sim('POST', '/sim/faults', { target: 'jscode2session', kind: 'lostResponse', count: 1 });
    const code = await e.loginCode(who.openid);
    const first = await e.call('login', { code });
    assert.equal(!first.ok && first.error.code, 'UPSTREAM_UNAVAILABLE', JSON.stringify(first));
    const again = await e.call('login', { code });
    assert.ok(
      !again.ok &&
        again.error.code === 'INVALID_ARGUMENT' &&
        /call wx\.login again/.test(again.error.message),
      JSON.stringify(again),
    );
    const fresh = await e.call<{ user: { openid: string } }>('login', {
      code: await e.loginCode(who.openid),
    });
    assert.ok(fresh.ok && fresh.data.user.openid === who.openid, JSON.stringify(fresh));
  });

  it('a synchronous rejection marks the refund FAILED and releases the reservation', async () => {
    const order = await paidOrder();
    await e.sim('POST', '/sim/faults', { target: 'refund', kind: 'notEnough', count: 1 });
    const r = await refund(user, order.orderId);
    assert.ok(
      !r.ok && r.error.code === 'UPSTREAM_ERROR' && r.error.upstream === 'NOT_ENOUGH',
      JSON.stringify(r),
    );
    const o = (await docs('orders', (d) => d._id === order.orderId))[0];
    assert.deepEqual([o.refundingFen, o.refundedFen, o.status], [0, 0, 'SUCCESS']);
    const failed = await docs('refunds', (d) => d.outTradeNo === order.orderId);
    assert.deepEqual(
      failed.map((d) => [d.status, d.appliedToOrder]),
      [['FAILED', true]],
    );
    // The owner can try again once WeChat accepts.
    const retry = await refund(user, order.orderId);
    assert.ok(retry.ok, JSON.stringify(retry));
  });

  it('a crash between the refund’s two writes is finished by reconcile', async () => {
    const order = await paidOrder();
    const r = await refund(admin, order.orderId, 1234);
    assert.ok(r.ok);
    // WeChat completes the refund but its notification never arrives; the order update then fails.
    await e.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1000 });
    await e.sim('POST', `/sim/refunds/${r.data.refundId}/complete`, { status: 'SUCCESS' });
    await e.emu('POST', '/emu/faults', {
      action: 'update',
      collection: 'orders',
      count: 1000,
      error: { code: 'DATABASE_REQUEST_FAILED', message: 'injected' },
    });
    const broken = await e.reconcile(0);
    await e.emu('DELETE', '/emu/faults');
    assert.ok(broken.errors >= 1, JSON.stringify(broken));
    const half = (await docs('refunds', (d) => d._id === r.data.refundId))[0];
    assert.deepEqual(
      [half.status, half.appliedToOrder],
      ['SUCCESS', false],
      'first write landed, second did not',
    );
    let o = (await docs('orders', (d) => d._id === order.orderId))[0];
    assert.deepEqual([o.refundingFen, o.refundedFen], [1234, 0]);

    const healed = await e.reconcile(0);
    assert.ok(healed.refundsSettled >= 1, JSON.stringify(healed));
    o = (await docs('orders', (d) => d._id === order.orderId))[0]!;
    assert.deepEqual([o.refundingFen, o.refundedFen], [0, 1234]);
    const again = await e.reconcile(0);
    assert.equal(again.refundsSettled, 0, 'idempotent');
    o = (await docs('orders', (d) => d._id === order.orderId))[0]!;
    assert.equal(o.refundedFen, 1234, 'applied exactly once');
    // the dropped refund notification would otherwise keep retrying into the next tests
    await e.clearFaults();
    figures.reconcileHeal = healed;
  });

  it('reconcile refuses anyone but its timer and admins, before any WeChat call', async () => {
    const before = JSON.stringify(await e.sim('GET', '/sim/refunds'));
    const stranger = await e.callRaw('reconcile', { minAgeSeconds: 0 }, { openid: user.openid });
    const anonymous = await e.callRaw('reconcile', { minAgeSeconds: 0 });
    const forged = await e.callRaw('reconcile', {
      Type: 'Timer',
      TriggerName: 'reconcileTimer',
      Time: new Date().toISOString(),
      minAgeSeconds: 0,
    });
    for (const r of [stranger, anonymous, forged]) {
      const result = (r.json as { result: { code?: string; ordersChecked?: number } }).result;
      assert.equal(result.code, 'PERMISSION_DENIED', JSON.stringify(r.json));
      assert.equal(result.ordersChecked, undefined);
    }
    assert.equal(JSON.stringify(await e.sim('GET', '/sim/refunds')), before, 'nothing sent to WeChat');
    const asAdmin = await e.reconcile(0);
    assert.equal(typeof asAdmin.ordersChecked, 'number', 'an admin may run it');
  });

  it('instances killed mid-refund and lost refund inserts: every refund WeChat completes lands once', async () => {
    const hostFault = async (body?: unknown) => {
      const res = await fetch(`${e.stack.hostUrl}/host/faults`, {
        method: body === undefined ? 'DELETE' : 'POST',
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      assert.ok(res.ok, `host faults → ${res.status}`);
    };
    // An owner per order: twelve refund calls by one user in a minute would meet the refund limit.
    const owners = await Promise.all(Array.from({ length: 6 }, () => e.newUser()));
    const orders = [];
    for (const owner of owners) orders.push(await paidOrder(owner));
    let crashes = 0;
    let lost = 0;
    for (const [i, o] of orders.entries()) {
      if (i % 2 === 0) {
        // Killed at a random point of the call: before, between or after the refund's writes.
        await hostFault({ function: 'refund', kind: 'crash', count: 1 });
        crashes++;
      } else {
        await e.emu('POST', '/emu/faults', {
          action: 'insert',
          collection: 'refunds',
          lostResponse: true,
          count: 1,
        });
        lost++;
      }
      // The call's own answer is whatever the crash or the lost write makes of it.
      await refund(owners[i], o.orderId).catch(() => undefined);
      await hostFault();
      await e.emu('DELETE', '/emu/faults');
      // The owner tries again; a CONFLICT (already in progress) is fine.
      const retry = await refund(owners[i], o.orderId);
      assert.ok(retry.ok || retry.error.code === 'CONFLICT', JSON.stringify(retry));
    }
    await e.reconcile(0);
    for (const o of orders) {
      const atWeChat = await e.sim<{ outRefundNo: string; status: string; amount: number }[]>(
        'GET',
        `/sim/refunds?outTradeNo=${o.orderId}`,
      );
      for (const r of atWeChat.filter((x) => x.status === 'PROCESSING'))
        await e.sim('POST', `/sim/refunds/${r.outRefundNo}/complete`, { status: 'SUCCESS' });
    }
    await e.reconcile(0);
    for (const o of orders) {
      const atWeChat = await e.sim<{ outRefundNo: string; status: string; amount: number }[]>(
        'GET',
        `/sim/refunds?outTradeNo=${o.orderId}`,
      );
      const paidBack = atWeChat.filter((r) => r.status === 'SUCCESS').reduce((n, r) => n + r.amount, 0);
      assert.ok(paidBack <= CART_FEN, `WeChat refunded ${paidBack} of ${CART_FEN} on ${o.orderId}`);
      const local = await e.waitFor(
        async () => (await docs('orders', (d) => d._id === o.orderId))[0],
        (d) => d.refundingFen === 0 && d.refundedFen === paidBack,
        `order ${o.orderId} to record the ${paidBack} fen WeChat refunded`,
        30_000,
      );
      assert.equal(local.refundedFen, paidBack, 'every fen WeChat refunded is recorded, once');
      const recorded = await docs('refunds', (d) => d.outTradeNo === o.orderId);
      for (const r of atWeChat)
        assert.equal(recorded.filter((d) => d._id === r.outRefundNo).length, 1, 'recorded once');
      for (const d of recorded.filter((x) => x.failCode === 'NOT_RESERVED'))
        assert.ok(!atWeChat.some((r) => r.outRefundNo === d._id), 'an abandoned refund never reached WeChat');
    }
    figures.crashRefunds = { orders: orders.length, crashes, lostInserts: lost };
  });
});
