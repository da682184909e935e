// The sample mini-program over both transports, against the real local stack through the wx adapter:
// wx.cloud.callFunction (the default) and wx.request to the HTTPS API with the session token as
// Bearer. Sign-in, checkout and pay, the order list and detail, a refund; token expiry → one silent
// re-login (wx.login → /api/login) and the call goes through.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { ApiCallError } from '../../miniprogram/miniprogram/lib/api-client';
import { SESSION_STORAGE_KEY, type Session } from '../../miniprogram/miniprogram/lib/session';
import { type TransportChoice, createServices } from '../../miniprogram/miniprogram/lib/services';
import { OrderDetailModel } from '../../miniprogram/miniprogram/logic/order-detail';
import { OrderListModel } from '../../miniprogram/miniprogram/logic/order-list';
import { type MiniprogramStack, type Phone, checkout, startMiniprogramStack } from './phone';
import { createWxAdapter } from './wx-adapter';

let stack: MiniprogramStack;
before(async () => {
  stack = await startMiniprogramStack();
});
after(() => stack?.close());

type Kind = TransportChoice['kind'];

async function newPhone(kind: Kind, existing?: { openid: string; appid: string }): Promise<Phone> {
  const user = existing ?? (await stack.e2e.newUser());
  const adapter = createWxAdapter({
    hostUrl: stack.e2e.hostUrl,
    simUrl: stack.e2e.simUrl,
    openid: user.openid,
    appid: user.appid,
    database: () => openLocalDatabase(stack.e2e.emuUrl),
  });
  const services = createServices(adapter.wx, {
    client: { retry: { baseDelayMs: 20, maxDelayMs: 100 } },
    transport: kind === 'https' ? { kind: 'https', baseUrl: stack.e2e.hostUrl } : { kind: 'cloud' },
  });
  return { openid: user.openid, appid: user.appid, adapter, services };
}

