import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Secret } from '../config/secret';
import type { TriggerRequest } from '../http/trigger';
import { buildV2Xml, signV2 } from '../wxpay/v2';
import { buildTestNotification } from '../wxpay/v3/testing';
import { refusalOf } from './gateway';
import { V2Gateway, parseV2Time, v2RefundStatus } from './v2';
import { rfc3339China } from '../wxpay/v3';
import { V3Notifications, paymentFactsOf } from './v3';

describe('gateway wire conversions', () => {
  it('formats time_expire in China Standard Time', () => {
    assert.equal(rfc3339China(Date.parse('2026-11-25T16:30:05.123Z')), '2026-11-26T00:30:05+08:00');
  });
  it('reads v2 Beijing times in both documented forms', () => {
    assert.equal(parseV2Time('20261126003005')?.toISOString(), '2026-11-25T16:30:05.000Z');
    assert.equal(parseV2Time('2026-11-26 00:30:05')?.toISOString(), '2026-11-25T16:30:05.000Z');
    assert.equal(parseV2Time('yesterday'), undefined);
    assert.equal(parseV2Time(undefined), undefined);
  });
  it('maps v2 refund statuses onto ours', () => {
    assert.deepEqual(['SUCCESS', 'REFUNDCLOSE', 'CHANGE', 'PROCESSING', 'odd'].map(v2RefundStatus), [
      'SUCCESS',
      'CLOSED',
      'ABNORMAL',
      'PROCESSING',
      'PROCESSING',
    ]);
  });
  it('turns a v3 transaction into payment facts without inventing an amount', () => {
    const f = paymentFactsOf({
      transaction_id: '42',
      amount: { total: 100, payer_total: 90 },
      payer: { openid: 'o' },
      success_time: '2026-11-26T00:30:05+08:00',
    });
    assert.deepEqual(f, {
      transactionId: '42',
      amountTotalFen: 100,
      payerTotalFen: 90,
      payerOpenid: 'o',
      paidAt: new Date('2026-11-25T16:30:05Z'),
    });
    assert.equal(paymentFactsOf({}).amountTotalFen, -1, 'a missing amount never matches an order');
  });
});

const MERCHANT = { appid: 'wx0000000000000001', mchid: '1900000109' };
const post = (body: string, headers: Record<string, string> = {}): TriggerRequest => ({
  method: 'POST',
  path: '/pay/notify',
  headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
  query: {},
  rawBody: Buffer.from(body),
});

