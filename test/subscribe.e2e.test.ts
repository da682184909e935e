// Subscription messages on the local stack (WX_SUBSCRIBE_TEMPLATES = the simulator's three templates,
// sent by 云调用 through the emulator): one `paid` message under a storm of duplicate notifications,
// one `refunded` message, none when the user holds no subscription (43101 recorded, the payment
// fine), and a transient send failure sent later by reconcile exactly once. WeChat's own record
// (GET /sim/messages) is the judge.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CreatePaymentResponse, RefundResponse } from '../shared/contracts/api';
import { LOCAL_SUBSCRIBE_TEMPLATES } from '../local/stack';
import { CART, CART_FEN, startE2E, type E2E, type TestUser } from './support/e2e';

const PAID = LOCAL_SUBSCRIBE_TEMPLATES.paid.templateId;
const REFUNDED = LOCAL_SUBSCRIBE_TEMPLATES.refunded.templateId;
const SHIPPED = LOCAL_SUBSCRIBE_TEMPLATES.shipped.templateId;

interface SimMessage {
  msgid: number;
  openid: string;
  templateId: string;
  page: string | null;
  data: Record<string, { value: string }>;
}

interface MessageRecord {
  _id: string;
  status: string;
  errcode?: number;
  attempts: number;
  msgid?: string;
}

let e: E2E;
before(async () => {
  e = await startE2E();
});
after(async () => {
  await e?.close();
});

const messagesOf = async (user: TestUser) =>
  (await e.sim<{ messages: SimMessage[] }>('GET', `/sim/messages?openid=${user.openid}`)).messages;

const recordOf = async (orderId: string, event: string) =>
  (await e.dump('messages')).find((m) => m._id === `${orderId}:${event}`) as MessageRecord | undefined;

async function grant(user: TestUser, templateId: string) {
  await e.sim('POST', '/sim/subscriptions', { openid: user.openid, templateId });
}

async function buy(user: TestUser, subscriptions?: string[]): Promise<CreatePaymentResponse> {
  const r = await e.call<CreatePaymentResponse>(
    'createPayment',
    { items: CART, ...(subscriptions ? { subscriptions } : {}) },
    { openid: user.openid },
  );
  assert.ok(r.ok, JSON.stringify(r));
  return r.data;
}

interface Delivery {
  id: string;
  state: string;
  attempts: { kind: string }[];
}

/** Pays at the simulator and waits until the payment notification's invocation has answered. */
async function paid(user: TestUser, created: CreatePaymentResponse) {
  assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
  await e.waitFor(
    () => e.sim<Delivery[]>('GET', `/sim/deliveries?outTradeNo=${created.orderId}`),
    (ds) => ds.length > 0 && ds.every((d) => d.state === 'delivered'),
    `the payment notification of ${created.orderId} answered`,
  );
  const order = (await e.dump('orders')).find((o) => o._id === created.orderId);
  assert.equal(order?.status, 'SUCCESS');
}