/** A token like login's, signed with the stack's secret, already expired. */
function expiredToken(openid: string): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    sub: openid,
    iss: 'wxcloud-pay',
    aud: stack.e2e.baseEnv.WX_APPID,
    iat: now - 7300,
    exp: now - 100,
  })}`;
  return `${head}.${createHmac('sha256', stack.e2e.baseEnv.JWT_SECRET).update(head).digest('base64url')}`;
}

for (const kind of ['cloud', 'https'] as const) {
  describe(`transport ${kind}`, () => {
    test('sign in, pay, list, read and refund', async () => {
      const phone = await newPhone(kind);
      const { session } = await phone.services.auth.signIn();
      assert.equal(session.user.openid, phone.openid);
      assert.equal(session.user.isNew, true);

      const paid = await checkout(phone, [stack.catalog[0], stack.catalog[1]]).pay();
      assert.equal(paid.step, 'paid', JSON.stringify(paid));
      if (paid.step !== 'paid') return;
      assert.equal(paid.order.status, 'SUCCESS');
      assert.equal(paid.order.amountFen, stack.catalog[0].priceFen + stack.catalog[1].priceFen);

      const list = await new OrderListModel(phone.services.api, phone.services.auth).refresh();
      assert.deepEqual(
        list.map((o) => o.orderId),
        [paid.order.orderId],
      );
      const detail = new OrderDetailModel(paid.order.orderId, phone.services.api, phone.services.auth);
      assert.equal((await detail.load()).status, 'SUCCESS');
      const refund = await detail.requestRefund();
      assert.equal(refund.amountFen, paid.order.amountFen);
      const final = await detail.watchRefund(refund.refundId, undefined, { intervalMs: 200, maxPolls: 75 });
      assert.equal(final?.status, 'SUCCESS');

      // Each call went by the chosen transport, and only it.
      const calls = phone.adapter.calls;
      assert.ok(calls.length >= 6);
      assert.ok(
        calls.every((c) => c.transport === kind),
        JSON.stringify(calls.map((c) => c.transport)),
      );
      if (kind === 'https') {
        const token = phone.services.session.load()!.token;
        for (const c of calls) {
          if (c.name === 'login') assert.equal(c.authorization, undefined, 'login sends its code, no token');
          else assert.equal(c.authorization, `Bearer ${token}`, c.name);
          assert.equal(c.status, 200, `${c.name}: ${JSON.stringify(c.result)}`);
        }
      }
    });

    test('a token expired on the server: one silent re-login, then the call goes through', async () => {
      const phone = await newPhone(kind);
      const { session } = await phone.services.auth.signIn();
      // The stored session still looks valid on the phone, but the server no longer accepts its token
      // (over cloud the context is lost instead, which the server answers the same way).
      const stale: Session = { ...session, token: expiredToken(phone.openid) };
      phone.adapter.wx.setStorageSync(SESSION_STORAGE_KEY, stale);
      if (kind === 'cloud') phone.adapter.dropIdentityForNextCalls(1);
      const codesBefore = phone.adapter.loginCodesIssued();
      const orders = await new OrderListModel(phone.services.api, phone.services.auth).refresh();
      assert.deepEqual(orders, []);
      assert.deepEqual(
        phone.adapter.calls.map((c) => c.name),
        ['login', 'orders', 'login', 'orders'],
      );
      const refused = phone.adapter.calls[1];
      assert.equal((refused.result as { error?: { code?: string } }).error?.code, 'UNAUTHENTICATED');
      if (kind === 'https') {
        assert.equal(refused.status, 401);
        assert.equal(phone.adapter.calls[3].status, 200);
      }
      assert.equal(phone.adapter.loginCodesIssued(), codesBefore + 1, 'exactly one new wx.login');
      const renewed = phone.services.session.current();
      assert.ok(renewed && renewed.token !== stale.token, 'a fresh token is stored');
    });

    test('a session expired on the phone: logged in again before the call', async () => {
      const phone = await newPhone(kind);
      const { session } = await phone.services.auth.signIn();
      phone.adapter.wx.setStorageSync(SESSION_STORAGE_KEY, {
        ...session,
        expiresAt: Math.floor(Date.now() / 1000) - 1,
      });
      await new OrderListModel(phone.services.api, phone.services.auth).refresh();
      assert.deepEqual(
        phone.adapter.calls.map((c) => c.name),
        ['login', 'login', 'orders'],
      );
    });

    test('a lost answer to a read is retried; the user never notices', async () => {
      const phone = await newPhone(kind);
      await phone.services.auth.signIn();
      phone.adapter.failNextCalls(1, 'after');
      const orders = await new OrderListModel(phone.services.api, phone.services.auth).refresh();
      assert.deepEqual(orders, []);
      assert.deepEqual(
        phone.adapter.calls.map((c) => c.name),
        ['login', 'orders', 'orders'],
      );
    });
  });
}

describe('transport https only', () => {
  test('a token that keeps being refused: one re-login, then the error reaches the page', async () => {
    const phone = await newPhone('https');
    await phone.services.auth.signIn();
    // Every call from now on loses its Authorization header (e.g. a proxy that strips it).
    phone.adapter.dropIdentityForNextCalls(10);
    await assert.rejects(
      new OrderListModel(phone.services.api, phone.services.auth).refresh(),
      (err: unknown) => err instanceof ApiCallError && err.code === 'UNAUTHENTICATED',
    );
    assert.deepEqual(
      phone.adapter.calls.map((c) => c.name),
      ['login', 'orders', 'login', 'orders'],
      'one re-login, no loop',
    );
  });

  test('a lost login answer is retried with a new wx.login code, never the spent one', async () => {
    const phone = await newPhone('https');
    phone.adapter.failNextCalls(1, 'after');
    const { session } = await phone.services.auth.signIn();
    assert.equal(session.user.openid, phone.openid);
    const logins = phone.adapter.calls.filter((c) => c.name === 'login');
    assert.equal(logins.length, 2);
    assert.equal(logins[0].status, 200, 'the first login ran; only its answer was lost');
    assert.notEqual(logins[1].data.code, logins[0].data.code, 'the retry carries a new code');
    assert.equal(logins[1].status, 200);
    assert.equal(phone.adapter.loginCodesIssued(), 2);
  });

  test('over wx.cloud the login retry may repeat its code (the context names the caller)', async () => {
    const phone = await newPhone('cloud');
    phone.adapter.failNextCalls(1, 'after');
    await phone.services.auth.signIn();
    const logins = phone.adapter.calls.filter((c) => c.name === 'login');
    assert.equal(logins.length, 2);
    assert.equal(logins[1].data.code, logins[0].data.code);
    assert.equal(phone.adapter.loginCodesIssued(), 1);
  });

  test('an answer without an envelope (no route deployed) is a network failure naming HTTP_API', async () => {
    const user = await stack.e2e.newUser();
    const adapter = createWxAdapter({
      hostUrl: stack.e2e.hostUrl,
      simUrl: stack.e2e.simUrl,
      openid: user.openid,
      appid: user.appid,
    });
    const services = createServices(adapter.wx, {
      client: { retry: { attempts: 1 } },
      transport: { kind: 'https', baseUrl: `${stack.e2e.hostUrl}/nowhere` },
    });
    await assert.rejects(
      services.auth.signIn(),
      (err: unknown) =>
        err instanceof ApiCallError && err.code === 'NETWORK' && /HTTP_API=on/.test(err.message),
    );
    assert.equal(adapter.calls[0].status, 404);
  });
});
