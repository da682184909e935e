// The mini-program's pages rendered from their real WXML and bound to their real Page() definitions
// (miniprogram-simulate over jsdom), driven by taps and inputs on rendered elements, with the handlers
// running through the wx adapter against the local stack: sign-in, cart, checkout, pay, order list,
// order detail, refund and confirm receipt. A misspelt handler or data key in a WXML fails the first test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Services } from '../../miniprogram/miniprogram/lib/services';
import { formatPrice } from '../../miniprogram/miniprogram/lib/money';
import { type Cart, emptyCart } from '../../miniprogram/miniprogram/logic/cart';
import { type MiniprogramStack, type Phone, eventually, startMiniprogramStack } from './phone';
import {
  type OpenPage,
  type UiLog,
  loadPageDefinition,
  newUiLog,
  openPage,
  pageFiles,
  pageWx,
  wxmlDataKeys,
  wxmlHandlers,
} from './pages/render';

const PAGES = ['index', 'checkout', 'orders', 'order-detail'];

let stack: MiniprogramStack;
before(async () => {
  stack = await startMiniprogramStack();
});
after(() => stack?.close());

/** app.ts's AppOption (app.ts itself needs the mini-program's globals to compile). */
interface AppOption {
  services: Services;
  cart: Cart;
  signedIn: Promise<void>;
}

interface Device {
  phone: Phone;
  app: AppOption;
  ui: UiLog;
  open(name: string, query?: Record<string, string>): Promise<OpenPage>;
}

/** A phone running the mini-program: the app object of app.ts over the phone's services. */
async function device(): Promise<Device> {
  const phone = await stack.newPhone();
  const ui = newUiLog();
  const wx = pageWx(phone.adapter.wx, ui);
  const app: AppOption = {
    services: phone.services,
    cart: emptyCart(),
    signedIn: phone.services.auth.signIn().then(() => undefined),
  };
  return { phone, app, ui, open: (name, query) => openPage(name, { app, wx, ...(query ? { query } : {}) }) };
}

describe('the pages bind what their WXML names', () => {
  for (const name of PAGES) {
    test(`pages/${name}: every handler exists and every data key is declared`, () => {
      const wxml = readFileSync(pageFiles(name).wxml, 'utf8');
      const definition = loadPageDefinition(
        name,
        { services: {}, cart: emptyCart() },
        pageWx({} as never, newUiLog()),
      );
      const handlers = wxmlHandlers(wxml);
      assert.ok(handlers.length > 0, 'the page has interactive elements');
      for (const h of handlers) assert.equal(typeof definition[h], 'function', `${name}.wxml binds ${h}`);
      const data = definition.data as Record<string, unknown>;
      for (const key of wxmlDataKeys(wxml)) assert.ok(key in data, `${name}.wxml reads {{${key}}}`);
    });
  }

  test('the checks catch a misspelt handler and an undeclared data key', () => {
    const wxml = '<button bindtap="onPya">{{totl}}</button><view wx:for="{{rows}}">{{item.name}}</view>';
    assert.deepEqual(wxmlHandlers(wxml), ['onPya']);
    assert.deepEqual(wxmlDataKeys(wxml).sort(), ['rows', 'totl']);
    assert.deepEqual(wxmlDataKeys("{{step === 'paid' ? 'ok' : a.b}}"), ['step', 'a']);
  });
});

