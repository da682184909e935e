// The web console in a real Chromium (from @sparticuz/chromium, driven by playwright-core): a person's
// path through login → buy → pay → refund, then a database fault that makes WeChat retry, visible in
// the delivery log. Any error banner or console error fails the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type Page } from 'playwright-core';
import { startLocalStack, type LocalStack } from '../local/stack';

async function expectText(page: Page, selector: string, pattern: RegExp, timeout = 30_000): Promise<void> {
  // A string expression: it runs in the page, where `document` exists (this file has no DOM types).
  try {
    await page.waitForFunction(
      `new RegExp(${JSON.stringify(pattern.source)}).test(document.querySelector(${JSON.stringify(selector)})?.textContent ?? '')`,
      undefined,
      { timeout },
    );
  } catch (err) {
    const seen = await page.evaluate(
      `[document.querySelector(${JSON.stringify(selector)})?.textContent, document.querySelector('#error')?.textContent, document.querySelector('#phone-msg')?.textContent]`,
    );
    throw new Error(
      `${selector} never matched ${pattern}: [text, error banner, phone message] = ${JSON.stringify(seen)} (${(err as Error).message.split('\n')[0]})`,
    );
  }
}

const PAID = 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg';
const REFUNDED = 'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4';
const SHIPPED = 'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E';

async function simPost(stack: LocalStack, path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${stack.simUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, path);
  return (await res.json()) as Record<string, unknown>;
}

/** One shipped message to `openid`, as a function's 云调用 would send it; returns its msgid. */
async function sendSubscriptionMessage(stack: LocalStack, openid: string): Promise<number> {
  await simPost(stack, '/sim/subscriptions', { openid, templateId: SHIPPED });
  const answer = await simPost(
    stack,
    '/_cloudcall/subscribeMessage.send',
    {
      touser: openid,
      template_id: SHIPPED,
      data: {
        thing1: { value: '控制台测试' },
        character_string2: { value: 'CONSOLE1' },
        time3: { value: '2026-11-30 15:01' },
      },
    },
    { 'x-wx-cloud-appid': stack.env.WX_APPID },
  );
  assert.equal(answer.errcode, 0, JSON.stringify(answer));
  return answer.msgid as number;
}

/** Per template: subscriptions granted to `openid` = unspent + messages sent. */
async function subscriptionLedger(stack: LocalStack, openid: string): Promise<Record<string, number>> {
  const q = `openid=${encodeURIComponent(openid)}`;
  const { subscriptions } = (await (await fetch(`${stack.simUrl}/sim/subscriptions?${q}`)).json()) as {
    subscriptions: Array<{ templateId: string; remaining: number }>;
  };
  const { messages } = (await (await fetch(`${stack.simUrl}/sim/messages?${q}`)).json()) as {
    messages: Array<{ templateId: string }>;
  };
  return Object.fromEntries(
    subscriptions.map((s) => [
      s.templateId,
      s.remaining + messages.filter((m) => m.templateId === s.templateId).length,
    ]),
  );
}

