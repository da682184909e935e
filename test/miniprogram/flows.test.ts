// The sample mini-program's page logic, run in Node against the real local stack (function host,
// WeChat simulator, CloudBase emulator) through the wx adapter: what a user does on the phone.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { ApiCallError } from '../../miniprogram/miniprogram/lib/api-client';
import { type Services, createServices } from '../../miniprogram/miniprogram/lib/services';
import { SESSION_STORAGE_KEY } from '../../miniprogram/miniprogram/lib/session';
import { add, emptyCart, toCartItems, totalFen } from '../../miniprogram/miniprogram/logic/cart';
import { type Product, loadCatalog } from '../../miniprogram/miniprogram/logic/catalog';
import { CheckoutFlow } from '../../miniprogram/miniprogram/logic/checkout';
import { OrderDetailModel } from '../../miniprogram/miniprogram/logic/order-detail';
import { OrderListModel } from '../../miniprogram/miniprogram/logic/order-list';
import { type E2E, startE2E } from '../support/e2e';
import { type WxAdapter, createWxAdapter } from './wx-adapter';

let stack: E2E;
let catalog: Product[];

/** A phone: a fresh simulator user, its adapter, and the mini-program's services on it. */
interface Phone {
  openid: string;
  appid: string;
  adapter: WxAdapter;
  services: Services;
}

const sim = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> => stack.sim(method, path, body);

async function newPhone(openid?: string, appid?: string): Promise<Phone> {
  const user = openid ? { openid, appid: appid! } : await stack.newUser();
  const adapter = createWxAdapter({ hostUrl: stack.hostUrl, simUrl: stack.simUrl, openid: user.openid, appid: user.appid, database: () => openLocalDatabase(stack.emuUrl) });
  const services = createServices(adapter.wx, { client: { retry: { baseDelayMs: 20, maxDelayMs: 100 } } });
  return { openid: user.openid, appid: user.appid, adapter, services };
}

function checkout(phone: Phone, products: Product[]): CheckoutFlow {
  let cart = emptyCart();
  for (const p of products) cart = add(cart, p);
  return new CheckoutFlow(toCartItems(cart), { wx: phone.adapter.wx, api: phone.services.api, auth: phone.services.auth, confirm: { attempts: 10, intervalMs: 150 } });
}

/** Polls `check` every 100 ms until it returns a value, at most `ms`. */
async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  // Refunds settle 2 s after the request (WeChat time, 100× faster here), notification retries too.
  stack = await startE2E({ simulator: { timeScale: 100, refundDelayMs: 2000 } });
  catalog = await loadCatalog(openLocalDatabase(stack.emuUrl));
  assert.ok(catalog.length >= 2, 'the seeded catalog has products');
});
after(() => stack?.close());

describe('sign-in', () => {
  test('first login creates the user and stores the session', async () => {
    const phone = await newPhone();
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
    const first = await newPhone();
    await first.services.auth.signIn();
    const again = await newPhone(first.openid, first.appid);
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
    const phone = await newPhone();
    await phone.services.auth.signIn();
    const session = await phone.services.auth.updateProfile({ nickName: '小明' });
    assert.equal(session.user.nickName, '小明');
  });
});

