// The sample mini-program's account and order pages, run in Node against the real local stack
// (function host, WeChat simulator, CloudBase emulator) through the wx adapter: sign-in, session
// expiry, the order list and refunds.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiCallError } from '../../miniprogram/miniprogram/lib/api-client';
import { userMessage, userMessageFor } from '../../miniprogram/miniprogram/lib/error-messages';
import { createServices } from '../../miniprogram/miniprogram/lib/services';
import { SESSION_STORAGE_KEY } from '../../miniprogram/miniprogram/lib/session';
import { OrderDetailModel, canRequestRefund } from '../../miniprogram/miniprogram/logic/order-detail';
import { OrderListModel } from '../../miniprogram/miniprogram/logic/order-list';
import { type MiniprogramStack, checkout, startMiniprogramStack } from './phone';

let stack: MiniprogramStack;
before(async () => {
  stack = await startMiniprogramStack();
});
after(() => stack?.close());

describe('sign-in', () => {
  test('first login creates the user and stores the session', async () => {
    const phone = await stack.newPhone();
    const { session, fromStorage } = await phone.services.auth.signIn();
    assert.equal(fromStorage, false);
    assert.equal(session.user.openid, phone.openid);
    assert.equal(session.user.isNew, true);
    assert.ok(session.token.split('.').length === 3, 'a JWT');
    assert.ok(session.expiresAt > Date.now() / 1000);
    const login = phone.adapter.calls.find((c) => c.name === 'login');
    assert.match(String(login?.data.code), /.+/, 'wx.login code from the simulator was sent');
  });

  test('returning login: the same user on a new phone is not new; a relaunch reuses the session', async () => {
    const first = await stack.newPhone();
    await first.services.auth.signIn();
    const again = await stack.newPhone(first);
    const { session } = await again.services.auth.signIn();
    assert.equal(session.user.isNew, false);
    assert.equal(session.user.openid, first.openid);
    // Relaunch on the same phone: storage survives, no login call.
    const callsBefore = again.adapter.calls.length;
    const relaunched = createServices(again.adapter.wx);
    assert.equal((await relaunched.auth.signIn()).fromStorage, true);
    assert.equal(again.adapter.calls.length, callsBefore);
  });

  test('profile: the nickname chosen by the user comes back from login', async () => {
    const phone = await stack.newPhone();
    await phone.services.auth.signIn();
    const session = await phone.services.auth.updateProfile({ nickName: '小明' });
    assert.equal(session.user.nickName, '小明');
  });
});

describe('session expiry', () => {
  test('an expired token leads to a silent re-login before the next call', async () => {
    const phone = await stack.newPhone();
    const { session } = await phone.services.auth.signIn();
    // The app comes back after the token's lifetime: the stored session has run out.
    phone.adapter.wx.setStorageSync(SESSION_STORAGE_KEY, {
      ...session,
      expiresAt: Math.floor(Date.now() / 1000) - 1,
    });
    const list = new OrderListModel(phone.services.api, phone.services.auth);
    await list.refresh();
    assert.deepEqual(
      phone.adapter.calls.map((c) => c.name),
      ['login', 'login', 'orders'],
    );
    assert.equal(phone.adapter.loginCodesIssued(), 2);
    const renewed = phone.services.session.current();
    assert.ok(renewed && renewed.expiresAt > Date.now() / 1000, 'a valid session is stored again');
  });

  test('UNAUTHENTICATED from a function: re-login once and the action goes through', async () => {
    const phone = await stack.newPhone();
    await phone.services.auth.signIn();
    phone.adapter.dropIdentityForNextCalls(1);
    const list = new OrderListModel(phone.services.api, phone.services.auth);
    await list.refresh();
    const [refused] = phone.adapter.calls.filter((c) => !c.withIdentity);
    assert.equal(
      (refused?.result as any)?.error?.code,
      'UNAUTHENTICATED',
      'the function itself refused the call without identity',
    );
    assert.deepEqual(
      phone.adapter.calls.map((c) => c.name),
      ['login', 'orders', 'login', 'orders'],
    );
  });
});

