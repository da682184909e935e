// The whole product flow on the local stack — real SDKs → emulator, real HTTP → simulator, bundles
// run by the host — in every WeChat Pay mode: v3 platform certificate, v3 public key, the migration
// mix, and legacy v2. Plus login (code and context), JWT over HTTP access, lists and close.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type {
  ApiResult,
  LoginResponse,
  OrdersGetResponse,
  OrdersListResponse,
  OrderView,
  RefundResponse,
} from '../shared/contracts/api';
import { CART, CART_FEN, startE2E, type E2E, type TestUser } from './support/e2e';

let e: E2E;
let admin: TestUser;
const timings: Record<string, number> = {};

before(async () => {
  e = await startE2E();
  admin = await e.newUser();
  e.setEnv({ ADMIN_OPENIDS: admin.openid });
});
after(async () => {
  console.log(`[flow] timings ms ${JSON.stringify(timings)}`);
  await e?.close();
});

type Mode = 'certificate' | 'publicKey' | 'migration' | 'v2';

function configure(mode: Mode): Promise<unknown> {
  const base = e.baseEnv;
  const keyed = { WXPAY_PUBLIC_KEY_ID: base.WXPAY_PUBLIC_KEY_ID, WXPAY_PUBLIC_KEY: base.WXPAY_PUBLIC_KEY };
  if (mode === 'certificate')
    e.setEnv({ WXPAY_API_VERSION: 'v3', WXPAY_PUBLIC_KEY_ID: undefined, WXPAY_PUBLIC_KEY: undefined });
  else e.setEnv({ WXPAY_API_VERSION: mode === 'v2' ? 'v2' : 'v3', ...keyed });
  return e.sim('POST', '/sim/mode', { signingMode: mode === 'v2' ? 'publicKey' : mode });
}

async function deliveries(q: string) {
  return e.sim<{ id: string; eventType: string; state: string; attempts: { status: number }[] }[]>(
    'GET',
    `/sim/deliveries?${q}`,
  );
}

async function refundAs(who: TestUser, orderId: string, amountFen?: number): Promise<RefundResponse> {
  const r = await e.call<RefundResponse>(
    'refund',
    { orderId, ...(amountFen ? { amountFen } : {}) },
    { openid: who.openid },
  );
  assert.ok(r.ok, `refund failed: ${JSON.stringify(r)}`);
  return r.data;
}

async function fullFlow(mode: Mode): Promise<void> {
  const started = Date.now();
  await configure(mode);
  const user = await e.newUser();
  const login = await e.login(user, { nickName: `buyer ${mode}` });
  assert.equal(login.user.openid, user.openid);
  assert.equal(login.user.isNew, true);

  const created = await e.createPayment(user, CART);
  assert.equal(created.amountFen, CART_FEN);
  assert.equal(created.payment.signType, mode === 'v2' ? 'HMAC-SHA256' : 'RSA');
  assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');

  // The notification arrives and is applied (204 / v2 SUCCESS) — wait for it before asking.
  const paid = await e.waitFor(
    () => deliveries(`outTradeNo=${created.orderId}`),
    (d) => d.some((x) => x.state === 'delivered'),
    `${mode} payment notification`,
    30_000,
  );
  assert.ok(
    paid.some((d) => d.attempts.some((a) => a.status === (mode === 'v2' ? 200 : 204))),
    JSON.stringify(paid),
  );
  const order = await e.getOrder(user, created.orderId);
  assert.equal(order.status, 'SUCCESS');
  assert.ok(order.transactionId);
  const notes = await e.dump('notifications');
  assert.ok(
    notes.some((n) => n.outTradeNo === created.orderId && n.outcome === 'applied'),
    'notification recorded as applied',
  );

  // Admin partial refund → refund notification → SUCCESS, order keeps SUCCESS with refundedFen.
  const part = await refundAs(admin, created.orderId, 1000);
  assert.equal(part.status, 'PROCESSING');
  await e.sim('POST', `/sim/refunds/${part.refundId}/complete`, { status: 'SUCCESS' }).catch(() => undefined);
  const afterPart = await e.waitFor(
    () => e.getOrder(user, created.orderId),
    (o) => o.refundedFen === 1000 && o.refunds.every((r) => r.status === 'SUCCESS'),
    `${mode} partial refund applied`,
  );
  assert.equal(afterPart.status, 'SUCCESS');
  assert.equal(afterPart.refundingFen, 0);

  // The rest → REFUNDED.
  const rest = await refundAs(admin, created.orderId);
  assert.equal(rest.amountFen, CART_FEN - 1000);
  await e.sim('POST', `/sim/refunds/${rest.refundId}/complete`, { status: 'SUCCESS' }).catch(() => undefined);
  const done = await e.waitFor(
    () => e.getOrder(user, created.orderId),
    (o) => o.status === 'REFUNDED',
    `${mode} REFUNDED`,
  );
  assert.deepEqual([done.refundedFen, done.refundingFen, done.refunds.length], [CART_FEN, 0, 2]);
  // Both refund notifications were verified and recorded (applied, or duplicate when a query won the race).
  const refundNotes = await e.waitFor(
    async () =>
      (await e.dump('notifications')).filter(
        (n) => n.outRefundNo === part.refundId || n.outRefundNo === rest.refundId,
      ),
    (n) => n.length === 2,
    `${mode} refund notifications recorded`,
    30_000,
  );
  assert.ok(
    refundNotes.every((n) => n.outcome === 'applied' || n.outcome === 'duplicate'),
    JSON.stringify(refundNotes),
  );

  // Nothing is left to refund.
  const again = await e.call('refund', { orderId: created.orderId }, { openid: admin.openid });
  assert.equal(!again.ok && again.error.code, 'CONFLICT');
  timings[mode] = Date.now() - started;
}