describe('checkout', () => {
  test('buy and pay: the order is confirmed paid for the cart total', async () => {
    const phone = await newPhone();
    const items = [catalog[0]!, catalog[1]!, catalog[1]!];
    let cart = emptyCart();
    for (const p of items) cart = add(cart, p);
    const flow = checkout(phone, items);
    const state = await flow.pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    if (state.step !== 'paid') return;
    assert.equal(state.order.status, 'SUCCESS');
    assert.equal(state.order.amountFen, totalFen(cart), 'the server priced the cart as the page showed it');
    assert.ok(state.order.transactionId);
    assert.deepEqual(
      state.order.items.map((i) => [i.productId, i.quantity]),
      cart.lines.map((l) => [l.product.id, l.quantity]),
    );
    const creates = phone.adapter.calls.filter((c) => c.name === 'createPayment');
    assert.equal(creates.length, 1);
    assert.equal(creates[0]?.data.idempotencyKey, flow.idempotencyKey);
  });

  test('cancel: the order stays unpaid; paying again in the same checkout pays the same order', async () => {
    const phone = await newPhone();
    const flow = checkout(phone, [catalog[0]!]);
    phone.adapter.payOutcome = 'cancel';
    const cancelled = await flow.pay();
    assert.equal(cancelled.step, 'cancelled');
    if (cancelled.step !== 'cancelled') return;
    assert.equal((await phone.services.api.getOrder(cancelled.orderId)).status, 'NOTPAY');
    phone.adapter.payOutcome = 'success';
    const paid = await flow.pay();
    assert.equal(paid.step, 'paid', JSON.stringify(paid));
    if (paid.step === 'paid') assert.equal(paid.order.orderId, cancelled.orderId, 'one checkout, one order');
  });

  test('paying an already paid checkout again reports it paid, not failed', async () => {
    const phone = await newPhone();
    const flow = checkout(phone, [catalog[0]!]);
    const first = await flow.pay();
    assert.equal(first.step, 'paid', JSON.stringify(first));
    const again = await flow.pay();
    assert.equal(again.step, 'paid', JSON.stringify(again));
    if (first.step === 'paid' && again.step === 'paid') assert.equal(again.order.orderId, first.order.orderId);
    assert.equal((await phone.services.api.listOrders()).orders.length, 1);
  });

  test('cancel then give up: the unpaid order is closed', async () => {
    const phone = await newPhone();
    const flow = checkout(phone, [catalog[0]!]);
    phone.adapter.payOutcome = 'cancel';
    const cancelled = await flow.pay();
    assert.equal(cancelled.step, 'cancelled');
    const closed = await flow.abandon();
    assert.equal(closed?.status, 'CLOSED');
  });

  test('payment failure: reported with its message and the order is not paid', async () => {
    const phone = await newPhone();
    const flow = checkout(phone, [catalog[1]!]);
    phone.adapter.payOutcome = 'fail';
    const state = await flow.pay();
    assert.equal(state.step, 'failed');
    if (state.step !== 'failed') return;
    assert.equal(state.code, 'PAYMENT_FAILED');
    assert.ok(state.orderId);
    assert.notEqual((await phone.services.api.getOrder(state.orderId!)).status, 'SUCCESS');
  });

  test('notification delayed: orders.get confirms the payment before the notification arrives', async () => {
    const phone = await newPhone();
    await sim('POST', '/sim/faults', { target: 'notify', kind: 'delay', delayMs: 4000, count: 1 });
    const state = await checkout(phone, [catalog[0]!]).pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    if (state.step !== 'paid') return;
    const deliveriesAtConfirmation = (await sim('GET', `/sim/deliveries?outTradeNo=${state.order.orderId}`)) as { state: string; attempts: unknown[] }[];
    assert.ok(
      deliveriesAtConfirmation.every((d) => d.state !== 'delivered'),
      `the notification had not been delivered yet: ${JSON.stringify(deliveriesAtConfirmation)}`,
    );
    // The late notification is applied as "already paid" and changes nothing.
    await eventually('the delayed notification', 15_000, async () => {
      const ds = (await sim('GET', `/sim/deliveries?outTradeNo=${state.order.orderId}`)) as { state: string }[];
      return ds.some((d) => d.state === 'delivered') ? true : undefined;
    });
    const after = await phone.services.api.getOrder(state.order.orderId);
    assert.equal(after.status, 'SUCCESS');
    assert.equal(after.amountFen, state.order.amountFen);
  });

  test('notification dropped: the payment is still confirmed by orders.get', async () => {
    const phone = await newPhone();
    await sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1 });
    const state = await checkout(phone, [catalog[1]!]).pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
  });

  test('network error with retry: a lost createPayment answer does not create a second order', async () => {
    const phone = await newPhone();
    await phone.services.auth.signIn();
    phone.adapter.failNextCalls(1, 'after'); // createPayment runs, its answer is lost
    const flow = checkout(phone, [catalog[0]!]);
    const state = await flow.pay();
    assert.equal(state.step, 'paid', JSON.stringify(state));
    const creates = phone.adapter.calls.filter((c) => c.name === 'createPayment');
    assert.equal(creates.length, 2, 'retried once');
    assert.ok(creates[0]?.failure && !creates[1]?.failure);
    assert.deepEqual((creates[0]?.result as any)?.data?.orderId, (creates[1]?.result as any)?.data?.orderId, 'the retry found the same order');
    const list = await phone.services.api.listOrders();
    assert.equal(list.orders.length, 1);
  });

  test('network error that outlasts the retries: the user gets the network message, then can try again', async () => {
    const phone = await newPhone();
    await phone.services.auth.signIn();
    phone.adapter.failNextCalls(3, 'before');
    const flow = checkout(phone, [catalog[0]!]);
    const failed = await flow.pay();
    assert.equal(failed.step, 'failed');
    if (failed.step === 'failed') assert.equal(failed.code, 'NETWORK');
    assert.equal((await flow.pay()).step, 'paid');
  });
});

