// Per-user limits and reconcile paging against the local stack (docs/numbers.md#per-user-limits):
// RATE_LIMITED with retryAfterSeconds through callFunction, 429 + Retry-After over the HTTPS API, one
// count shared by both transports and all instances, nothing written or sent to WeChat when refused
// (the simulator's own request counts), orders.get answered from the stored order inside 5 s, and
// reconcile reaching every due order across runs.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { ApiResult, CreatePaymentResponse, LoginResponse } from '../shared/contracts/api';
import { ORDER_QUERY_INTERVAL_MS } from '../shared/domain/rate-limit';
import { RECONCILE_OPERATOR, startE2E, type E2E, type TestUser } from './support/e2e';

let e: E2E;
before(async () => {
  e = await startE2E();
});
after(async () => {
  await e?.close();
});

const ITEMS = [{ productId: 'tea-oolong', quantity: 1 }];

async function apiCalls(): Promise<Record<string, number>> {
  return (await e.sim<{ apiCalls: Record<string, number> }>('GET', '/sim/stats')).apiCalls;
}

async function ordersOf(user: TestUser): Promise<number> {
  return (await e.dump('orders')).filter((o) => o.openid === user.openid).length;
}

/**
 * Windows are whole minutes: a test that needs its calls inside one window starts early in a minute
 * (a wait of at most 20 s; it decides where the calls fall, never whether the test passes).
 */
async function earlyInAMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 40_000) await sleep(60_000 - into + 200);
}

const prepay = (user: TestUser, idempotencyKey?: string) =>
  e.call<CreatePaymentResponse>(
    'createPayment',
    { items: ITEMS, ...(idempotencyKey ? { idempotencyKey } : {}) },
    { openid: user.openid },
  );

async function httpApi(
  name: string,
  data: unknown,
  token: string,
): Promise<{ status: number; headers: Record<string, string>; body: ApiResult<unknown> }> {
  const a = await e.http('POST', `/api/${name}`, JSON.stringify(data), {
    'content-type': 'application/json',
    authorization: `Bearer ${token}`,
  });
  return { status: a.status, headers: a.headers, body: JSON.parse(a.body) as ApiResult<unknown> };
}

describe('the prepay limit through the functions', () => {
  it('the 11th payment in a minute is RATE_LIMITED with retryAfterSeconds; no order, no prepay at WeChat', async () => {
    await earlyInAMinute();
    const user = await e.newUser();
    const before = await apiCalls();
    const first = await prepay(user, 'rl-e2e-key-0001');
    assert.ok(first.ok, JSON.stringify(first));
    for (let i = 1; i < 10; i++) assert.ok((await prepay(user)).ok);
    const refused = await prepay(user);
    assert.ok(!refused.ok);
    assert.equal(refused.error.code, 'RATE_LIMITED');
    const wait = refused.error.retryAfterSeconds ?? 0;
    assert.ok(Number.isInteger(wait) && wait >= 1 && wait <= 60, String(wait));
    assert.match(refused.error.message, /retry in \d+ s/);
    assert.equal((await apiCalls()).jsapi - (before.jsapi ?? 0), 10, 'the refused call reached no WeChat');
    assert.equal(await ordersOf(user), 10, 'and wrote no order');

    // A keyed retry that reuses its live prepay is never limited, and costs nothing.
    const again = await prepay(user, 'rl-e2e-key-0001');
    assert.ok(again.ok && first.ok && again.data.orderId === first.data.orderId, JSON.stringify(again));
    assert.equal((await apiCalls()).jsapi - (before.jsapi ?? 0), 10);
    // Another user has a count of their own.
    assert.ok((await prepay(await e.newUser())).ok);
  });

  it('over the HTTPS API: 429 with Retry-After, counted together with callFunction for the same user', async () => {
    await earlyInAMinute();
    const user = await e.newUser();
    const code = await e.loginCode(user.openid);
    const login = await e.http('POST', '/api/login', JSON.stringify({ code }), {
      'content-type': 'application/json',
    });
    const { token } = (JSON.parse(login.body) as { data: LoginResponse }).data;
    for (let i = 0; i < 5; i++) assert.ok((await prepay(user)).ok);
    for (let i = 0; i < 5; i++)
      assert.equal((await httpApi('createPayment', { items: ITEMS }, token)).status, 200);
    const before = await apiCalls();
    const refused = await httpApi('createPayment', { items: ITEMS }, token);
    assert.equal(refused.status, 429);
    assert.ok(!refused.body.ok);
    assert.equal(refused.body.error.code, 'RATE_LIMITED');
    assert.equal(refused.headers['retry-after'], String(refused.body.error.retryAfterSeconds));
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.deepEqual(await apiCalls(), before, 'nothing sent to WeChat');
    assert.equal(await ordersOf(user), 10);
  });
});