describe('subscription messages', () => {
  it('paid: exactly one message under a storm of 20 duplicate notifications and 10 concurrent replays', async () => {
    const user = await e.newUser();
    await grant(user, PAID);
    await grant(user, PAID); // a second subscription: a second send would succeed, so none may happen
    const created = await buy(user, [PAID, REFUNDED]);
    assert.deepEqual(await messagesOf(user), [], 'nothing before the payment');
    await e.armNotifyFault({ kind: 'duplicate', count: 20 });
    await paid(user, created);
    const deliveries = await e.waitFor(
      () => e.sim<Delivery[]>('GET', `/sim/deliveries?outTradeNo=${created.orderId}`),
      (ds) =>
        ds.length > 0 &&
        ds.every((d) => d.state === 'delivered') &&
        ds.flatMap((d) => d.attempts).filter((a) => a.kind === 'duplicate').length >= 20,
      'the duplicates delivered',
    );
    await Promise.all(
      Array.from({ length: 10 }, () => e.sim('POST', `/sim/deliveries/${deliveries[0].id}/replay`)),
    );
    const messages = await e.waitFor(
      () => messagesOf(user),
      (ms) => ms.length > 0,
      'the paid message',
    );
    const record = await e.waitFor(
      () => recordOf(created.orderId, 'paid'),
      (r) => r?.status === 'sent',
      'the message record',
    );
    assert.equal(messages.length, 1, JSON.stringify(messages));
    const [m] = messages;
    assert.equal(m.templateId, PAID);
    assert.equal(m.page, `pages/order-detail/order-detail?orderId=${created.orderId}`);
    assert.equal(m.data.amount2.value, `¥${(CART_FEN / 100).toFixed(2)}`);
    assert.equal(m.data.character_string4.value, created.orderId);
    assert.match(m.data.time3.value, /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.ok(Array.from(m.data.thing1.value).length <= 20);
    assert.equal(record?.msgid, String(m.msgid));
    assert.equal(record?.attempts, 1);
    const left = await e.sim<{ subscriptions: { templateId: string; remaining: number }[] }>(
      'GET',
      `/sim/subscriptions?openid=${user.openid}`,
    );
    assert.equal(left.subscriptions.find((s) => s.templateId === PAID)?.remaining, 1);
  });

  it('refunded: one message once the refund is settled, with the refunded amount', async () => {
    const user = await e.newUser();
    await grant(user, PAID);
    await grant(user, REFUNDED);
    await grant(user, REFUNDED);
    const created = await buy(user, [PAID, REFUNDED]);
    await paid(user, created);
    await e.armNotifyFault({ kind: 'duplicate', count: 5 });
    const refund = await e.call<RefundResponse>(
      'refund',
      { orderId: created.orderId },
      { openid: user.openid },
    );
    assert.ok(refund.ok, JSON.stringify(refund));
    const messages = await e.waitFor(
      () => messagesOf(user),
      (ms) => ms.some((m) => m.templateId === REFUNDED),
      'the refunded message',
    );
    await e.waitFor(
      () => e.sim<Delivery[]>('GET', `/sim/deliveries?outRefundNo=${refund.data.refundId}`),
      (ds) => ds.length > 0 && ds.every((d) => d.state === 'delivered'),
      'the refund notifications delivered',
    );
    const all = await messagesOf(user);
    assert.deepEqual(
      all.map((m) => m.templateId),
      [PAID, REFUNDED],
      'one of each',
    );
    const refunded = messages.find((m) => m.templateId === REFUNDED)!;
    assert.equal(refunded.data.amount2.value, `¥${(CART_FEN / 100).toFixed(2)}`);
    assert.equal((await recordOf(created.orderId, 'refunded'))?.status, 'sent');
  });

  it("shipped: the admin's first upload sends one message with the tracking number; the one change sends none", async () => {
    const admin = await e.newUser();
    const admins = (e.stack.env.ADMIN_OPENIDS ?? '').split(',').filter(Boolean);
    e.setEnv({ ADMIN_OPENIDS: [...admins, admin.openid].join(',') });
    const user = await e.newUser();
    await grant(user, SHIPPED);
    await grant(user, SHIPPED);
    const created = await buy(user, [SHIPPED]);
    await paid(user, created);
    const ship = (trackingNo: string) =>
      e.call(
        'ship',
        { orderId: created.orderId, shipments: [{ trackingNo, expressCompany: 'YTO' }] },
        { openid: admin.openid },
      );
    const first = await ship('YT1234567890');
    assert.ok(first.ok, JSON.stringify(first));
    const changed = await ship('YT0000000002');
    assert.ok(changed.ok, JSON.stringify(changed));
    const messages = await messagesOf(user);
    assert.deepEqual(
      messages.map((m) => [m.templateId, m.data.character_string2.value]),
      [[SHIPPED, 'YT1234567890']],
    );
    assert.match(messages[0].data.time3.value, /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  });

  it('paid confirmed first by orders.get (which sends nothing): the late notification sends the one message', async () => {
    const user = await e.newUser();
    await grant(user, PAID);
    await grant(user, PAID);
    const created = await buy(user, [PAID]);
    await e.armNotifyFault({ kind: 'delay', delayMs: 4000 });
    assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
    assert.equal((await e.getOrder(user, created.orderId)).status, 'SUCCESS', 'orders.get applied it');
    assert.deepEqual(await messagesOf(user), [], 'orders.get sends no message');
    await e.waitFor(
      () => e.sim<Delivery[]>('GET', `/sim/deliveries?outTradeNo=${created.orderId}`),
      (ds) => ds.length > 0 && ds.every((d) => d.state === 'delivered'),
      'the delayed notification answered',
    );
    const messages = await messagesOf(user);
    assert.equal(messages.length, 1, JSON.stringify(messages));
    assert.equal(messages[0].data.character_string4.value, created.orderId);
    const notes = (await e.dump('notifications')).filter((n) => n.outTradeNo === created.orderId);
    assert.deepEqual(
      notes.map((n) => n.outcome),
      ['applied'],
      'the notification confirming it is the applied one',
    );
  });

  it('no subscription at WeChat: nothing sent, 43101 recorded, the payment fine; no ids: no attempt', async () => {
    const user = await e.newUser();
    const created = await buy(user, [PAID]);
    await paid(user, created);
    const record = await e.waitFor(
      () => recordOf(created.orderId, 'paid'),
      (r) => r !== undefined && r.status !== 'sending',
      'the refusal recorded',
    );
    assert.deepEqual([record?.status, record?.errcode], ['refused', 43101]);
    assert.deepEqual(await messagesOf(user), []);
    assert.equal((await e.getOrder(user, created.orderId)).status, 'SUCCESS');
    const report = await e.reconcile(0);
    assert.equal(report.messagesSent, 0, 'a refusal is final');
    assert.equal((await recordOf(created.orderId, 'paid'))?.status, 'refused');

    await grant(user, PAID);
    const plain = await buy(user);
    await paid(user, plain);
    assert.equal(await recordOf(plain.orderId, 'paid'), undefined, 'an order without ids sends nothing');
    assert.deepEqual(await messagesOf(user), []);
  });

  it('a transient failure (-1) is sent by reconcile later, exactly once; a lost answer is never sent twice', async () => {
    const user = await e.newUser();
    await grant(user, PAID);
    await grant(user, PAID);
    await e.sim('POST', '/sim/faults', { target: 'subscribe', kind: '5xx', count: 1 });
    const busy = await buy(user, [PAID]);
    await paid(user, busy);
    const record = await e.waitFor(
      () => recordOf(busy.orderId, 'paid'),
      (r) => r?.status === 'retry',
      'the transient failure recorded',
    );
    assert.equal(record?.errcode, -1);
    assert.deepEqual(await messagesOf(user), []);
    const runs = await Promise.all([e.reconcile(0), e.reconcile(0)]);
    assert.equal(runs[0].messagesSent + runs[1].messagesSent, 1);
    assert.equal((await messagesOf(user)).length, 1);
    assert.equal((await recordOf(busy.orderId, 'paid'))?.status, 'sent');
    assert.equal((await e.reconcile(0)).messagesSent, 0);

    // WeChat sends (and spends the subscription) but the answer is lost: the retry finds it spent.
    await e.sim('POST', '/sim/faults', { target: 'subscribe', kind: 'lostResponse', count: 1 });
    const lost = await buy(user, [PAID]);
    await paid(user, lost);
    await e.waitFor(
      () => recordOf(lost.orderId, 'paid'),
      (r) => r?.status === 'retry',
      'the lost answer recorded as transient',
    );
    await e.reconcile(0);
    assert.deepEqual(
      [(await recordOf(lost.orderId, 'paid'))?.status, (await recordOf(lost.orderId, 'paid'))?.errcode],
      ['refused', 43101],
    );
    const sent = (await messagesOf(user)).filter((m) => m.data.character_string4.value === lost.orderId);
    assert.equal(sent.length, 1, 'the one message WeChat sent, never a second');
  });
});