test(
  'console: login, buy, pay, refund and a retried notification, in Chromium',
  { timeout: 120_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'wxcloud-console-'));
    const stack = await startLocalStack({
      dataDir,
      inMemory: true,
      ports: { host: 0, wechatSim: 0, cloudbaseEmu: 0 },
      seed: true,
      quiet: true,
      simulator: { timeScale: 200, refundDelayMs: 3_600_000 },
    });
    const browser = await playwright.launch({
      executablePath: await chromium.executablePath(),
      args: chromium.args,
      headless: true,
    });
    const consoleErrors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('console', (msg) => {
        if (msg.type() === 'error') consoleErrors.push(msg.text());
      });
      page.on('pageerror', (err) => consoleErrors.push(err.message));
      await page.goto(stack.hostUrl + '/');
      await expectText(page, '#live', /^live$/);

      // sign in
      await page.click('#new-user');
      await expectText(page, '#phone-title', /Catalog/);
      await expectText(page, '#t-users', /Test /);
      const [buyer] = (await (await fetch(`${stack.simUrl}/sim/users`)).json()) as Array<{ openid: string }>;
      await expectText(page, '#inbox', /no messages yet/);
      // wx.requestSubscribeMessage at each checkout: the user allows every template
      await page.check('#subscribe-notify');

      // buy two of the first product and pay
      const firstInc = page.locator('#catalog [data-inc]').first();
      await firstInc.click();
      await firstInc.click();
      await page.click('#buy');
      await expectText(page, '#phone-title', /^Pay$/);
      const amount = await page.textContent('#pay-amount');
      assert.match(amount ?? '', /^¥\d+\.\d\d$/);
      await page.click('#pay-ok');
      await expectText(page, '#order-status', /^SUCCESS$/);
      await expectText(page, '#t-deliveries', /TRANSACTION\.SUCCESS/);
      await expectText(page, '#t-notifications', /applied/);

      // refund: PROCESSING first, then WeChat completes it
      await page.click('#refund');
      await expectText(page, '#order-refunds', /PROCESSING/);
      await page.click('#refund-complete');
      await expectText(page, '#order-status', /^REFUNDED$/);
      await expectText(page, '#t-refunds', /SUCCESS/);
      // the phone says how the refund ended, not that it is still waiting
      await expectText(page, '#phone-msg', /^Refund \S+: SUCCESS; the order is REFUNDED\.$/);
      // the order header keeps its label apart from the id
      await expectText(page, '#order-head', /^Order no\.\s+\S+$/);
      assert.ok(await page.locator('#confirm-receipt').isHidden(), 'a refunded order offers no 确认收货');

      // WeChat delivers a subscription message: the phone's 服务通知 shows its title and values
      const sent = await sendSubscriptionMessage(stack, buyer.openid);
      await expectText(
        page,
        `#inbox [data-msgid="${sent}"]`,
        /^订单发货通知.*商品名称控制台测试.*订单号CONSOLE1/,
      );

      // the database fails the next notification write: payNotify answers 5xx, WeChat retries, the log shows it
      await page.click('#back-catalog');
      await page.locator('#catalog [data-inc]').first().click();
      await page.click('[data-fault="db-notify"]');
      await expectText(page, '#fault-msg', /Armed/);
      await page.click('#buy');
      await page.click('#pay-ok');
      await expectText(page, '#order-status', /^SUCCESS$/, 30_000);
      await page.waitForFunction(
        `[...document.querySelectorAll('#t-deliveries tr')].some((tr) => tr.querySelectorAll('.attempt.bad').length > 0 && tr.querySelectorAll('.attempt.ok').length > 0)`,
        undefined,
        { timeout: 30_000 },
      );

      // fulfilment: the paid express order waits for shipping, in the table and on the phone
      const orderId = (await page.textContent('#order-id')) ?? '';
      assert.match(orderId, /\S/);
      await expectText(page, '#order-fulfilment', /^express · PENDING$/);
      const row = `#t-orders tr:has(code[data-order="${orderId}"])`;
      await expectText(page, row, /express · PENDING/);
      assert.ok(await page.locator('#confirm-receipt').isHidden(), 'nothing to confirm before shipping');

      // a caller who is not an admin is refused, and the form says so instead of throwing
      await page.click(`${row} [data-ship]`);
      await page.fill('#ship-tracking', 'ZT0001');
      await page.selectOption('#ship-company', 'ZTO');
      await page.click('#ship-submit');
      await expectText(page, '#ship-msg', /PERMISSION_DENIED: .*ADMIN_OPENIDS/);
      const unshipped = (await (
        await fetch(`${stack.simUrl}/sim/shipping?outTradeNo=${orderId}`)
      ).json()) as {
        uploads: unknown[];
      };
      assert.deepEqual(unshipped.uploads, [], 'a refused ship uploads nothing');

      // an admin (listed in ADMIN_OPENIDS) ships it; the phone follows
      const admin = (await (
        await fetch(`${stack.simUrl}/sim/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        })
      ).json()) as {
        openid: string;
      };
      stack.env.ADMIN_OPENIDS = admin.openid;
      stack.host.recycle();
      await page.fill('#ship-admin', admin.openid);
      await page.click('#ship-submit');
      await expectText(page, '#ship-msg', /^Shipped \S+: SHIPPED\.$/);
      await expectText(page, '#order-fulfilment', /^express · SHIPPED ZTO ZT0001$/);
      await expectText(page, row, /express · SHIPPED/);
      const shipped = (await (await fetch(`${stack.simUrl}/sim/shipping?outTradeNo=${orderId}`)).json()) as {
        orderState: number;
        uploads: Array<{ shippingList: Array<{ trackingNo: string; expressCompany: string }> }>;
      };
      assert.equal(shipped.orderState, 2);
      assert.deepEqual(
        shipped.uploads.map((u) => u.shippingList.map((s) => [s.expressCompany, s.trackingNo])),
        [[['ZTO', 'ZT0001']]],
      );

      // the buyer confirms receipt; WeChat's event reaches wxMessage and the order is CONFIRMED
      await page.click('#confirm-receipt');
      await expectText(page, '#order-fulfilment', /^express · CONFIRMED/);
      await expectText(page, '#phone-msg', /^Receipt confirmed: the order is CONFIRMED\.$/);
      await expectText(page, row, /express · CONFIRMED/);
      await expectText(page, '#t-notifications', /trade_manage_order_settlement/);
      assert.ok(
        await page.locator('#confirm-receipt').isHidden(),
        'a confirmed order is not confirmed twice',
      );
      assert.equal(
        await page.locator(`${row} [data-ship]`).count(),
        0,
        'a confirmed order is not shipped again',
      );

      // the lost-answer toggle arms the simulator's lostResponse fault; "clear" removes it
      await page.click('[data-fault="refund-lost"]');
      await expectText(page, '#fault-msg', /Armed: refund-lost/);
      const armed = (await (await fetch(`${stack.simUrl}/sim/faults`)).json()) as Array<{
        target: string;
        kind: string;
      }>;
      assert.ok(
        armed.some((f) => f.target === 'refund' && f.kind === 'lostResponse'),
        JSON.stringify(armed),
      );
      await page.click('[data-fault="clear"]');
      await expectText(page, '#fault-msg', /cleared/);
      assert.deepEqual(await (await fetch(`${stack.simUrl}/sim/faults`)).json(), []);

      // each checkout with "Notify me" granted one message per template: spent ones were sent
      const granted = await subscriptionLedger(stack, buyer.openid);
      assert.deepEqual(
        granted,
        { [SHIPPED]: 3, [PAID]: 2, [REFUNDED]: 2 },
        'two checkouts asked for every template (plus the one shipped message above)',
      );

      const banner = await page.locator('#error').isHidden();
      assert.ok(banner, `the page shows an error: ${await page.textContent('#error')}`);
      assert.deepEqual(consoleErrors, [], 'the browser console logged errors');
      // no secrets on the page
      const html = await page.content();
      for (const secret of [
        stack.env.WXPAY_APIV3_KEY,
        stack.env.WX_APPSECRET,
        stack.env.JWT_SECRET,
        stack.env.WXPAY_APIV2_KEY,
      ]) {
        assert.ok(secret && !html.includes(secret), 'a secret value appears in the page');
      }
      await page.screenshot({ path: join(dataDir, 'console.png'), fullPage: true });
    } finally {
      await browser.close();
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
);
