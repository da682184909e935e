// Subscription messages against the real emulator, a fake WeChat Pay and a fake subscribeMessage.send:
// once per order and event under duplicate notifications, only after the change is applied, refusals
// final, transient failures retried by reconcile exactly once, and the payment never held up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { messageRepository } from '../db/messages';
import { MAX_MESSAGE_ATTEMPTS, messageId } from '../domain/message-record';
import { parseSubscribeTemplates } from '../domain/subscription';
import type { NotificationFacts } from '../gateways/gateway';
import { shipOrder, type FulfilmentDeps } from './fulfilment';
import {
  LEFT_TO_RECONCILE,
  retryMessages,
  sendOrderMessage,
  orderMessenger,
  type SendingMessageDeps,
} from './messages';
import { handleNotification } from './notifications';
import { confirmOrder, createPayment } from './payments';
import { reconcile } from './reconcile';
import { applyRefundReport, requestRefund } from './refunds';
import { FakeSubscribeMessages } from './testing/fake-subscribe';
import { FAKE_MERCHANT } from './testing/fake-wechat';
import { newOpenid, startBench, type Bench } from './testing/harness';

const PAID = 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg';
const REFUNDED = 'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4';
const SHIPPED = 'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E';
const TEMPLATES = parseSubscribeTemplates(
  JSON.stringify({
    paid: {
      templateId: PAID,
      page: 'pages/order-detail/order-detail?orderId={orderId}',
      data: { thing1: 'productNames', amount2: 'amount', time3: 'paidAt', character_string4: 'orderId' },
    },
    refunded: {
      templateId: REFUNDED,
      data: {
        thing1: 'productNames',
        amount2: 'refundAmount',
        time3: 'refundedAt',
        character_string4: 'orderId',
      },
    },
    shipped: {
      templateId: SHIPPED,
      data: { thing1: 'productNames', character_string2: 'trackingNo', time3: 'shippedAt' },
    },
  }),
);

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

function setup() {
  const wechat = new FakeSubscribeMessages([PAID, REFUNDED, SHIPPED]);
  const base = bench.deps();
  const messages: SendingMessageDeps = {
    messages: messageRepository(bench.db),
    callOpenApi: wechat.callOpenApi,
    templates: TEMPLATES,
    log: base.log,
    deadlineMs: 200,
  };
  return { deps: { ...base, messages: orderMessenger(messages) }, wechat, messages };
}
type Setup = ReturnType<typeof setup>;

const record = (orderId: string, event = 'paid') => messageRepository(bench.db).get(`${orderId}:${event}`);

async function order({ deps }: Setup, openid: string, subscriptions: string[] = [PAID, REFUNDED]) {
  const r = await createPayment(deps, {
    openid,
    items: [{ productId: 'cake', quantity: 2 }],
    subscriptions,
    now: new Date(),
  });
  return r.orderId;
}

function paidNotification(
  { deps }: { deps: Pick<Setup['deps'], 'gateway'> },
  outTradeNo: string,
  copy: number,
): NotificationFacts {
  const payment = deps.gateway.pay(outTradeNo);
  return {
    id: `EV-${outTradeNo}-${copy}`,
    eventType: 'TRANSACTION.SUCCESS',
    outTradeNo,
    ...FAKE_MERCHANT,
    payment,
  };
}

/** `copies` deliveries of one notification at once (WeChat's retries, concurrent instances), each answered 204. */
async function deliver(
  s: { deps: Setup['deps'] },
  kind: 'pay' | 'refund',
  facts: NotificationFacts,
  copies: number,
) {
  const answers = await Promise.all(
    Array.from({ length: copies }, (_, i) =>
      handleNotification(
        s.deps,
        kind,
        s.deps.gateway.notification({ ...facts, id: `${facts.id}-${i}` }),
        new Date(),
      ),
    ),
  );
  assert.ok(answers.every((a) => a.statusCode === 204));
}

/** The payment notification of `orderId`, `copies` times at once. */
function storm(s: { deps: Setup['deps'] }, orderId: string, copies: number) {
  return deliver(s, 'pay', paidNotification(s, orderId, 0), copies);
}

