// The mini-program's cloud client and auth over real HTTP: envelope, retries with backoff,
// idempotency keys across retries, user messages, session renewal.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ApiCallError, ApiClient, unwrapEnvelope } from '../../miniprogram/miniprogram/lib/api-client';
import { userMessage } from '../../miniprogram/miniprogram/lib/error-messages';
import { DEFAULT_RETRY, backoffDelay } from '../../miniprogram/miniprogram/lib/retry';
import { SESSION_STORAGE_KEY } from '../../miniprogram/miniprogram/lib/session';
import { createServices } from '../../miniprogram/miniprogram/lib/services';
import { type StandInHost, httpAnswer, startStandInHost } from './stand-in-host';
import { type WxAdapter, createWxAdapter } from './wx-adapter';

const OPENID = 'o_standin_user_0001';
const ok = (data: unknown) => ({ ok: true, data });
const fail = (code: string, message = 'from the stand-in', upstream?: string) => ({
  ok: false,
  error: { code, message, ...(upstream ? { upstream } : {}) },
});

let host: StandInHost;
let adapter: WxAdapter;
let slept: number[];
let clock: number;

function services() {
  return createServices(adapter.wx, {
    now: () => clock,
    client: { sleep: async (ms) => void slept.push(ms), random: () => 1 },
  });
}

function scriptLogin() {
  host.script('login', (_body, i) =>
    ok({
      token: `token-${i}`,
      expiresAt: Math.floor(clock / 1000) + 7200,
      user: { openid: OPENID, isNew: i === 0 },
    }),
  );
}

before(async () => {
  host = await startStandInHost();
});
after(() => host.close());
beforeEach(() => {
  adapter = createWxAdapter({ hostUrl: host.url, simUrl: host.url, openid: OPENID, appid: 'wx_standin_app' });
  slept = [];
  clock = Date.UTC(2026, 0, 1);
  host.seen.length = 0;
});

describe('envelope', () => {
  test('ok answers return their data and carry the caller identity', async () => {
    host.script('orders', (body) => ok({ orders: [], echo: body }));
    const { api } = services();
    const page = (await api.listOrders({ pageSize: 5 })) as unknown as { echo: unknown };
    assert.deepEqual(page.echo, { action: 'list', pageSize: 5 });
    const [seen] = host.callsTo('orders');
    assert.equal(seen?.headers['x-wx-openid'], OPENID);
    assert.equal(seen?.headers['x-wx-appid'], 'wx_standin_app');
  });

  test('error answers become ApiCallError with the code, upstream code and user message', async () => {
    host.script('refund', () => fail('UPSTREAM_ERROR', 'NOTENOUGH: balance', 'NOTENOUGH'));
    const { api } = services();
    const error = await api.refund({ orderId: 'o1' }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApiCallError);
    assert.equal(error.code, 'UPSTREAM_ERROR');
    assert.equal(error.upstream, 'NOTENOUGH');
    assert.notEqual(
      error.userMessage,
      userMessage('UPSTREAM_ERROR'),
      'a known upstream code gets its own sentence',
    );
  });

  test('anything that is not an envelope is INTERNAL; unknown codes are INTERNAL', () => {
    for (const bad of [undefined, 'text', [], { data: 1 }, { ok: 'yes' }]) {
      assert.throws(
        () => unwrapEnvelope(bad),
        (e: unknown) => e instanceof ApiCallError && e.code === 'INTERNAL',
      );
    }
    assert.throws(
      () => unwrapEnvelope({ ok: false, error: { code: 'TEAPOT', message: 'x' } }),
      (e: unknown) => e instanceof ApiCallError && e.code === 'INTERNAL',
    );
  });
});

