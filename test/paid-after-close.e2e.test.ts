// Issue 17 defect 2 on the local stack: an order closed here while WeChat still held its trade (a
// close that raced the prepay) and then paid is never kept: payNotify records the anomaly and refunds
// the whole amount automatically, once even under duplicated notifications, and WeChat's refund
// notification settles it on the order, which stays CLOSED.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openLocalDatabase } from '../local/cloudbase/sdk-env';
import { CART, CART_FEN, startE2E, type E2E, type TestUser } from './support/e2e';

let e: E2E;
let user: TestUser;

before(async () => {
  // Refunds stay PROCESSING at the simulator until the test completes them.
  e = await startE2E({ simulator: { refundDelayMs: 1e9 } });
  user = await e.newUser();
});
after(() => e?.close());

interface Doc {
  _id: string;
  [k: string]: unknown;
}

async function docs(collection: string, filter: (d: Doc) => boolean): Promise<Doc[]> {
  return ((await e.dump(collection)) as Doc[]).filter(filter);
}

describe('a payment on an order we closed', () => {
  it('is refunded in full automatically, once, and settled on the CLOSED order', async () => {
    const created = await e.createPayment(user, CART);
    // The race: orders.close found nothing at WeChat yet and closed the order here only.
    const db = openLocalDatabase(e.emuUrl);
    await db
      .collection('orders')
      .where({ _id: created.orderId, status: 'NOTPAY' })
      .update({ status: 'CLOSED', closedAt: new Date() });
    assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');

    const outRefundNo = `AR${created.orderId}`.slice(0, 32);
    const refundsAtWeChat = () =>
      e.sim<{ outRefundNo: string; amount: number; status: string }[]>(
        'GET',
        `/sim/refunds?outTradeNo=${created.orderId}`,
      );
    const atWeChat = await e.waitFor(refundsAtWeChat, (rs) => rs.length > 0, 'the automatic refund');
    // The refund reaches WeChat inside payNotify, before its answer: wait for the acknowledgement.
    const [delivery] = await e.waitFor(
      () =>
        e.sim<{ id: string; state: string; eventType: string }[]>(
          'GET',
          `/sim/deliveries?outTradeNo=${created.orderId}`,
        ),
      (ds) => ds[0]?.state !== 'pending',
      'the payment notification answered',
    );
    assert.equal(delivery?.state, 'delivered', 'the payment notification was acknowledged');
    // WeChat delivers the same payment notification again: still one refund, never two.
    const replayed = await e.sim<{ state: string }>('POST', `/sim/deliveries/${delivery?.id}/replay`);
    assert.equal(replayed.state, 'delivered');
    assert.deepEqual(
      (await refundsAtWeChat()).map((r) => [r.outRefundNo, r.amount]),
      [[outRefundNo, CART_FEN]],
      'one refund of the whole amount',
    );
    const notes = await docs('notifications', (d) => d.outTradeNo === created.orderId);
    assert.deepEqual(
      notes.map((n) => n.outcome),
      ['anomaly:paid-after-close'],
    );
    assert.equal(atWeChat[0]?.status, 'PROCESSING');
    const refunds = await docs('refunds', (d) => d.outTradeNo === created.orderId);
    assert.deepEqual(
      refunds.map((r) => [r._id, r.requestedBy, r.amountFen, r.reason]),
      [[outRefundNo, 'system', CART_FEN, 'paid after the order was closed: refunded automatically']],
    );

    await e.sim('POST', `/sim/refunds/${outRefundNo}/complete`, { status: 'SUCCESS' });
    const settled = await e.waitFor(
      async () => (await docs('orders', (d) => d._id === created.orderId))[0],
      (o) => o?.refundedFen === CART_FEN,
      'the refund settled on the order',
    );
    assert.deepEqual(
      [settled?.status, settled?.refundingFen, typeof settled?.transactionId],
      ['CLOSED', 0, 'string'],
    );
    const ledger = await e.sim<{ outTradeNo: string; paid: boolean; refunded: number }[]>(
      'GET',
      `/sim/orders?openid=${user.openid}`,
    );
    const trade = ledger.find((o) => o.outTradeNo === created.orderId);
    assert.deepEqual([trade?.paid, trade?.refunded], [true, CART_FEN], 'WeChat gave all the money back');
  });
});