describe('the whole flow in every mode', () => {
  it('v3, platform-certificate mode', () => fullFlow('certificate'));
  it('v3, public-key mode', () => fullFlow('publicKey'));
  it('v3, migration (both kinds of signature)', () => fullFlow('migration'));
  it('v2 (XML, HMAC-SHA256)', () => fullFlow('v2'));
});

describe('login, identity and the other actions (v3)', () => {
  it('concurrent first logins create one user; tokens work over HTTP access', async () => {
    await configure('publicKey');
    const user = await e.newUser({ withUnionid: true });
    const codes = await Promise.all(Array.from({ length: 5 }, () => e.loginCode(user.openid)));
    const results = await Promise.all(codes.map((code) => e.call<LoginResponse>('login', { code })));
    assert.ok(
      results.every((r) => r.ok),
      JSON.stringify(results),
    );
    const ok = results.map((r) => (r.ok ? r.data : undefined)!);
    assert.equal(ok.filter((r) => r.user.isNew).length, 1);
    const users = (await e.dump('users')).filter((u) => u._id === user.openid);
    assert.equal(users.length, 1);
    assert.equal(users[0].loginCount, 5);
    assert.ok(
      !JSON.stringify(results).includes('session_key') &&
        !JSON.stringify(users).toLowerCase().includes('session'),
    );
    // A used code is refused with an actionable message.
    const reused = await e.call('login', { code: codes[0] });
    assert.equal(!reused.ok && reused.error.code, 'INVALID_ARGUMENT');
    // Context identity wins over any code.
    const ctx = await e.call<LoginResponse>('login', { code: 'whatever' }, { openid: user.openid });
    assert.ok(ctx.ok && ctx.data.user.openid === user.openid && !ctx.data.user.isNew);

    // HTTP access (no context identity): Bearer token required, and it is the token's openid that counts.
    const token = ok[0].token;
    // Over the HTTPS API route (README: HTTPS API), the envelope comes back as the JSON body.
    const listOverHttp = async (auth?: string) => {
      const a = await e.http('POST', '/api/orders', JSON.stringify({ action: 'list' }), {
        'content-type': 'application/json',
        ...(auth ? { Authorization: auth } : {}),
      });
      return { status: a.status, result: JSON.parse(a.body) as ApiResult<OrdersListResponse> };
    };
    const viaToken = await listOverHttp(`Bearer ${token}`);
    assert.ok(viaToken.status === 200 && viaToken.result.ok, JSON.stringify(viaToken));
    for (const bad of [undefined, 'Bearer nope', `Bearer ${token.slice(0, -2)}xx`, 'Basic abc']) {
      const r = await listOverHttp(bad);
      assert.equal(r.status, 401, String(bad));
      assert.equal(!r.result.ok && r.result.error.code, 'UNAUTHENTICATED', String(bad));
    }
    const anonymous = await e.call('createPayment', { items: CART });
    assert.equal(!anonymous.ok && anonymous.error.code, 'UNAUTHENTICATED');
  });

  it('lists own orders newest first with a cursor, closes unpaid ones, hides other users’ orders', async () => {
    await configure('publicKey');
    const user = await e.newUser();
    const other = await e.newUser();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await e.createPayment(user, [{ productId: 'tea-oolong', quantity: i + 1 }])).orderId);
    const page1 = await e.call<OrdersListResponse>(
      'orders',
      { action: 'list', pageSize: 2 },
      { openid: user.openid },
    );
    assert.ok(page1.ok);
    assert.equal(page1.data.orders.length, 2);
    const page2 = await e.call<OrdersListResponse>(
      'orders',
      { action: 'list', pageSize: 2, before: page1.data.nextBefore },
      { openid: user.openid },
    );
    assert.ok(page2.ok);
    const listed = [...page1.data.orders, ...page2.data.orders].map((o: OrderView) => o.orderId);
    assert.deepEqual([...listed].sort(), [...ids].sort());
    assert.equal(page2.data.nextBefore, undefined);

    const peek = await e.call('orders', { action: 'get', orderId: ids[0] }, { openid: other.openid });
    assert.equal(!peek.ok && peek.error.code, 'NOT_FOUND');
    const adminPeek = await e.call<OrdersGetResponse>(
      'orders',
      { action: 'get', orderId: ids[0] },
      { openid: admin.openid },
    );
    assert.ok(adminPeek.ok && adminPeek.data.orderId === ids[0]);
    const otherClose = await e.call('orders', { action: 'close', orderId: ids[0] }, { openid: other.openid });
    assert.equal(!otherClose.ok && otherClose.error.code, 'NOT_FOUND');
    // Admins may read any order but close only their own.
    const adminClose = await e.call('orders', { action: 'close', orderId: ids[0] }, { openid: admin.openid });
    assert.equal(!adminClose.ok && adminClose.error.code, 'NOT_FOUND', JSON.stringify(adminClose));
    assert.equal((await e.getOrder(user, ids[0])).status, 'NOTPAY', "an admin's close changed nothing");

    const closed = await e.call<OrderView>(
      'orders',
      { action: 'close', orderId: ids[0] },
      { openid: user.openid },
    );
    assert.ok(closed.ok && closed.data.status === 'CLOSED', JSON.stringify(closed));
    const simOrders = await e.sim<{ outTradeNo: string; tradeState: string }[]>(
      'GET',
      `/sim/orders?openid=${user.openid}`,
    );
    assert.equal(
      simOrders.find((o) => o.outTradeNo === ids[0])?.tradeState,
      'CLOSED',
      'closed at WeChat first',
    );
    // Refund of an unpaid order is refused.
    const r = await e.call('refund', { orderId: ids[1] }, { openid: user.openid });
    assert.equal(!r.ok && r.error.code, 'CONFLICT');
  });

  it('the owner may refund the whole order inside the window, once', async () => {
    await configure('publicKey');
    const user = await e.newUser();
    const created = await e.createPayment(user, [{ productId: 'sticker-pack', quantity: 3 }]);
    assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
    await e.waitFor(
      () => e.getOrder(user, created.orderId),
      (o) => o.status === 'SUCCESS',
      'paid',
    );
    const partial = await e.call(
      'refund',
      { orderId: created.orderId, amountFen: 1 },
      { openid: user.openid },
    );
    assert.equal(!partial.ok && partial.error.code, 'PERMISSION_DENIED');
    const full = await refundAs(user, created.orderId);
    assert.equal(full.amountFen, 3);
    const twice = await e.call('refund', { orderId: created.orderId }, { openid: user.openid });
    assert.equal(!twice.ok && twice.error.code, 'CONFLICT');
    await e.waitFor(
      () => e.getOrder(user, created.orderId),
      (o) => o.status === 'REFUNDED',
      'refunded',
    );
  });
});
