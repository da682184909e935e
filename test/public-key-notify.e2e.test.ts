// docs/configuration.md#notify-endpoints-without-a-merchant-key: payNotify and
// refundNotify verify with WXPAY_PUBLIC_KEY and decrypt with WXPAY_APIV3_KEY. Without the key, a
// notification WeChat still signs with a platform certificate (its 7-day switch to the public key) is
// refused with the fix, changes nothing, and is applied once the key is given and WeChat retries.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RefundResponse } from '../shared/contracts/api';
import { CART, startE2E, type E2E } from './support/e2e';

let e: E2E;
/** The functions' own log lines ("[payNotify] …"). */
const functionLog: string[] = [];

before(async () => {
  e = await startE2E({
    host: { functionOutput: (name, line) => void functionLog.push(`[${name}] ${line}`) },
  });
});
after(async () => {
  await e?.close();
});

type Delivery = {
  id: string;
  state: string;
  attempts: { status: number; kind: string; answer?: string; serial?: string }[];
};

const deliveriesOf = (q: string) => e.sim<Delivery[]>('GET', `/sim/deliveries?${q}`);
const orderStatus = async (id: string) => (await e.dump('orders')).find((o) => o._id === id)?.status;
const withoutMerchantKey = { WXPAY_SERIAL_NO: undefined, WXPAY_PRIVATE_KEY: undefined };
const merchantKey = () => ({
  WXPAY_SERIAL_NO: e.baseEnv.WXPAY_SERIAL_NO,
  WXPAY_PRIVATE_KEY: e.baseEnv.WXPAY_PRIVATE_KEY,
});

describe('notification endpoints in public-key mode without the merchant key', () => {
  it('apply public-key-signed payment and refund notifications; refuse a certificate-signed one with the fix until the key is given', async () => {
    e.setEnv({
      WXPAY_API_VERSION: 'v3',
      WXPAY_PUBLIC_KEY_ID: e.baseEnv.WXPAY_PUBLIC_KEY_ID,
      WXPAY_PUBLIC_KEY: e.baseEnv.WXPAY_PUBLIC_KEY,
    });
    await e.sim('POST', '/sim/mode', { signingMode: 'publicKey' });
    const user = await e.newUser();
    await e.login(user);
    // Orders are created while createPayment still has its key (it signs requests to WeChat).
    const a = await e.createPayment(user, CART);
    const b = await e.createPayment(user, CART);

    e.setEnv(withoutMerchantKey);
    assert.equal(await e.pay(user, a.payment), 'requestPayment:ok');
    const [da] = await e.waitFor(
      () => deliveriesOf(`outTradeNo=${a.orderId}`),
      (d) => d[0]?.state === 'delivered',
      'public-key-signed notification delivered',
      30_000,
    );
    assert.equal(da.attempts.at(-1)!.status, 204);
    assert.match(da.attempts.at(-1)!.serial ?? '', /^PUB_KEY_ID_/);
    assert.equal(await orderStatus(a.orderId), 'SUCCESS');

    // WeChat's switch week: this one comes signed with a platform certificate.
    await e.sim('POST', '/sim/mode', { signingMode: 'certificate' });
    const snapshot = await e.dumpAll();
    assert.equal(await e.pay(user, b.payment), 'requestPayment:ok');
    const [db] = await e.waitFor(
      () => deliveriesOf(`outTradeNo=${b.orderId}`),
      (d) => (d[0]?.attempts.length ?? 0) > 0,
      'certificate-signed notification attempted',
      30_000,
    );
    const refused = db.attempts[0];
    assert.equal(refused.status, 401, JSON.stringify(refused));
    assert.doesNotMatch(refused.serial ?? '', /^PUB_KEY_ID_/);
    // WeChat (or whoever sent it) hears a fixed reason; the fix is in the function log only.
    assert.match(refused.answer ?? '', /signature verification failed/);
    assert.doesNotMatch(refused.answer ?? '', /WXPAY_|PUB_KEY_ID|merchant key|certificate/i);
    const refusedLine = functionLog.find((l) => l.startsWith('[payNotify]') && /refused \(401\)/.test(l));
    assert.match(refusedLine ?? '', /platform certificate/);
    assert.match(refusedLine ?? '', /WXPAY_SERIAL_NO and WXPAY_PRIVATE_KEY/);
    assert.equal(await orderStatus(b.orderId), 'NOTPAY');
    // nothing was written for the refused notification (the payment itself lives at the simulator)
    assert.equal(await e.dumpAll(), snapshot);

    // Given the key, WeChat's next attempt (here: a replay) is verified with the downloaded certificate.
    e.setEnv(merchantKey());
    await e.sim('POST', `/sim/deliveries/${db.id}/replay`);
    await e.waitFor(
      () => orderStatus(b.orderId),
      (s) => s === 'SUCCESS',
      'certificate-signed notification applied after the key was given',
      30_000,
    );

    // A refund notification, back in public-key signing and without the key, is applied too. The
    // refund call itself signs a request (key needed); its notification is held back (every scheduled
    // attempt dropped) and replayed once the key is gone, as WeChat's next retry would arrive.
    await e.sim('POST', '/sim/mode', { signingMode: 'publicKey' });
    await e.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1000 });
    const r = await e.call<RefundResponse>('refund', { orderId: a.orderId }, { openid: user.openid });
    assert.ok(r.ok, JSON.stringify(r));
    // the simulator may already have completed it on its own timer
    await e
      .sim('POST', `/sim/refunds/${r.data.refundId}/complete`, { status: 'SUCCESS' })
      .catch(() => undefined);
    const [held] = await e.waitFor(
      () => deliveriesOf(`outRefundNo=${r.data.refundId}`),
      (d) => (d[0]?.attempts.length ?? 0) > 0,
      'refund notification held back',
      30_000,
    );
    assert.equal(await orderStatus(a.orderId), 'SUCCESS', 'not refunded before the notification is applied');
    e.setEnv(withoutMerchantKey);
    await e.sim('POST', `/sim/deliveries/${held.id}/replay`);
    await e.sim('DELETE', '/sim/faults');
    await e.waitFor(
      () => orderStatus(a.orderId),
      (s) => s === 'REFUNDED',
      'refund notification applied without the merchant key',
      30_000,
    );
    const [dr] = await deliveriesOf(`outRefundNo=${r.data.refundId}`);
    const replayed = dr.attempts.filter((x) => x.kind === 'replay');
    assert.equal(replayed.length, 1, JSON.stringify(dr));
    assert.equal(replayed[0].status, 204);
    assert.match(replayed[0].serial ?? '', /^PUB_KEY_ID_/);
    assert.ok(
      dr.attempts.every((x) => x.kind === 'replay' || x.status === 0),
      'every earlier attempt was held back',
    );
  });
});
