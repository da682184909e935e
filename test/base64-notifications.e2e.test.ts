// CloudBase's HTTP access may hand a trigger its body base64-encoded (`isBase64Encoded: true`). With
// the host doing that for every notification (base64Share 1), payment and refund notifications from
// the simulator are verified and applied end to end, in v3 and in v2.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CART, CART_FEN, startE2E, type E2E } from './support/e2e';

let e: E2E;

before(async () => {
  e = await startE2E({ host: { base64Share: 1 } });
});
after(async () => {
  await e?.close();
});

interface Delivery {
  state: string;
  attempts: { status: number }[];
}

async function orderDoc(id: string): Promise<Record<string, unknown>> {
  const doc = (await e.dump('orders')).find((o) => o._id === id);
  assert.ok(doc, `order ${id} exists`);
  return doc;
}

async function payAndRefund(version: 'v3' | 'v2'): Promise<void> {
  e.setEnv({ WXPAY_API_VERSION: version });
  const recordsBefore = e.stack.host.invocations.recent().length;
  const user = await e.newUser();
  const created = await e.createPayment(user, CART);
  assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
  const paid = await e.waitFor(
    () => e.sim<Delivery[]>('GET', `/sim/deliveries?outTradeNo=${created.orderId}`),
    (ds) => ds.length === 1 && ds[0].state === 'delivered',
    `${version} payment notification delivered`,
    30_000,
  );
  assert.equal(paid[0].attempts.at(-1)?.status, version === 'v3' ? 204 : 200);
  const order = await orderDoc(created.orderId);
  assert.equal(order.status, 'SUCCESS');
  assert.ok(order.transactionId);
  const payNote = (await e.dump('notifications')).find((n) => n.outTradeNo === created.orderId);
  assert.equal(payNote?.outcome, 'applied');

  const refund = await e.call<{ refundId: string }>(
    'refund',
    { orderId: created.orderId },
    { openid: user.openid },
  );
  assert.ok(refund.ok, JSON.stringify(refund));
  await e
    .sim('POST', `/sim/refunds/${refund.data.refundId}/complete`, { status: 'SUCCESS' })
    .catch(() => undefined);
  const refunded = await e.waitFor(
    () => orderDoc(created.orderId),
    (o) => o.status === 'REFUNDED',
    `${version} refund notification applied`,
    30_000,
  );
  assert.deepEqual([refunded.refundedFen, refunded.refundingFen], [CART_FEN, 0]);
  const refundNote = await e.waitFor(
    async () => (await e.dump('notifications')).find((n) => n.outRefundNo === refund.data.refundId),
    (n) => n !== undefined,
    `${version} refund notification recorded`,
  );
  assert.equal(refundNote?.outcome, 'applied');

  // Every notification reached its function base64-encoded, and was answered without an error.
  // The host records an invocation once its answer is sent, a moment after the function's own writes.
  const notified = await e.waitFor(
    async () =>
      e.stack.host.invocations
        .recent()
        .slice(recordsBefore)
        .filter((r) => r.trigger === 'http'),
    (records) => new Set(records.map((r) => r.functionName)).size >= 2,
    `${version} notification invocations recorded`,
  );
  assert.deepEqual([...new Set(notified.map((r) => r.functionName))].sort(), ['payNotify', 'refundNotify']);
  assert.ok(
    notified.every((r) => r.base64Body === true && r.outcome === 'ok' && r.status < 300),
    JSON.stringify(notified),
  );
}

describe('notifications handed over base64-encoded', () => {
  it('v3: payment and refund notifications are verified over the decoded bytes and applied', () =>
    payAndRefund('v3'));
  it('v2: the XML payment and refund notifications too', () => payAndRefund('v2'));
});