describe('orders and refunds', () => {
  test('order list pages through the user’s orders newest first', async () => {
    const phone = await stack.newPhone();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await phone.services.auth.withSession(() =>
        phone.services.api.createPayment({
          items: [{ productId: stack.catalog[0].id, quantity: i + 1 }],
          idempotencyKey: `ck_page_test_${i}_${phone.openid.slice(-8)}`,
        }),
      );
      ids.push(created.orderId);
    }
    const list = new OrderListModel(phone.services.api, phone.services.auth, 2);
    const first = await list.refresh();
    assert.equal(first.length, 2);
    assert.equal(list.hasMore, true);
    const all = await list.loadMore();
    assert.deepEqual(all.slice(0, 2), first, 'the next page is appended');
    assert.deepEqual([...all.map((o) => o.orderId)].sort(), [...ids].sort(), 'every order exactly once');
    // Newest first to the second: the server pages by order id, whose time part has second resolution.
    const seconds = all.map((o) => o.createdAt.slice(0, 19));
    assert.deepEqual(
      seconds,
      [...seconds].sort().reverse(),
      `newest first: ${JSON.stringify(all.map((o) => [o.orderId, o.createdAt]))}`,
    );
    assert.equal(list.hasMore, false);
    assert.equal((await list.loadMore()).length, 3, 'no-op on the last page');
  });

  test('refund: requested from the order page and followed until WeChat settles it', async () => {
    const phone = await stack.newPhone();
    const paid = await checkout(phone, [stack.catalog[0]]).pay();
    assert.equal(paid.step, 'paid');
    if (paid.step !== 'paid') return;
    const detail = new OrderDetailModel(paid.order.orderId, phone.services.api, phone.services.auth);
    await detail.load();
    const refund = await detail.requestRefund('测试退款');
    assert.equal(refund.amountFen, paid.order.amountFen);
    assert.equal(refund.status, 'PROCESSING');
    const seen: string[] = [];
    const final = await detail.watchRefund(
      refund.refundId,
      (o) => seen.push(o.refunds.find((r) => r.refundId === refund.refundId)?.status ?? '?'),
      { intervalMs: 200, maxPolls: 75 },
    );
    assert.equal(final?.status, 'SUCCESS', `statuses seen: ${seen.join(',')}`);
    assert.equal(detail.order?.status, 'REFUNDED');
    assert.equal(detail.order?.refundedFen, paid.order.amountFen);
    // A second refund of the same order is refused with a user message.
    await assert.rejects(
      detail.requestRefund(),
      (e: unknown) => e instanceof ApiCallError && e.userMessage.length > 0,
    );
  });

  test('refund refused by WeChat: the user sees why, and can ask again later', async () => {
    const phone = await stack.newPhone();
    const paid = await checkout(phone, [stack.catalog[0]]).pay();
    assert.equal(paid.step, 'paid');
    if (paid.step !== 'paid') return;
    const detail = new OrderDetailModel(paid.order.orderId, phone.services.api, phone.services.auth);
    await stack.sim('POST', '/sim/faults', { target: 'refund', kind: 'notEnough', count: 1 });
    await assert.rejects(detail.requestRefund(), (e: unknown) => {
      assert.ok(e instanceof ApiCallError);
      assert.equal(e.code, 'UPSTREAM_ERROR');
      assert.equal(e.userMessage, userMessageFor('UPSTREAM_ERROR', e.upstream));
      assert.notEqual(
        e.userMessage,
        userMessage('UPSTREAM_ERROR'),
        `WeChat's reason (${e.upstream}) has its own sentence`,
      );
      return true;
    });
    const order = await detail.load();
    assert.deepEqual(
      order.refunds.map((r) => r.status),
      ['FAILED'],
    );
    assert.equal(order.refundingFen, 0, 'the reservation was released');
    assert.ok(canRequestRefund(order), 'the page offers the refund again');
    const retried = await detail.requestRefund();
    assert.equal(retried.status, 'PROCESSING');
  });
});