/** The REFUND.SUCCESS notification of one refund, `copies` times at once. */
function refundStorm(
  s: { deps: Setup['deps'] },
  orderId: string,
  refundId: string,
  facts: NotificationFacts['refund'],
  copies: number,
) {
  const notification: NotificationFacts = {
    id: `RF-${refundId}`,
    eventType: 'REFUND.SUCCESS',
    outTradeNo: orderId,
    outRefundNo: refundId,
    ...FAKE_MERCHANT,
    refund: facts,
  };
  return deliver(s, 'refund', notification, copies);
}

describe('paid', () => {
  it('a storm of 20 notifications sends exactly one message, after the order is paid', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    s.wechat.grant(openid, PAID); // a second grant must stay unspent: nothing sends twice
    const orderId = await order(s, openid);
    assert.equal((await s.deps.orders.get(orderId))?.status, 'NOTPAY');
    assert.deepEqual(s.wechat.sentTo(openid), [], 'nothing before the payment');
    await storm(s, orderId, 20);
    assert.equal((await s.deps.orders.get(orderId))?.status, 'SUCCESS');
    const sent = s.wechat.sentTo(openid);
    assert.equal(sent.length, 1);
    assert.equal(s.wechat.calls, 1);
    assert.equal(sent[0].templateId, PAID);
    assert.equal(sent[0].page, `pages/order-detail/order-detail?orderId=${orderId}`);
    assert.deepEqual(sent[0].data.amount2, { value: '¥51.00' });
    assert.deepEqual(sent[0].data.thing1, { value: 'Cake' });
    assert.deepEqual(sent[0].data.character_string4, { value: orderId });
    const rec = await record(orderId);
    assert.equal(rec?.status, 'sent');
    assert.equal(rec?.msgid, sent[0].msgid);
    assert.equal(rec?.attempts, 1);
    assert.deepEqual((await retryMessages(s.messages, new Date(Date.now() + 3_600_000), 50)).sent, 0);
    assert.ok(
      s.deps.log.lines.every((l) => !l.includes('Cake') && !l.includes('¥')),
      'the log holds ids, never message data',
    );
  });

  it('an order without the template accepted sends nothing and records nothing', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    const orderId = await order(s, openid, [REFUNDED]);
    await storm(s, orderId, 3);
    assert.equal(s.wechat.calls, 0);
    assert.equal(await record(orderId), undefined);
    const none = await order(s, openid, []);
    assert.equal(
      (await s.deps.orders.get(none)) && 'subscriptions' in (await s.deps.orders.get(none))!,
      false,
    );
  });

  it('a refused (43101) or invalid (47003) message is final: recorded, never retried; the payment is fine', async () => {
    const s = setup();
    const openid = newOpenid();
    const refused = await order(s, openid); // accepted in the app, but no subscription at WeChat
    await storm(s, refused, 5);
    assert.equal((await s.deps.orders.get(refused))?.status, 'SUCCESS');
    const r = await record(refused);
    assert.deepEqual([r?.status, r?.errcode], ['refused', 43101]);
    s.wechat.grant(openid, PAID);
    s.wechat.failNext({ errcode: 47003 });
    const invalid = await order(s, openid);
    await storm(s, invalid, 2);
    const i = await record(invalid);
    assert.deepEqual([i?.status, i?.errcode], ['failed', 47003]);
    const later = new Date(Date.now() + 3_600_000);
    assert.deepEqual(await retryMessages(s.messages, later, 500), { checked: 0, sent: 0, failed: 0 });
    assert.equal(s.wechat.calls, 2);
  });

  it('a transient failure (-1, 45009, network, no answer) is retried by reconcile exactly once', async () => {
    const s = setup();
    const openid = newOpenid();
    const faults = [{ errcode: -1 }, { errcode: 45009 }, { network: true as const }, { hang: true as const }];
    const orders: string[] = [];
    for (const fault of faults) {
      s.wechat.grant(openid, PAID);
      s.wechat.failNext(fault);
      const orderId = await order(s, openid);
      await storm(s, orderId, 3);
      assert.equal((await s.deps.orders.get(orderId))?.status, 'SUCCESS', 'the payment is applied anyway');
      assert.equal((await record(orderId))?.status, 'retry');
      orders.push(orderId);
    }
    assert.equal(s.wechat.sentTo(openid).length, 0);
    const [one, two] = await Promise.all([
      retryMessages(s.messages, new Date(), 500),
      retryMessages(s.messages, new Date(), 500),
    ]);
    assert.equal(one.sent + two.sent, 4, 'concurrent runs send each once');
    assert.equal(s.wechat.sentTo(openid).length, 4);
    for (const orderId of orders) {
      const rec = await record(orderId);
      assert.deepEqual([rec?.status, rec?.attempts], ['sent', 2]);
    }
    assert.equal((await retryMessages(s.messages, new Date(), 500)).sent, 0);
  });

  it(`gives up after ${MAX_MESSAGE_ATTEMPTS} attempts`, async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    for (let i = 0; i < MAX_MESSAGE_ATTEMPTS; i++) s.wechat.failNext({ errcode: -1 });
    const orderId = await order(s, openid);
    await storm(s, orderId, 1);
    for (let run = 0; run < MAX_MESSAGE_ATTEMPTS + 1; run++) await retryMessages(s.messages, new Date(), 500);
    const rec = await record(orderId);
    assert.equal(rec?.status, 'failed');
    assert.equal(rec?.attempts, MAX_MESSAGE_ATTEMPTS);
    assert.match(rec?.reason ?? '', /gave up after 5 attempts/);
    assert.equal(s.wechat.calls, MAX_MESSAGE_ATTEMPTS);
  });

  it('an attempt that never reported (crash) is taken by reconcile once its claim ran out', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    const orderId = await order(s, openid);
    s.deps.gateway.pay(orderId);
    const paidOrder = {
      ...(await s.deps.orders.get(orderId))!,
      status: 'SUCCESS' as const,
      paidAt: new Date(),
    };
    // The claim inserted, then the instance died before it called WeChat.
    await messageRepository(bench.db).claim({
      _id: messageId(orderId, 'paid'),
      orderId,
      event: 'paid',
      openid,
      templateId: PAID,
      data: { thing1: { value: 'Cake' } },
      status: 'sending',
      attempts: 1,
      claimUntil: new Date(Date.now() + 60_000),
      createdAt: new Date(),
      updatedAt: new Date(),
      version: 0,
    });
    assert.equal(await sendOrderMessage(s.messages, 'paid', paidOrder, {}, new Date()), 'already');
    assert.equal((await retryMessages(s.messages, new Date(), 500)).checked, 0, 'still claimed');
    const r = await retryMessages(s.messages, new Date(Date.now() + 61_000), 500);
    assert.equal(r.sent, 1);
    assert.equal(s.wechat.sentTo(openid).length, 1);
  });

  it('a function without the WeChat client (refund) records the message; reconcile sends it', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    const orderId = await order(s, openid);
    await storm(
      { deps: { ...s.deps, messages: orderMessenger({ ...s.messages, callOpenApi: undefined }) } },
      orderId,
      3,
    );
    assert.equal(s.wechat.calls, 0);
    assert.deepEqual(
      [(await record(orderId))?.status, (await record(orderId))?.reason],
      ['retry', LEFT_TO_RECONCILE],
    );
    assert.equal((await retryMessages(s.messages, new Date(), 500)).sent, 1);
    assert.equal(s.wechat.sentTo(openid).length, 1);
  });

  it('a payment orders.get applied (no messenger there) gets its message from the first notification', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    s.wechat.grant(openid, PAID);
    const orderId = await order(s, openid);
    s.deps.gateway.pay(orderId);
    const confirmed = await confirmOrder(
      { ...s.deps, messages: undefined },
      (await s.deps.orders.get(orderId))!,
      new Date(),
    );
    assert.equal(confirmed.status, 'SUCCESS');
    assert.equal(s.wechat.calls, 0, 'orders.get sends nothing');
    await storm(s, orderId, 10);
    assert.equal(s.wechat.sentTo(openid).length, 1);
    assert.equal((await record(orderId))?.status, 'sent');
  });

  it('reconcile reports the messages it sent', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    s.wechat.failNext({ errcode: -1 });
    const orderId = await order(s, openid);
    await storm(s, orderId, 1);
    const report = await reconcile(s.deps, new Date(), 3_600_000);
    assert.ok(report.messagesChecked >= 1);
    assert.ok(report.messagesSent >= 1);
    assert.equal((await record(orderId))?.status, 'sent');
  });

  it('without messages configured nothing is attempted', async () => {
    assert.equal(
      await sendOrderMessage(undefined, 'paid', { _id: 'K1' } as never, {}, new Date()),
      'not-configured',
    );
    const s = setup();
    const onlyPaid = { ...s.messages, templates: { paid: TEMPLATES.paid! } };
    assert.equal(
      await sendOrderMessage(
        onlyPaid,
        'refunded',
        { _id: 'K1', subscriptions: [REFUNDED] } as never,
        {},
        new Date(),
      ),
      'not-configured',
    );
  });
});