describe('orders and refunds', () => {
  test('order list pages through the user’s orders newest first', async () => {
    const phone = await newPhone();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await phone.services.auth.withSession(() => phone.services.api.createPayment({ items: [{ productId: catalog[0]!.id, quantity: i + 1 }], idempotencyKey: `ck_page_test_${i}_${phone.openid.slice(-8)}` }));
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
    assert.deepEqual(seconds, [...seconds].sort().reverse(), `newest first: ${JSON.stringify(all.map((o) => [o.orderId, o.createdAt]))}`);
    assert.equal(list.hasMore, false);
    assert.equal((await list.loadMore()).length, 3, 'no-op on the last page');
  });

  test('refund: requested from the order page and followed until WeChat settles it', async () => {
    const phone = await newPhone();
    const paid = await checkout(phone, [catalog[0]!]).pay();
    assert.equal(paid.step, 'paid');
    if (paid.step !== 'paid') return;
    const detail = new OrderDetailModel(paid.order.orderId, phone.services.api, phone.services.auth);
    await detail.load();
    const refund = await detail.requestRefund('测试退款');
    assert.equal(refund.amountFen, paid.order.amountFen);
    assert.equal(refund.status, 'PROCESSING');
    const seen: string[] = [];
    const final = await detail.watchRefund(refund.refundId, (o) => seen.push(o.refunds.find((r) => r.refundId === refund.refundId)?.status ?? '?'), { intervalMs: 200, maxPolls: 75 });
    assert.equal(final?.status, 'SUCCESS', `statuses seen: ${seen.join(',')}`);
    assert.equal(detail.order?.status, 'REFUNDED');
    assert.equal(detail.order?.refundedFen, paid.order.amountFen);
    // A second refund of the same order is refused with a user message.
    await assert.rejects(detail.requestRefund(), (e: unknown) => e instanceof ApiCallError && e.userMessage.length > 0);
  });
});

describe('session expiry', () => {
  test('an expired token leads to a silent re-login before the next call', async () => {
    const phone = await newPhone();
    const { session } = await phone.services.auth.signIn();
    // The app comes back after the token's lifetime: the stored session has run out.
    phone.adapter.wx.setStorageSync(SESSION_STORAGE_KEY, { ...session, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const list = new OrderListModel(phone.services.api, phone.services.auth);
    await list.refresh();
    assert.deepEqual(phone.adapter.calls.map((c) => c.name), ['login', 'login', 'orders']);
    assert.equal(phone.adapter.loginCodesIssued(), 2);
    const renewed = phone.services.session.current();
    assert.ok(renewed && renewed.expiresAt > Date.now() / 1000, 'a valid session is stored again');
  });

  test('UNAUTHENTICATED from a function: re-login once and the action goes through', async () => {
    const phone = await newPhone();
    await phone.services.auth.signIn();
    phone.adapter.dropIdentityForNextCalls(1);
    const list = new OrderListModel(phone.services.api, phone.services.auth);
    await list.refresh();
    const [refused] = phone.adapter.calls.filter((c) => !c.withIdentity);
    assert.equal((refused?.result as any)?.error?.code, 'UNAUTHENTICATED', 'the function itself refused the call without identity');
    assert.deepEqual(phone.adapter.calls.map((c) => c.name), ['login', 'orders', 'login', 'orders']);
  });
});
