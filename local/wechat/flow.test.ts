// The core path the functions rely on: login code → jscode2session, v3 prepay, the payer's
// wx.requestPayment, query, and the TRANSACTION.SUCCESS notification, all checked with node:crypto.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decryptResource,
  startHarness,
  startReceiver,
  v3PayParams,
  type Receiver,
  type SimHarness,
} from './testing';

let h: SimHarness;
let rx: Receiver;

before(async () => {
  h = await startHarness();
  rx = await startReceiver();
});
after(async () => {
  await rx.close();
  await h.close();
});

function prepayBody(openid: string, outTradeNo: string, extra: Record<string, unknown> = {}) {
  return {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '测试商品-咖啡',
    out_trade_no: outTradeNo,
    notify_url: rx.url,
    amount: { total: 1200, currency: 'CNY' },
    payer: { openid },
    ...extra,
  };
}

test('jscode2session: a code issued for a test user logs in once', async () => {
  const user = await h.sim('POST', '/sim/users', { withUnionid: true });
  assert.equal(user.status, 200);
  assert.match(user.json.openid, /^o[\w-]{27}$/);
  assert.equal(user.json.appid, h.env.WX_APPID);
  assert.ok(user.json.unionid);
  const code = await h.sim('POST', '/sim/login-codes', { openid: user.json.openid });
  assert.equal(code.status, 200);
  assert.ok(Date.parse(code.json.expiresAt) > Date.now() + 290_000);
  const q = `appid=${h.env.WX_APPID}&secret=${h.env.WX_APPSECRET}&js_code=${code.json.code}&grant_type=authorization_code`;
  const first = await h.sim('GET', `/sns/jscode2session?${q}`);
  assert.equal(first.status, 200);
  assert.equal(first.json.openid, user.json.openid);
  assert.equal(first.json.unionid, user.json.unionid);
  assert.equal(Buffer.from(first.json.session_key, 'base64').length, 16);
  assert.equal(first.json.errcode, undefined);
  const again = await h.sim('GET', `/sns/jscode2session?${q}`);
  assert.equal(again.json.errcode, 40163);
  assert.match(again.json.errmsg, /code been used/);
  assert.equal(typeof again.json.rid, 'string');
});

test('v3: prepay, pay with a valid paySign, query, and a verified TRANSACTION.SUCCESS notification', async () => {
  const openid = await h.user();
  const outTradeNo = `T${Date.now()}`;
  const created = await h.v3('POST', '/v3/pay/transactions/jsapi', prepayBody(openid, outTradeNo));
  assert.equal(created.status, 200, created.text);
  assert.match(created.json.prepay_id, /^wx\d{14}[0-9a-f]{20}$/);
  h.verify(created.headers, created.text);
  assert.ok(created.headers['request-id']);

  const again = await h.v3('POST', '/v3/pay/transactions/jsapi', prepayBody(openid, outTradeNo));
  assert.equal(again.json.prepay_id, created.json.prepay_id, 'same parameters → same prepay_id');

  const before = await h.v3(
    'GET',
    `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${h.env.WXPAY_MCHID}`,
  );
  assert.equal(before.status, 200);
  h.verify(before.headers, before.text);
  assert.equal(before.json.trade_state, 'NOTPAY');
  assert.equal(before.json.transaction_id, undefined);

  const pay = await h.sim('POST', '/sim/pay', {
    openid,
    ...v3PayParams(h.data.keys.merchantPrivateKey, h.env.WX_APPID, created.json.prepay_id),
  });
  assert.deepEqual(pay.json, { errMsg: 'requestPayment:ok' });

  const [n] = await rx.waitFor(1);
  const mode = h.verify(n.headers, n.body);
  assert.equal(mode, 'publicKey', 'default mode with WXPAY_PUBLIC_KEY_ID is publicKey');
  const envelope = JSON.parse(n.body);
  assert.match(envelope.id, /^[0-9a-f-]{36}$/);
  assert.match(envelope.create_time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
  assert.equal(envelope.event_type, 'TRANSACTION.SUCCESS');
  assert.equal(envelope.resource_type, 'encrypt-resource');
  assert.equal(envelope.summary, '支付成功');
  assert.equal(envelope.resource.original_type, 'transaction');
  assert.equal(envelope.resource.algorithm, 'AEAD_AES_256_GCM');
  const tx = decryptResource(h.env.WXPAY_APIV3_KEY, envelope.resource);
  assert.equal(tx.out_trade_no, outTradeNo);
  assert.equal(tx.trade_state, 'SUCCESS');
  assert.equal(tx.mchid, h.env.WXPAY_MCHID);
  assert.equal(tx.appid, h.env.WX_APPID);
  assert.equal(tx.payer.openid, openid);
  assert.deepEqual(tx.amount, { total: 1200, payer_total: 1200, currency: 'CNY', payer_currency: 'CNY' });
  assert.match(tx.transaction_id, /^\d{28}$/);
  assert.equal(tx.trade_type, 'JSAPI');

  const after = await h.v3('GET', `/v3/pay/transactions/id/${tx.transaction_id}?mchid=${h.env.WXPAY_MCHID}`);
  assert.equal(after.status, 200);
  assert.equal(after.json.trade_state, 'SUCCESS');
  assert.equal(after.json.success_time, tx.success_time);
  assert.equal(after.json.trade_state_desc, '支付成功');

  const deliveries = await h.sim('GET', `/sim/deliveries?outTradeNo=${outTradeNo}`);
  assert.equal(deliveries.json.length, 1);
  assert.equal(deliveries.json[0].state, 'delivered');
  assert.equal(deliveries.json[0].eventType, 'TRANSACTION.SUCCESS');
  assert.equal(deliveries.json[0].attempts[0].status, 204);

  const paidAgain = await h.v3('POST', '/v3/pay/transactions/jsapi', prepayBody(openid, outTradeNo));
  assert.equal(paidAgain.status, 400);
  assert.equal(paidAgain.json.code, 'ORDERPAID');
  const close = await h.v3('POST', `/v3/pay/transactions/out-trade-no/${outTradeNo}/close`, {
    mchid: h.env.WXPAY_MCHID,
  });
  assert.equal(close.json.code, 'ORDERPAID');
});

test('v3: close NOTPAY → 204 signed, then CLOSED', async () => {
  const openid = await h.user();
  const no = `C${Date.now()}`;
  const created = await h.v3('POST', '/v3/pay/transactions/jsapi', prepayBody(openid, no));
  assert.equal(created.status, 200);
  const close = await h.v3('POST', `/v3/pay/transactions/out-trade-no/${no}/close`, {
    mchid: h.env.WXPAY_MCHID,
  });
  assert.equal(close.status, 204);
  assert.equal(close.text, '');
  h.verify(close.headers, '');
  const q = await h.v3('GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${h.env.WXPAY_MCHID}`);
  assert.equal(q.json.trade_state, 'CLOSED');
  const pay = await h.sim('POST', '/sim/pay', {
    openid,
    ...v3PayParams(h.data.keys.merchantPrivateKey, h.env.WX_APPID, created.json.prepay_id),
  });
  assert.match(pay.json.errMsg, /^requestPayment:fail /);
  const reopen = await h.v3('POST', '/v3/pay/transactions/jsapi', prepayBody(openid, no));
  assert.equal(reopen.json.code, 'ORDER_CLOSED');
});