describe('refunded and shipped', () => {
  it('a refund settled on its order sends one `refunded` message, with the refund amount', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, PAID);
    s.wechat.grant(openid, REFUNDED);
    const orderId = await order(s, openid);
    await storm(s, orderId, 1);
    const refund = await requestRefund(s.deps, {
      orderId,
      requester: { openid, isAdmin: true },
      amountFen: 100,
      windowHours: 168,
      now: new Date(),
    });
    assert.equal(s.wechat.sentTo(openid).length, 1, 'no message while the refund is processing');
    const facts = s.deps.gateway.finishRefund(refund.refundId);
    await refundStorm(s, orderId, refund.refundId, facts, 10);
    const sent = s.wechat.sentTo(openid);
    assert.deepEqual(
      sent.map((m) => m.templateId),
      [PAID, REFUNDED],
    );
    assert.deepEqual(sent[1].data.amount2, { value: '¥1.00' });
    assert.equal((await record(orderId, 'refunded'))?.status, 'sent');
  });

  it('a refund settled where no messenger runs (orders.get) gets its message from the first refund notification', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, REFUNDED);
    const orderId = await order(s, openid, [REFUNDED]);
    await storm(s, orderId, 1);
    const quiet = { ...s.deps, messages: undefined };
    const refund = await requestRefund(quiet, {
      orderId,
      requester: { openid, isAdmin: true },
      windowHours: 168,
      now: new Date(),
    });
    const facts = s.deps.gateway.finishRefund(refund.refundId);
    await applyRefundReport(quiet, refund.refundId, facts, new Date());
    assert.equal((await s.deps.refunds.get(refund.refundId))?.appliedToOrder, true);
    assert.equal(s.wechat.calls, 0);
    await refundStorm(s, orderId, refund.refundId, facts, 5);
    const sent = s.wechat.sentTo(openid);
    assert.deepEqual(
      sent.map((m) => [m.templateId, m.data.amount2.value]),
      [[REFUNDED, '¥51.00']],
    );
  });

  it('the first shipping upload sends one `shipped` message with the tracking number; the change none', async () => {
    const s = setup();
    const openid = newOpenid();
    s.wechat.grant(openid, SHIPPED);
    s.wechat.grant(openid, SHIPPED);
    const orderId = await order(s, openid, [SHIPPED]);
    await storm(s, orderId, 1);
    const fulfilment: FulfilmentDeps = {
      db: bench.db,
      orders: s.deps.orders,
      log: s.deps.log,
      mchid: FAKE_MERCHANT.mchid,
      callOpenApi: async (name, body) =>
        name === 'uploadShippingInfo' ? {} : s.wechat.callOpenApi(name, body),
      messages: s.deps.messages,
    };
    const ship = (trackingNo: string) =>
      shipOrder(fulfilment, {
        orderId,
        shipments: [{ trackingNo, expressCompany: 'YTO' }],
        isAdmin: true,
        now: new Date(),
      });
    await ship('YT0001');
    await ship('YT0002');
    const sent = s.wechat.sentTo(openid);
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].data.character_string2, { value: 'YT0001' });
  });
});