describe('v3 notifications: verified and answered by the gateway', () => {
  const wechat = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyId = 'PUB_KEY_ID_0000000000000000000000000001';
  const apiV3Key = createSecretKey(randomBytes(32));
  const gateway = V3Notifications.publicKeyOnly(
    { apiVersion: 'v3', ...MERCHANT, baseUrl: 'https://api.mch.weixin.qq.com', apiV3Key },
    { id: keyId, key: wechat.publicKey },
  );

  it('reads a signed payment and refund notification into facts', async () => {
    const pay = buildTestNotification({
      privateKey: wechat.privateKey,
      serial: keyId,
      apiV3Key,
      id: 'EV-pay-1',
      eventType: 'TRANSACTION.SUCCESS',
      resource: {
        ...MERCHANT,
        out_trade_no: 'T20261126000001',
        transaction_id: '4200000001',
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        bank_type: 'OTHERS',
        success_time: '2026-11-26T00:30:05+08:00',
        payer: { openid: 'o-payer' },
        amount: { total: 100, payer_total: 90, currency: 'CNY', payer_currency: 'CNY' },
      },
    });
    const facts = await gateway.verifyNotification('pay', post(pay.body, pay.headers));
    assert.deepEqual(facts, {
      id: 'EV-pay-1',
      eventType: 'TRANSACTION.SUCCESS',
      outTradeNo: 'T20261126000001',
      ...MERCHANT,
      payment: {
        transactionId: '4200000001',
        amountTotalFen: 100,
        payerTotalFen: 90,
        payerOpenid: 'o-payer',
        paidAt: new Date('2026-11-25T16:30:05Z'),
      },
    });
    const refund = buildTestNotification({
      privateKey: wechat.privateKey,
      serial: keyId,
      apiV3Key,
      id: 'EV-refund-1',
      eventType: 'REFUND.SUCCESS',
      resource: {
        mchid: MERCHANT.mchid,
        out_trade_no: 'T20261126000001',
        transaction_id: '4200000001',
        out_refund_no: 'R20261126000001',
        refund_id: '5030000001',
        refund_status: 'SUCCESS',
        success_time: '2026-11-26T00:40:00+08:00',
        user_received_account: '支付用户零钱',
        amount: { total: 100, refund: 100, payer_total: 90, payer_refund: 90 },
      },
    });
    const r = await gateway.verifyNotification('refund', post(refund.body, refund.headers));
    assert.deepEqual(r.refund, {
      status: 'SUCCESS',
      refundId: '5030000001',
      refundFen: 100,
      successAt: new Date('2026-11-25T16:40:00Z'),
    });
    assert.deepEqual(
      [r.outRefundNo, r.outTradeNo, r.appid],
      ['R20261126000001', 'T20261126000001', undefined],
    );
  });

  it('pays only on a decrypted trade_state SUCCESS, whatever the event type says', async () => {
    for (const tradeState of ['NOTPAY', 'PAYERROR', 'CLOSED', 'USERPAYING'] as const) {
      const n = buildTestNotification({
        privateKey: wechat.privateKey,
        serial: keyId,
        apiV3Key,
        id: `EV-pay-${tradeState}`,
        eventType: 'TRANSACTION.SUCCESS',
        resource: {
          ...MERCHANT,
          out_trade_no: 'T20261126000002',
          transaction_id: '4200000002',
          trade_type: 'JSAPI',
          trade_state: tradeState,
          trade_state_desc: 'x',
          bank_type: 'OTHERS',
          success_time: '2026-11-26T00:30:05+08:00',
          payer: { openid: 'o-payer' },
          amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
        },
      });
      const facts = await gateway.verifyNotification('pay', post(n.body, n.headers));
      assert.equal(facts.payment, undefined, `trade_state ${tradeState} pays nothing`);
      assert.deepEqual([facts.id, facts.outTradeNo], [`EV-pay-${tradeState}`, 'T20261126000002']);
    }
  });

  it('tells the sender a fixed reason; what to configure is only in the error for the log', async () => {
    const n = buildTestNotification({
      privateKey: wechat.privateKey,
      serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1', // a platform certificate serial
      apiV3Key,
      eventType: 'TRANSACTION.SUCCESS',
      resource: {
        ...MERCHANT,
        out_trade_no: 'T3',
        transaction_id: '4200000003',
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: 'x',
        bank_type: 'OTHERS',
        success_time: '2026-11-26T00:30:05+08:00',
        payer: { openid: 'o-payer' },
        amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
      },
    });
    const err = await gateway.verifyNotification('pay', post(n.body, n.headers)).then(
      () => assert.fail('a certificate-signed notification verified without certificates'),
      (e: unknown) => e,
    );
    assert.match((err as Error).message, /WXPAY_SERIAL_NO and WXPAY_PRIVATE_KEY/, 'the fix, for the log');
    const refusal = refusalOf(err);
    assert.deepEqual(refusal, { status: 401, message: 'signature verification failed' });
    const answer = gateway.acknowledge({ received: false, ...refusal });
    assert.doesNotMatch(answer.body, /WXPAY|PUB_KEY_ID|merchant key|certificate/i);
  });

  it('refuses a tampered body with 401 and answers 204 / JSON FAIL', async () => {
    const n = buildTestNotification({
      privateKey: wechat.privateKey,
      serial: keyId,
      apiV3Key,
      eventType: 'REFUND.CLOSED',
      resource: {
        mchid: MERCHANT.mchid,
        out_trade_no: 'T1',
        transaction_id: '42',
        out_refund_no: 'R1',
        refund_id: '50',
        refund_status: 'CLOSED',
        user_received_account: 'x',
        amount: { total: 1, refund: 1, payer_total: 1, payer_refund: 1 },
      },
    });
    const err = await gateway.verifyNotification('refund', post(n.body.replace('"', ' "'), n.headers)).then(
      () => assert.fail('a tampered notification verified'),
      (e: unknown) => e,
    );
    assert.equal(refusalOf(err)?.status, 401);
    assert.equal(refusalOf(err)?.message, 'signature verification failed', 'a fixed reason for the sender');
    assert.deepEqual(gateway.acknowledge({ received: true }), {
      statusCode: 204,
      headers: {},
      body: '',
      isBase64Encoded: false,
    });
    const fail = gateway.acknowledge({ received: false, status: 503, message: 'retry' });
    assert.deepEqual([fail.statusCode, JSON.parse(fail.body)], [503, { code: 'FAIL', message: 'retry' }]);
  });
});