describe('pages rendered against the local stack', () => {
  test('catalog: signed in, products from the database, add and remove update quantity and total', async () => {
    const d = await device();
    const page = await d.open('index');
    assert.equal(page.text('#signin-state'), '已登录');
    const [first, second] = stack.catalog;
    assert.ok(first && second);
    assert.match(
      page.text(`#product-${first.id}`),
      new RegExp(formatPrice(first.priceFen).replace('.', '\\.')),
    );
    assert.equal(page.$$('.product').length, stack.catalog.length);
    assert.equal(page.instance.data.canCheckout, false, 'nothing to check out yet');

    await page.tap(`#add-${first.id}`);
    await page.tap(`#add-${first.id}`);
    await page.tap(`#add-${second.id}`);
    assert.equal(page.text(`#quantity-${first.id}`), '2');
    assert.equal(page.text('#total'), formatPrice(first.priceFen * 2 + second.priceFen));
    await page.tap(`#remove-${first.id}`);
    assert.equal(page.text(`#quantity-${first.id}`), '1');
    assert.equal(page.text('#total'), formatPrice(first.priceFen + second.priceFen));
    assert.equal(d.app.cart.lines.length, 2, 'the cart travels to checkout through the app');
    assert.equal(page.instance.data.canCheckout, true);

    await page.tap('#checkout');
    assert.deepEqual(d.ui.navigations.at(-1), { kind: 'navigateTo', url: '/pages/checkout/checkout' });
    await page.tap('#orders');
    assert.deepEqual(d.ui.navigations.at(-1), { kind: 'navigateTo', url: '/pages/orders/orders' });
    await page.close();
  });

  test('profile: the nickname typed in is saved on the server', async () => {
    const d = await device();
    const page = await d.open('index');
    await page.input('#nickname', '小程序用户');
    await page.tap('#save-profile');
    assert.equal(page.text('#message'), '已保存');
    const users = await stack.e2e.dump('users');
    const user = users.find((u) => u._id === d.phone.openid);
    assert.equal(user?.nickName, '小程序用户');
  });

  test('checkout → pay → order detail → refund, each step through the rendered pages', async () => {
    const d = await device();
    const catalog = await d.open('index');
    const product = stack.catalog[0];
    await catalog.tap(`#add-${product.id}`);
    await catalog.tap('#checkout');

    const checkout = await d.open('checkout');
    assert.equal(checkout.$$('.line').length, 1);
    assert.equal(checkout.text('#total'), formatPrice(product.priceFen));
    await checkout.tap('#pay');
    assert.equal(checkout.text('#message'), `支付成功 ${formatPrice(product.priceFen)}`);
    assert.equal(checkout.exists('#pay'), false, 'a paid checkout offers no second payment');
    assert.equal(d.app.cart.lines.length, 0, 'the cart is emptied once paid');
    await checkout.tap('#view-order');
    const nav = d.ui.navigations.at(-1);
    assert.equal(nav?.kind, 'redirectTo');
    const orderId = new URL(nav.url!, 'wx://page').searchParams.get('orderId');
    assert.ok(orderId);

    const list = await d.open('orders');
    assert.equal(list.$$('.order').length, 1);
    assert.match(list.text(`#order-${orderId}`), /已支付/);
    assert.equal(list.text('#footer'), '没有更多了');
    await list.tap(`#order-${orderId}`);
    assert.deepEqual(d.ui.navigations.at(-1), {
      kind: 'navigateTo',
      url: `/pages/order-detail/order-detail?orderId=${orderId}`,
    });

    const detail = await d.open('order-detail', { orderId: orderId });
    assert.equal(detail.text('#order-id'), orderId);
    assert.equal(detail.text('#status'), '已支付');
    assert.equal(detail.text('#amount'), formatPrice(product.priceFen));
    await detail.tap('#refund');
    assert.equal(d.ui.modals.length, 1, 'the refund is confirmed with the user first');
    assert.match(d.ui.modals[0].content, new RegExp(formatPrice(product.priceFen).replace('.', '\\.')));
    await eventually('the page shows the refund done', 15_000, async () =>
      detail.text('#status') === '已退款' ? true : undefined,
    );
    assert.equal(detail.$$('.refund').length, 1);
    assert.match(detail.text('.refund'), /退款成功/);
    assert.equal(detail.text('#refunded'), formatPrice(product.priceFen));
    assert.equal(detail.exists('#refund'), false, 'nothing left to refund');
    await detail.close();
  });

  test('checkout asks for subscription messages inside the tap on pay; the page says so, a refusal changes nothing', async () => {
    const d = await device();
    const product = stack.catalog[0];
    const catalog = await d.open('index');
    await catalog.tap(`#add-${product.id}`);
    const checkout = await d.open('checkout');
    assert.equal(checkout.exists('#subscribed'), false);
    await checkout.tap('#pay');
    assert.equal(d.phone.adapter.subscribeRequests.length, 1, 'the dialog opened from the tap');
    assert.equal(checkout.text('#message'), `支付成功 ${formatPrice(product.priceFen)}`);
    assert.match(checkout.text('#subscribed'), /服务通知/);
    const orderId = String(checkout.instance.data.orderId);
    await eventually('the paid message at WeChat', 10_000, async () => {
      const { messages } = (await stack.sim('GET', `/sim/messages?openid=${d.phone.openid}`)) as {
        messages: { data: Record<string, { value: string }> }[];
      };
      return messages.some((m) => m.data.character_string4?.value === orderId) ? true : undefined;
    });

    d.phone.adapter.subscribeChoice = 'reject';
    await catalog.tap(`#add-${product.id}`);
    const again = await d.open('checkout');
    await again.tap('#pay');
    assert.equal(again.text('#message'), `支付成功 ${formatPrice(product.priceFen)}`);
    assert.equal(again.exists('#subscribed'), false, 'nothing accepted, nothing promised');
    await catalog.close();
  });

  test("virtual goods: the order page shows them shipped; 确认收货 opens WeChat's component and the page follows the order to confirmed", async () => {
    const d = await device();
    const stickers = stack.catalog.find((p) => p.id === 'sticker-pack');
    assert.ok(stickers, 'the seeded catalog sells the sticker pack (virtual goods)');
    const catalog = await d.open('index');
    await catalog.tap(`#add-${stickers.id}`);
    const checkout = await d.open('checkout');
    await checkout.tap('#pay');
    const orderId = String(checkout.instance.data.orderId);
    // The invocation that applied the payment (the notification's or the checkout's query) uploads it.
    await eventually('the order is shipped', 15_000, async () =>
      (await d.phone.services.api.getOrder(orderId)).fulfilment.status === 'SHIPPED' ? true : undefined,
    );
    const detail = await d.open('order-detail', { orderId });
    assert.equal(detail.text('#status'), '已支付');
    assert.equal(detail.text('#fulfilment'), '已发货');
    assert.ok(detail.exists('#confirm-receipt'));
    const order = await d.phone.services.api.getOrder(orderId);

    await detail.tap('#confirm-receipt');
    assert.deepEqual(d.ui.businessViews, [
      {
        businessType: 'weappOrderConfirm',
        extraData: { transaction_id: order.transactionId, merchant_trade_no: orderId },
      },
    ]);
    await eventually('the page shows the receipt confirmed', 15_000, async () =>
      detail.text('#fulfilment') === '已确认收货' ? true : undefined,
    );
    assert.equal(detail.exists('#confirm-receipt'), false, 'confirmed once');
    const stored = (await stack.e2e.dump('orders')).find((o) => o._id === orderId) as {
      fulfilment: { status: string };
    };
    assert.equal(stored.fulfilment.status, 'CONFIRMED', 'WeChat told the server through wxMessage');
    await detail.close();
  });

  test('a refund the user does not confirm is not requested', async () => {
    const d = await device();
    const catalog = await d.open('index');
    await catalog.tap(`#add-${stack.catalog[0].id}`);
    const checkout = await d.open('checkout');
    await checkout.tap('#pay');
    const orderId = String(checkout.instance.data.orderId);
    const detail = await d.open('order-detail', { orderId });
    d.ui.confirmModals = false;
    await detail.tap('#refund');
    assert.equal(d.phone.adapter.calls.filter((c) => c.name === 'refund').length, 0);
    assert.equal(detail.text('#status'), '已支付');
    assert.ok(detail.exists('#refund'));
    await detail.close();
  });

  test('a cancelled payment offers to pay again or close the order; closing goes back', async () => {
    const d = await device();
    const catalog = await d.open('index');
    await catalog.tap(`#add-${stack.catalog[1].id}`);
    const checkout = await d.open('checkout');
    d.phone.adapter.payOutcome = 'cancel';
    await checkout.tap('#pay');
    assert.ok(checkout.exists('#pay'), 'pay again');
    assert.ok(checkout.exists('#abandon'));
    const orderId = String(checkout.instance.data.orderId);
    assert.ok(orderId);
    await checkout.tap('#abandon');
    assert.deepEqual(d.ui.navigations.at(-1), { kind: 'navigateBack' });
    assert.equal((await d.phone.services.api.getOrder(orderId)).status, 'CLOSED');
  });

  test('bind phone: the getphonenumber event with a code from WeChat binds and shows it masked', async () => {
    const d = await device();
    const page = await d.open('index');
    assert.equal(page.text('#phone'), '未绑定手机号');
    assert.equal(page.text('#bind-phone'), '绑定手机号');

    // The user declines WeChat's sheet: no code, nothing sent.
    const calls = d.phone.adapter.calls.length;
    page.$('#bind-phone').dispatchEvent('getphonenumber', {
      detail: { errMsg: 'getPhoneNumber:fail user deny' },
    });
    await page.settle();
    assert.match(page.text('#message'), /未授权手机号/);
    assert.equal(d.phone.adapter.calls.length, calls, 'a declined sheet calls nothing');

    const { code } = (await stack.sim('POST', '/sim/phone-codes', {
      openid: d.phone.openid,
      phoneNumber: '13812345678',
    })) as { code: string };
    page.$('#bind-phone').dispatchEvent('getphonenumber', { detail: { code } });
    await page.settle();
    assert.equal(page.text('#phone'), '138****5678');
    assert.equal(page.text('#message'), '已绑定 138****5678');
    assert.equal(page.text('#bind-phone'), '更换手机号');
    const user = (await stack.e2e.dump('users')).find((u) => u._id === d.phone.openid);
    assert.equal((user?.phone as { purePhoneNumber?: string }).purePhoneNumber, '13812345678');

    // The same code again (a double tap replayed): WeChat refuses it, the page asks for another tap.
    page.$('#bind-phone').dispatchEvent('getphonenumber', { detail: { code } });
    await page.settle();
    assert.equal(page.text('#message'), '手机号验证已失效，请再点一次按钮');
    assert.equal(page.text('#phone'), '138****5678', 'the bound number stays');
    await page.close();

    // Opened again, the page reads the bound number from the server.
    const reopened = await d.open('index');
    assert.equal(reopened.text('#phone'), '138****5678');
    await reopened.close();
  });
});
