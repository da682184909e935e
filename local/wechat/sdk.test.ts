// A third-party SDK, wechatpay-axios-plugin, used unchanged against the simulator: it signs its own
// requests and verifies every answer with its own verifier (platform certificate and public key).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Wechatpay, Aes } from 'wechatpay-axios-plugin';
import { startHarness, startReceiver, type Receiver, type SimHarness } from './testing';

let h: SimHarness;
let rx: Receiver;
let wxpay: any;
let platformSerial: string;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- read the installed SDK's own version
const SDK_VERSION: string = require('wechatpay-axios-plugin/package.json').version;

before(async () => {
  h = await startHarness({ signingMode: 'migration', refundDelayMs: 60_000 });
  rx = await startReceiver();
  platformSerial = new X509Certificate(h.data.keys.platformCertificate).serialNumber.toUpperCase();
  wxpay = new Wechatpay({
    mchid: h.env.WXPAY_MCHID,
    serial: h.env.WXPAY_SERIAL_NO,
    privateKey: h.data.keys.merchantPrivateKey,
    certs: {
      [platformSerial]: h.data.keys.platformCertificate,
      [h.env.WXPAY_PUBLIC_KEY_ID]: h.data.keys.publicKey,
    },
    secret: h.env.WXPAY_APIV2_KEY,
    baseURL: `${h.url}/`,
  } as any);
});
after(async () => {
  await rx.close();
  await h.close();
});

test(`wechatpay-axios-plugin ${SDK_VERSION} v3: prepay, query, close, refund, refund query, certificates — every answer verified by the SDK`, async () => {
  const openid = await h.user();
  const mchid = h.env.WXPAY_MCHID;
  const outTradeNo = `SDK${Date.now()}`;
  const order = {
    appid: h.env.WX_APPID,
    mchid,
    description: 'SDK 测试订单',
    out_trade_no: outTradeNo,
    notify_url: rx.url,
    amount: { total: 888, currency: 'CNY' },
    payer: { openid },
  };
  const serials = new Set<string>();
  const note = (res: any) => serials.add(res.headers['wechatpay-serial']);

  const prepay = await wxpay.v3.pay.transactions.jsapi.post(order);
  note(prepay);
  assert.equal(prepay.status, 200);
  assert.match(prepay.data.prepay_id, /^wx/);

  const q1 = await wxpay.v3.pay.transactions.outTradeNo._out_trade_no_.get({
    params: { mchid },
    out_trade_no: outTradeNo,
  });
  note(q1);
  assert.equal(q1.data.trade_state, 'NOTPAY');

  const paid = await h.sim('POST', '/sim/pay-order', { outTradeNo });
  assert.equal(paid.json.errMsg, 'requestPayment:ok');
  const q2 = await wxpay.v3.pay.transactions.id._transaction_id_.get({
    params: { mchid },
    transaction_id: paid.json.order.transactionId,
  });
  note(q2);
  assert.equal(q2.data.trade_state, 'SUCCESS');
  assert.equal(q2.data.amount.payer_total, 888);

  const refund = await wxpay.v3.refund.domestic.refunds.post({
    out_trade_no: outTradeNo,
    out_refund_no: `R${outTradeNo}`,
    reason: '商品已售完',
    notify_url: rx.url,
    funds_account: 'AVAILABLE',
    amount: { refund: 300, from: [], total: 888, currency: 'CNY' },
  });
  note(refund);
  assert.equal(refund.data.status, 'PROCESSING');
  assert.equal(refund.data.amount.refund, 300);
  const rq = await wxpay.v3.refund.domestic.refunds._out_refund_no_.get({ out_refund_no: `R${outTradeNo}` });
  note(rq);
  assert.equal(rq.data.refund_id, refund.data.refund_id);

  const other = `SDK${Date.now()}x`;
  note(await wxpay.v3.pay.transactions.jsapi.post({ ...order, out_trade_no: other }));
  const closed = await wxpay.v3.pay.transactions.outTradeNo.$out_trade_no$.close.post(
    { mchid },
    { out_trade_no: other },
  );
  note(closed);
  assert.equal(closed.status, 204);

  const certs = await wxpay.v3.certificates.get();
  note(certs);
  const [entry] = certs.data.data;
  assert.equal(entry.serial_no, platformSerial);
  const pem = Aes.AesGcm.decrypt(
    entry.encrypt_certificate.ciphertext,
    h.env.WXPAY_APIV3_KEY,
    entry.encrypt_certificate.nonce,
    entry.encrypt_certificate.associated_data,
  );
  assert.equal(new X509Certificate(pem).serialNumber.toUpperCase(), platformSerial);

  // the SDK rejects an error answer's business code but still saw it verified (status ≥ 400 skips verification by design)
  await assert.rejects(
    wxpay.v3.pay.transactions.outTradeNo._out_trade_no_.get({
      params: { mchid },
      out_trade_no: 'NOPE123456',
    }),
    (err: any) => {
      assert.equal(err.response.status, 404);
      assert.equal(err.response.data.code, 'ORDER_NOT_EXIST');
      return true;
    },
  );
  assert.deepEqual(
    [...serials].sort(),
    [platformSerial, h.env.WXPAY_PUBLIC_KEY_ID].sort(),
    'migration mode used both keys, and the SDK accepted both',
  );
});