describe('v2 notifications: verified and answered by the gateway', () => {
  const apiV2Key = 'k'.repeat(32);
  const gateway = new V2Gateway({
    config: {
      apiVersion: 'v2',
      ...MERCHANT,
      baseUrl: 'https://api.mch.weixin.qq.com',
      apiV2Key: new Secret(apiV2Key),
      signType: 'HMAC-SHA256',
    },
  });
  const fields = {
    return_code: 'SUCCESS',
    appid: MERCHANT.appid,
    mch_id: MERCHANT.mchid,
    nonce_str: 'n0nce',
    openid: 'o-payer',
    out_trade_no: 'T20261126000002',
    transaction_id: '4200000002',
    total_fee: '100',
    cash_fee: '90',
    result_code: 'SUCCESS',
    time_end: '20261126003005',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    sign_type: 'HMAC-SHA256',
  };
  const signed = (f: Record<string, string>) =>
    buildV2Xml({ ...f, sign: signV2(f, apiV2Key, 'HMAC-SHA256') });

  it('reads a signed payment result; a resend has the same id, another result another id', async () => {
    const facts = await gateway.verifyNotification('pay', post(signed(fields)));
    assert.equal(facts.eventType, 'TRANSACTION.SUCCESS');
    assert.deepEqual(
      [facts.outTradeNo, facts.mchid, facts.appid],
      [fields.out_trade_no, MERCHANT.mchid, MERCHANT.appid],
    );
    assert.deepEqual(facts.payment, {
      transactionId: '4200000002',
      amountTotalFen: 100,
      payerTotalFen: 90,
      payerOpenid: 'o-payer',
      paidAt: new Date('2026-11-25T16:30:05Z'),
    });
    const resent = await gateway.verifyNotification('pay', post(signed({ ...fields, nonce_str: 'other' })));
    assert.equal(resent.id, facts.id);
    const failed = await gateway.verifyNotification('pay', post(signed({ ...fields, result_code: 'FAIL' })));
    assert.notEqual(failed.id, facts.id);
    assert.equal(failed.payment, undefined);
  });

  it('refuses a wrong sign with 401 and answers with the XML acknowledgement', async () => {
    const forged = buildV2Xml({ ...fields, sign: 'A'.repeat(64) });
    const err = await gateway.verifyNotification('pay', post(forged)).then(
      () => assert.fail('a forged notification verified'),
      (e: unknown) => e,
    );
    assert.equal(refusalOf(err)?.status, 401);
    const ok = gateway.acknowledge({ received: true });
    assert.deepEqual(
      [ok.statusCode, ok.body],
      [
        200,
        '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
      ],
    );
    const fail = gateway.acknowledge({ received: false, status: 401, message: 'bad sign' });
    assert.equal(fail.statusCode, 401);
    assert.match(fail.body, /<return_code><!\[CDATA\[FAIL\]\]><\/return_code>.*bad sign/);
  });
});