describe('retries', () => {
  test('UPSTREAM_UNAVAILABLE is retried with growing backoff until it succeeds', async () => {
    host.script('orders', (_b, i) =>
      i < 2 ? fail('UPSTREAM_UNAVAILABLE') : ok({ orderId: 'o1', status: 'NOTPAY' }),
    );
    const attempts: string[] = [];
    const api = new ApiClient(adapter.wx.cloud, {
      sleep: async (ms) => void slept.push(ms),
      random: () => 1,
      onAttempt: (a) => attempts.push(a.outcome),
    });
    const order = await api.getOrder('o1');
    assert.equal(order.orderId, 'o1');
    assert.deepEqual(attempts, ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_UNAVAILABLE', 'ok']);
    assert.equal(host.callsTo('orders').length, 3);
    assert.deepEqual(slept, [
      backoffDelay(DEFAULT_RETRY, 1, () => 1),
      backoffDelay(DEFAULT_RETRY, 2, () => 1),
    ]);
    assert.ok(slept[1] > slept[0]);
  });

  test('RATE_LIMITED gives up after the attempt budget with the user message', async () => {
    host.script('orders', () => fail('RATE_LIMITED'));
    const { api } = services();
    const error = await api.getOrder('o1').then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApiCallError);
    assert.equal(error.code, 'RATE_LIMITED');
    assert.equal(error.attempts, DEFAULT_RETRY.attempts);
    assert.equal(error.userMessage, userMessage('RATE_LIMITED'));
    assert.equal(host.callsTo('orders').length, DEFAULT_RETRY.attempts);
  });

  test('a per-user limit with a long wait is shown at once, with the seconds to wait', async () => {
    host.script('createPayment', () => ({
      ok: false,
      error: { code: 'RATE_LIMITED', message: 'too many payments', retryAfterSeconds: 37 },
    }));
    const { api } = services();
    const error = await api.createPayment({ items: [{ productId: 'p', quantity: 1 }] }).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ApiCallError);
    assert.deepEqual([error.code, error.retryAfterSeconds, error.attempts], ['RATE_LIMITED', 37, 1]);
    assert.equal(error.userMessage, '操作太频繁，请 37 秒后再试');
    assert.equal(host.callsTo('createPayment').length, 1, 'a retry before the wait would be refused again');
    assert.deepEqual(slept, []);
  });

  test('a per-user limit with a short wait is waited out, then retried', async () => {
    host.script('orders', (_body, i) =>
      i === 0
        ? { ok: false, error: { code: 'RATE_LIMITED', message: 'slow down', retryAfterSeconds: 3 } }
        : ok({ orderId: 'o1' }),
    );
    const { api } = services();
    assert.equal((await api.getOrder('o1')).orderId, 'o1');
    assert.deepEqual(slept, [3000]);
  });

  test('non-retryable codes are not retried', async () => {
    host.script('orders', () => fail('CONFLICT'));
    const { api } = services();
    await assert.rejects(
      api.closeOrder('o1'),
      (e: unknown) => e instanceof ApiCallError && e.code === 'CONFLICT' && e.attempts === 1,
    );
    assert.equal(host.callsTo('orders').length, 1);
    assert.deepEqual(slept, []);
  });

  test('a lost answer to createPayment is retried with the same idempotency key', async () => {
    host.script('createPayment', (body) =>
      ok({ orderId: `order-for-${String(body.idempotencyKey)}`, amountFen: 1, payment: {} }),
    );
    adapter.failNextCalls(1, 'after');
    const { api } = services();
    const created = await api.createPayment({
      items: [{ productId: 'p1', quantity: 1 }],
      idempotencyKey: 'ck_same_key_0001',
    });
    const keys = host.callsTo('createPayment').map((s) => s.body.idempotencyKey);
    assert.deepEqual(
      keys,
      ['ck_same_key_0001', 'ck_same_key_0001'],
      'the host ran both attempts with one key',
    );
    assert.equal(created.orderId, 'order-for-ck_same_key_0001');
    assert.equal(adapter.calls[0]?.failure, 'cloud.callFunction:fail request:fail timeout');
  });

  test('a network failure of refund is not retried, since it may have run', async () => {
    host.script('refund', () => ok({ refundId: 'r1', status: 'PROCESSING', amountFen: 1 }));
    adapter.failNextCalls(1, 'after');
    const { api } = services();
    await assert.rejects(
      api.refund({ orderId: 'o1' }),
      (e: unknown) =>
        e instanceof ApiCallError && e.code === 'NETWORK' && e.userMessage === userMessage('NETWORK'),
    );
    assert.equal(host.callsTo('refund').length, 1);
  });

  test('a platform failure (function crashed) counts as a network failure and is retried when idempotent', async () => {
    host.script('orders', (_b, i) =>
      i === 0
        ? httpAnswer(500, { errCode: -504002, errMsg: 'cloud.callFunction:fail functions execute fail' })
        : ok({ orders: [] }),
    );
    const { api } = services();
    const page = await api.listOrders();
    assert.deepEqual(page.orders, []);
    assert.equal(host.callsTo('orders').length, 2);
    assert.match(adapter.calls[0]?.failure ?? '', /functions execute fail/);
  });
});

describe('session', () => {
  test('first use logs in with a wx.login code and stores the session', async () => {
    scriptLogin();
    const { auth, session } = services();
    const first = await auth.signIn();
    assert.equal(first.fromStorage, false);
    assert.equal(first.session.user.isNew, true);
    assert.match(String(host.callsTo('login')[0]?.body.code), /^code-\d+$/);
    assert.deepEqual(session.load(), first.session);
    assert.ok(adapter.storage.has(SESSION_STORAGE_KEY));
    const again = await auth.signIn();
    assert.equal(again.fromStorage, true, 'a valid stored session needs no login call');
    assert.equal(host.callsTo('login').length, 1);
  });

  test('an expired session is renewed before the call', async () => {
    scriptLogin();
    host.script('orders', () => ok({ orders: [] }));
    const { auth, api } = services();
    await auth.signIn();
    clock += 7200 * 1000; // the token's lifetime passes
    await auth.withSession(() => api.listOrders());
    const paths = host.seen.map((s) => s.path).filter((p) => p.startsWith('/functions/'));
    assert.deepEqual(paths, ['/functions/login', '/functions/login', '/functions/orders']);
    assert.equal(adapter.loginCodesIssued(), 2);
  });

  test('UNAUTHENTICATED from a function triggers one re-login and one retry', async () => {
    scriptLogin();
    host.script('orders', (_b, i) => (i === 0 ? fail('UNAUTHENTICATED') : ok({ orders: [] })));
    const { auth, api, session } = services();
    await auth.signIn();
    const tokenBefore = session.load()?.token;
    await auth.withSession(() => api.listOrders());
    assert.equal(host.callsTo('login').length, 2);
    assert.notEqual(session.load()?.token, tokenBefore);
    // A function that keeps refusing is reported, not looped on.
    host.script('orders', () => fail('UNAUTHENTICATED'));
    await assert.rejects(
      auth.withSession(() => api.listOrders()),
      (e: unknown) => e instanceof ApiCallError && e.code === 'UNAUTHENTICATED',
    );
    assert.equal(host.callsTo('login').length, 3);
  });

  test('concurrent calls without a session share one login', async () => {
    scriptLogin();
    host.script('orders', () => ok({ orders: [] }));
    const { auth, api } = services();
    await Promise.all([1, 2, 3].map(() => auth.withSession(() => api.listOrders())));
    assert.equal(host.callsTo('login').length, 1);
    assert.equal(host.callsTo('orders').length, 3);
  });
});