test(`wechatpay-axios-plugin ${SDK_VERSION} v2: unifiedorder, orderquery, closeorder, refund, refundquery with both sign types`, async () => {
  const openid = await h.user();
  const mchid = h.env.WXPAY_MCHID;
  for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    const outTradeNo = `V2${signType.slice(0, 3)}${Date.now()}`;
    const base = {
      appid: h.env.WX_APPID,
      mch_id: mchid,
      ...(signType === 'HMAC-SHA256' ? { sign_type: signType } : {}),
    };
    const uo = await wxpay.v2.pay.unifiedorder.post({
      ...base,
      body: 'v2 测试',
      out_trade_no: outTradeNo,
      total_fee: 500,
      spbill_create_ip: '127.0.0.1',
      notify_url: rx.url,
      trade_type: 'JSAPI',
      openid,
    });
    assert.equal(uo.data.result_code, 'SUCCESS');
    assert.match(uo.data.prepay_id, /^wx/);
    const q = await wxpay.v2.pay.orderquery.post({ ...base, out_trade_no: outTradeNo });
    assert.equal(q.data.trade_state, 'NOTPAY');
    const paid = await h.sim('POST', '/sim/pay-order', { outTradeNo });
    assert.equal(paid.json.errMsg, 'requestPayment:ok');
    const q2 = await wxpay.v2.pay.orderquery.post({ ...base, transaction_id: paid.json.order.transactionId });
    assert.equal(q2.data.trade_state, 'SUCCESS');
    assert.equal(q2.data.total_fee, '500');
    const r = await wxpay.v2.secapi.pay.refund.post({
      ...base,
      out_trade_no: outTradeNo,
      out_refund_no: `R${outTradeNo}`,
      total_fee: 500,
      refund_fee: 200,
    });
    assert.equal(r.data.result_code, 'SUCCESS');
    assert.equal(r.data.refund_fee, '200');
    const rq = await wxpay.v2.pay.refundquery.post({ ...base, out_refund_no: `R${outTradeNo}` });
    assert.equal(rq.data.refund_status_0, 'PROCESSING');
    // business failure: answered SUCCESS/FAIL, signed; the SDK raises on result_code FAIL
    await assert.rejects(wxpay.v2.pay.closeorder.post({ ...base, out_trade_no: outTradeNo }), (err: any) => {
      assert.match(String(err.response?.data?.err_code ?? err.message), /ORDERPAID|result_code/);
      return true;
    });
    const other = `${outTradeNo}c`;
    await wxpay.v2.pay.unifiedorder.post({
      ...base,
      body: 'v2 关单',
      out_trade_no: other,
      total_fee: 1,
      spbill_create_ip: '127.0.0.1',
      notify_url: rx.url,
      trade_type: 'JSAPI',
      openid,
    });
    const closed = await wxpay.v2.pay.closeorder.post({ ...base, out_trade_no: other });
    assert.equal(closed.data.result_code, 'SUCCESS');
  }
});
