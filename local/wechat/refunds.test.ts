// Refunds: amount rules, idempotency, PROCESSING → SUCCESS after the (time-scaled) delay or a final
// status set through the control API, and the REFUND.* notifications decrypted with node:crypto.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decryptResource,
  startHarness,
  startReceiver,
  waitUntil,
  type Receiver,
  type SimHarness,
} from './testing';

let h: SimHarness;
let rx: Receiver;
let payRx: Receiver;
let openid: string;
const REFUNDS = '/v3/refund/domestic/refunds';

before(async () => {
  // refunds complete after 60 s of WeChat time = 0.3 s here
  h = await startHarness({ timeScale: 200, refundDelayMs: 60_000 });
  rx = await startReceiver('/refund/notify');
  payRx = await startReceiver('/pay/notify');
  openid = await h.user();
});
after(async () => {
  await rx.close();
  await payRx.close();
  await h.close();
});

let seq = 0;
async function paidOrder(total: number): Promise<string> {
  const no = `RF${Date.now()}${seq++}`;
  const r = await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '退款测试',
    out_trade_no: no,
    notify_url: payRx.url,
    amount: { total },
    payer: { openid },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((await h.sim('POST', '/sim/pay-order', { outTradeNo: no })).json.errMsg, 'requestPayment:ok');
  return no;
}

function refundBody(
  outTradeNo: string,
  outRefundNo: string,
  refund: number,
  total: number,
  extra: Record<string, unknown> = {},
) {
  return {
    out_trade_no: outTradeNo,
    out_refund_no: outRefundNo,
    reason: '不想要了',
    notify_url: rx.url,
    amount: { refund, total, currency: 'CNY' },
    ...extra,
  };
}

test('partial refunds up to the total; idempotent by out_refund_no; PROCESSING then SUCCESS with REFUND.SUCCESS', async () => {
  const no = await paidOrder(1000);
  const first = await h.v3('POST', REFUNDS, refundBody(no, `${no}-1`, 600, 1000));
  assert.equal(first.status, 200, first.text);
  h.verify(first.headers, first.text);
  assert.equal(first.json.status, 'PROCESSING');
  assert.equal(first.json.out_trade_no, no);
  assert.match(first.json.refund_id, /^\d{29}$/);
  assert.equal(first.json.amount.refund, 600);
  assert.equal(first.json.amount.total, 1000);
  assert.equal(first.json.amount.currency, 'CNY');
  assert.equal(first.json.channel, 'ORIGINAL');
  assert.match(first.json.create_time, /\+08:00$/);

  const same = await h.v3('POST', REFUNDS, refundBody(no, `${no}-1`, 600, 1000));
  assert.equal(same.json.refund_id, first.json.refund_id, 'same out_refund_no, same answer');
  const conflicting = await h.v3('POST', REFUNDS, refundBody(no, `${no}-1`, 500, 1000));
  assert.equal(conflicting.status, 400);
  assert.equal(conflicting.json.code, 'INVALID_REQUEST');

  const tooMuch = await h.v3('POST', REFUNDS, refundBody(no, `${no}-2`, 401, 1000));
  assert.equal(tooMuch.status, 400);
  assert.equal(tooMuch.json.code, 'INVALID_REQUEST');
  const wrongTotal = await h.v3('POST', REFUNDS, refundBody(no, `${no}-3`, 100, 999));
  assert.equal(wrongTotal.json.code, 'INVALID_REQUEST');
  const rest = await h.v3('POST', REFUNDS, refundBody(no, `${no}-4`, 400, 1000));
  assert.equal(rest.status, 200);

  const q = await h.v3('GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${h.env.WXPAY_MCHID}`);
  assert.equal(q.json.trade_state, 'REFUND');

  const notes = await rx.waitFor(2, 5000);
  const resources = notes.map((n) => {
    h.verify(n.headers, n.body);
    const env = JSON.parse(n.body);
    assert.equal(env.event_type, 'REFUND.SUCCESS');
    assert.equal(env.summary, '退款成功');
    assert.equal(env.resource.original_type, 'refund');
    assert.equal(env.resource.associated_data, 'refund');
    return decryptResource(h.env.WXPAY_APIV3_KEY, env.resource);
  });
  const r1 = resources.find((r) => r.out_refund_no === `${no}-1`);
  assert.ok(r1);
  assert.equal(r1.refund_status, 'SUCCESS');
  assert.equal(r1.mchid, h.env.WXPAY_MCHID);
  assert.deepEqual(r1.amount, { total: 1000, refund: 600, payer_total: 1000, payer_refund: 600 });
  assert.match(r1.success_time, /\+08:00$/);
  assert.equal(r1.user_received_account, '支付用户零钱');

  const done = await h.v3('GET', `${REFUNDS}/${no}-1`);
  assert.equal(done.json.status, 'SUCCESS');
  assert.ok(done.json.success_time);
  const none = await h.v3('GET', `${REFUNDS}/nope-1`);
  assert.equal(none.status, 404);
  assert.equal(none.json.code, 'RESOURCE_NOT_EXISTS');
});

test('refund rules: unpaid → INVALID_REQUEST, unknown order → 404, refund > total → PARAM_ERROR, currency required', async () => {
  const unpaid = `UP${Date.now()}`;
  await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: 'x',
    out_trade_no: unpaid,
    notify_url: rx.url,
    amount: { total: 10 },
    payer: { openid },
  });
  const r = await h.v3('POST', REFUNDS, refundBody(unpaid, `${unpaid}-r`, 10, 10));
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'INVALID_REQUEST');
  const unknown = await h.v3('POST', REFUNDS, refundBody('NOSUCHORDER1', 'x-r', 10, 10));
  assert.equal(unknown.status, 404);
  const no = await paidOrder(50);
  const over = await h.v3('POST', REFUNDS, refundBody(no, `${no}-o`, 51, 50));
  assert.equal(over.json.code, 'PARAM_ERROR');
  const noCurrency = await h.v3('POST', REFUNDS, {
    out_trade_no: no,
    out_refund_no: `${no}-c`,
    amount: { refund: 1, total: 50 },
  });
  assert.equal(noCurrency.json.code, 'PARAM_ERROR');
  const neither = await h.v3('POST', REFUNDS, {
    out_refund_no: `${no}-n`,
    amount: { refund: 1, total: 50, currency: 'CNY' },
  });
  assert.equal(neither.json.code, 'PARAM_ERROR');
  // by transaction_id
  const order = (await h.v3('GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${h.env.WXPAY_MCHID}`))
    .json;
  const byTx = await h.v3('POST', REFUNDS, {
    transaction_id: order.transaction_id,
    out_refund_no: `${no}-t`,
    amount: { refund: 50, total: 50, currency: 'CNY' },
  });
  assert.equal(byTx.status, 200, byTx.text);
  assert.equal(byTx.json.out_trade_no, no);
});