describe('orders.get on an unpaid order', () => {
  it('asks WeChat at most once per order every 5 s; otherwise answers from the stored order', async () => {
    const user = await e.newUser();
    const created = await prepay(user);
    assert.ok(created.ok);
    const orderId = created.data.orderId;
    const before = (await apiCalls()).query ?? 0;
    const gets = await Promise.all(
      Array.from({ length: 8 }, () => e.call('orders', { action: 'get', orderId }, { openid: user.openid })),
    );
    for (const g of gets)
      assert.ok(g.ok && (g.data as { status: string }).status === 'NOTPAY', JSON.stringify(g));
    assert.equal((await apiCalls()).query - before, 1, 'eight concurrent reads, one WeChat query');
    assert.ok((await e.getOrder(user, orderId)).status === 'NOTPAY');
    assert.equal(
      (await apiCalls()).query - before,
      1,
      'a read inside the interval is answered from the store',
    );

    await sleep(ORDER_QUERY_INTERVAL_MS + 100);
    await e.getOrder(user, orderId);
    assert.equal((await apiCalls()).query - before, 2, 'once the interval has passed WeChat is asked again');
  });
});

describe('reconcile paging', () => {
  it('reaches every due order across runs of two 20-order pages, then starts over at the oldest', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => e.newUser()));
    for (const user of users) for (let i = 0; i < 10; i++) assert.ok((await prepay(user)).ok);
    await e.reconcile(); // makes the operator an admin; with the 5-minute age nothing is due yet
    const due = (await e.dump('orders')).filter((o) => o.status === 'NOTPAY').length;
    assert.ok(due >= 120, String(due));

    const run = async () => {
      const r = await e.callRaw(
        'reconcile',
        { minAgeSeconds: 0, pageSize: 20, maxPages: 2 },
        { openid: RECONCILE_OPERATOR },
      );
      return (r.json as { result: { ordersChecked: number; paging: { orders: { reachedEnd: boolean } } } })
        .result;
    };
    const before = (await apiCalls()).query ?? 0;
    let checked = 0;
    let runs = 0;
    for (; runs < 20; runs++) {
      const report = await run();
      checked += report.ordersChecked;
      if (report.paging.orders.reachedEnd) break;
      assert.equal(report.ordersChecked, 40, JSON.stringify(report));
    }
    assert.equal(checked, due, 'every due order, once');
    assert.equal((await apiCalls()).query - before, due);
    assert.ok(runs + 1 >= Math.ceil(due / 40), `${runs + 1} runs`);
    const next = await run();
    assert.equal(next.ordersChecked, 40, 'the next pass starts at the oldest again');

    // Paging values that are not integers in 1–100 keep the defaults (50 a page, 20 pages).
    const junk = await e.callRaw(
      'reconcile',
      { minAgeSeconds: 0, pageSize: 'all', maxPages: 1e9 },
      { openid: RECONCILE_OPERATOR },
    );
    const report = (
      junk.json as { result: { ordersChecked?: number; paging?: { orders: { pages: number } } } }
    ).result;
    assert.equal(report.ordersChecked, due - 40, 'the rest of the pass, in pages of 50');
    assert.equal(report.paging?.orders.pages, Math.floor((due - 40) / 50) + 1);
  });
});