test('control API completes refunds as ABNORMAL or CLOSED; a closed refund frees the amount again', async () => {
  await h.sim('POST', '/sim/clock', { timeScale: 1 }); // keep them PROCESSING until told
  const no = await paidOrder(300);
  await h.v3('POST', REFUNDS, refundBody(no, `${no}-a`, 300, 300));
  await h
    .v3('POST', REFUNDS, refundBody(no, `${no}-b`, 1, 300))
    .then((r) => assert.equal(r.json.code, 'INVALID_REQUEST'));
  const closed = await h.sim('POST', `/sim/refunds/${no}-a/complete`, { status: 'CLOSED' });
  assert.equal(closed.json.status, 'CLOSED');
  const again = await h.sim('POST', `/sim/refunds/${no}-a/complete`, { status: 'SUCCESS' });
  assert.equal(again.status, 409);
  const b = await h.v3('POST', REFUNDS, refundBody(no, `${no}-b2`, 300, 300));
  assert.equal(b.status, 200, 'the closed refund no longer counts');
  const abn = await h.sim('POST', `/sim/refunds/${no}-b2/complete`, { status: 'ABNORMAL' });
  assert.equal(abn.json.status, 'ABNORMAL');
  await waitUntil(
    async () =>
      (await h.sim('GET', `/sim/deliveries?outTradeNo=${no}`)).json.filter(
        (d: any) => d.state === 'delivered',
      ).length === 3,
  );
  const events = (await h.sim('GET', `/sim/deliveries?outTradeNo=${no}`)).json
    .map((d: any) => d.eventType)
    .sort();
  assert.deepEqual(events, ['REFUND.ABNORMAL', 'REFUND.CLOSED', 'TRANSACTION.SUCCESS']);
  const byRefund = (await h.sim('GET', `/sim/deliveries?outRefundNo=${no}-a`)).json;
  assert.equal(byRefund.length, 1);
  const n = rx.received.find((x) => JSON.parse(x.body).event_type === 'REFUND.ABNORMAL')!;
  const res = decryptResource(h.env.WXPAY_APIV3_KEY, JSON.parse(n.body).resource);
  assert.equal(res.refund_status, 'ABNORMAL');
  assert.equal(res.success_time, undefined);
  assert.equal((await h.sim('POST', '/sim/refunds/none/complete', {})).status, 404);
  assert.equal((await h.sim('POST', `/sim/refunds/${no}-b2/complete`, { status: 'DONE' })).status, 400);
});
