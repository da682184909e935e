// The notification parser and the Validator it shares with the client: one test per failure,
// each asserting the error class, its kind/httpStatus and that the message says what to do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { makeTestKeys, type TestKeys } from './testing/keys';
import { parseApiV3Key, aeadEncrypt } from './aead';
import {
  CertificateVerifier,
  CompositeVerifier,
  PublicKeyVerifier,
  fromX509,
  type Verifier,
} from './verifier';
import { Validator } from './validator';
import { NotificationParser } from './notification';
import { buildTestNotification, generateTestHeaders } from './testing';
import * as E from './errors';
import type { RefundResource, TransactionResource } from './types';

let k: TestKeys;
let apiV3Key: KeyObject;
before(async () => {
  k = await makeTestKeys();
  apiV3Key = parseApiV3Key(k.apiV3KeyText);
});
after(() => k.cleanup());

const transaction = (): TransactionResource => ({
  appid: k.appid,
  mchid: k.mchid,
  out_trade_no: 'T20261125000001',
  transaction_id: '4200000000202611250000000001',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  attach: '',
  success_time: '2026-11-25T20:00:00+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total: 1999, payer_total: 1999, currency: 'CNY', payer_currency: 'CNY' },
});

const refund = (status: RefundResource['refund_status'] = 'SUCCESS'): RefundResource => ({
  mchid: k.mchid,
  out_trade_no: 'T20261125000001',
  transaction_id: '4200000000202611250000000001',
  out_refund_no: 'R20261125000001',
  refund_id: '50000000382019052709732678859',
  refund_status: status,
  success_time: '2026-11-25T20:05:00+08:00',
  user_received_account: '支付用户零钱',
  amount: { total: 1999, refund: 999, payer_total: 1999, payer_refund: 999 },
});

function parserWith(verifier: Verifier, clock: () => number = Date.now, key = apiV3Key) {
  return new NotificationParser({ validator: new Validator({ verifier, clock }), apiV3Key: key });
}
const pk = () => new PublicKeyVerifier(k.wechatPublic.keyId, k.wechatPublic.publicKey);
const certs = (clock: () => number = Date.now) =>
  new CertificateVerifier([fromX509(k.platform.certificate)], clock);

function txNotification(overrides: { timestamp?: number } = {}) {
  return buildTestNotification({
    apiV3Key,
    privateKey: k.wechatPublic.privateKey,
    serial: k.wechatPublic.keyId,
    eventType: 'TRANSACTION.SUCCESS',
    resource: transaction(),
    ...overrides,
  });
}

/** Asserts the rejection's class, kind, HTTP answer and that the message contains the fix. */
async function rejects(
  p: Promise<unknown>,
  cls: abstract new (...args: never[]) => unknown,
  kind: string,
  status: 400 | 401,
  fix: RegExp,
) {
  await assert.rejects(p, (e: any) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    assert.ok(e instanceof E.WxpayVerificationError);
    assert.equal(e.kind, kind);
    assert.equal(e.httpStatus, status);
    assert.match(e.message, fix);
    assert.ok(!e.message.includes(k.apiV3KeyText), 'the APIv3 key must never appear in a message');
    return true;
  });
}

describe('notification parser: accepted', () => {
  test('a TRANSACTION.SUCCESS signed with the public key decrypts to the exact resource (string and Buffer body)', async () => {
    const n = txNotification();
    const parser = parserWith(pk());
    for (const body of [n.body, Buffer.from(n.body)]) {
      const parsed = await parser.parse(n.headers, body);
      assert.equal(parsed.type, 'transaction');
      assert.deepEqual(parsed.resource, transaction());
      assert.equal(parsed.envelope.event_type, 'TRANSACTION.SUCCESS');
      assert.equal(parsed.envelope.resource.original_type, 'transaction');
      assert.equal(parsed.serial, k.wechatPublic.keyId);
    }
    // Lower-cased node headers work the same.
    const lower = Object.fromEntries(Object.entries(n.headers).map(([h, v]) => [h.toLowerCase(), v]));
    assert.equal((await parser.parseTransaction(lower, n.body)).resource.amount.total, 1999);
  });

  test('REFUND.SUCCESS / ABNORMAL / CLOSED signed with a platform certificate parse as refunds', async () => {
    const parser = parserWith(certs());
    for (const [eventType, status] of [
      ['REFUND.SUCCESS', 'SUCCESS'],
      ['REFUND.ABNORMAL', 'ABNORMAL'],
      ['REFUND.CLOSED', 'CLOSED'],
    ] as const) {
      const n = buildTestNotification({
        apiV3Key,
        privateKey: k.platform.privateKey,
        serial: k.platform.serial,
        eventType,
        resource: refund(status),
      });
      const parsed = await parser.parseRefund(n.headers, n.body);
      assert.equal(parsed.type, 'refund');
      assert.equal(parsed.resource.refund_status, status);
      assert.equal(parsed.resource.amount.refund, 999);
    }
  });

  test('mid-migration: a composite verifier accepts both the certificate and the public key', async () => {
    const parser = parserWith(new CompositeVerifier({ publicKey: pk(), certificates: certs() }));
    const byKey = txNotification();
    const byCert = buildTestNotification({
      apiV3Key,
      privateKey: k.platform.privateKey,
      serial: k.platform.serial,
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction(),
    });
    assert.equal((await parser.parse(byKey.headers, byKey.body)).serial, k.wechatPublic.keyId);
    assert.equal((await parser.parse(byCert.headers, byCert.body)).serial, k.platform.serial);
  });

  test('timestamps just inside the 300 s window both ways are accepted', async () => {
    const now = Date.now();
    for (const offset of [-299, 299]) {
      const n = txNotification({ timestamp: Math.floor(now / 1000) + offset });
      assert.equal((await parserWith(pk(), () => now).parse(n.headers, n.body)).type, 'transaction');
    }
  });
});

describe('notification parser: refused', () => {
  test('tampered body → bad-signature 401 telling to verify the raw body', async () => {
    const n = txNotification();
    const tampered = n.body.replace('"summary":"支付成功"', '"summary":"支付成功 "');
    assert.notEqual(tampered, n.body);
    await rejects(
      parserWith(pk()).parse(n.headers, tampered),
      E.WxpayBadSignatureError,
      'bad-signature',
      401,
      /raw request body/,
    );
    // Re-serialized JSON (what a framework's body parser produces) fails the same way.
    const reserialized = JSON.stringify(JSON.parse(n.body), null, 1);
    await rejects(
      parserWith(pk()).parse(n.headers, reserialized),
      E.WxpayBadSignatureError,
      'bad-signature',
      401,
      /re-serialized/,
    );
  });

  test('signature by a different key under the right serial → bad-signature', async () => {
    const n = buildTestNotification({
      apiV3Key,
      privateKey: k.merchant.privateKey,
      serial: k.wechatPublic.keyId,
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction(),
    });
    await rejects(
      parserWith(pk()).parse(n.headers, n.body),
      E.WxpayBadSignatureError,
      'bad-signature',
      401,
      /not signed by WeChat Pay/,
    );
  });

  test('stale and future timestamps (301 s) are refused with distinct errors', async () => {
    const now = Date.now();
    const stale = txNotification({ timestamp: Math.floor(now / 1000) - 301 });
    await rejects(
      parserWith(pk(), () => now).parse(stale.headers, stale.body),
      E.WxpayStaleTimestampError,
      'stale-timestamp',
      401,
      /too old.*clock/,
    );
    const future = txNotification({ timestamp: Math.floor(now / 1000) + 301 });
    await rejects(
      parserWith(pk(), () => now).parse(future.headers, future.body),
      E.WxpayFutureTimestampError,
      'future-timestamp',
      401,
      /future.*clock/,
    );
  });

  test('each missing header is named', async () => {
    const n = txNotification();
    for (const h of [
      'Wechatpay-Timestamp',
      'Wechatpay-Nonce',
      'Wechatpay-Signature',
      'Wechatpay-Serial',
    ] as const) {
      const headers: Record<string, string> = { ...n.headers };
      delete headers[h];
      await rejects(
        parserWith(pk()).parse(headers, n.body),
        E.WxpayMissingHeaderError,
        'missing-header',
        401,
        new RegExp(`has no ${h} header.*pass the request headers through`),
      );
    }
  });

  test('a malformed timestamp header is refused before any verification', async () => {
    const n = txNotification();
    await rejects(
      parserWith(pk()).parse({ ...n.headers, 'Wechatpay-Timestamp': '17e8' }, n.body),
      E.WxpayMalformedHeaderError,
      'malformed-header',
      401,
      /Unix seconds/,
    );
    await rejects(
      parserWith(pk()).parse({ ...n.headers, 'Wechatpay-Signature-Type': 'WECHATPAY2-SM2-WITH-SM3' }, n.body),
      E.WxpayMalformedHeaderError,
      'malformed-header',
      401,
      /Wechatpay-Signature-Type.*WECHATPAY2-SHA256-RSA2048/,
    );
    await rejects(
      parserWith(pk()).parse({ ...n.headers, 'Wechatpay-Serial': 'PUB_KEY_ID_1\nforged log line' }, n.body),
      E.WxpayMalformedHeaderError,
      'malformed-header',
      401,
      /Wechatpay-Serial/,
    );
  });

  test('WECHATPAY/SIGNTEST/ probes are refused', async () => {
    const n = txNotification();
    await rejects(
      parserWith(pk()).parse(
        { ...n.headers, 'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/' + n.headers['Wechatpay-Signature'] },
        n.body,
      ),
      E.WxpaySigntestError,
      'signtest',
      401,
      /SIGNTEST.*refusing it is correct/,
    );
  });

  test('unknown PUB_KEY_ID serial without public-key config → tells to set WXPAY_PUBLIC_KEY_ID', async () => {
    const n = txNotification();
    await rejects(
      parserWith(new CompositeVerifier({ certificates: certs() })).parse(n.headers, n.body),
      E.WxpayUnknownSerialError,
      'unknown-serial',
      401,
      new RegExp(
        `notification signature does not verify: the Wechatpay-Serial ${k.wechatPublic.keyId} is not configured; set WXPAY_PUBLIC_KEY_ID`,
      ),
    );
    // A different key id than the configured one.
    await rejects(
      parserWith(pk()).parse({ ...n.headers, 'Wechatpay-Serial': 'PUB_KEY_ID_0000' }, n.body),
      E.WxpayUnknownSerialError,
      'unknown-serial',
      401,
      /is not the configured WXPAY_PUBLIC_KEY_ID/,
    );
  });

  test('unknown certificate serial → unknown-serial naming the certificate download', async () => {
    const n = buildTestNotification({
      apiV3Key,
      privateKey: k.merchant.privateKey,
      serial: k.merchant.serial,
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction(),
    });
    await rejects(
      parserWith(certs()).parse(n.headers, n.body),
      E.WxpayUnknownSerialError,
      'unknown-serial',
      401,
      /matches no configured platform certificate.*\/v3\/certificates/,
    );
    await rejects(
      parserWith(new CompositeVerifier({ publicKey: pk() })).parse(n.headers, n.body),
      E.WxpayUnknownSerialError,
      'unknown-serial',
      401,
      /only public-key mode is configured; set WXPAY_APIV3_KEY/,
    );
  });

  test('an expired (or not yet valid) platform certificate → certificate-expired', async () => {
    const cert = fromX509(k.platform.certificate);
    const later = cert.notAfter + 1000;
    const n = buildTestNotification({
      apiV3Key,
      privateKey: k.platform.privateKey,
      serial: k.platform.serial,
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction(),
      timestamp: Math.floor(later / 1000),
    });
    await rejects(
      parserWith(
        certs(() => later),
        () => later,
      ).parse(n.headers, n.body),
      E.WxpayCertificateExpiredError,
      'certificate-expired',
      401,
      /valid only from .* to .*download the current certificates/,
    );
  });

  test('empty body → empty-body 400', async () => {
    const n = txNotification();
    await rejects(
      parserWith(pk()).parse(n.headers, ''),
      E.WxpayEmptyBodyError,
      'empty-body',
      400,
      /isBase64Encoded/,
    );
    await rejects(
      parserWith(pk()).parse(n.headers, Buffer.alloc(0)),
      E.WxpayEmptyBodyError,
      'empty-body',
      400,
      /raw HTTP body/,
    );
  });

  /** A body signed by WeChat's key (so it is authentic) but with hostile content. */
  function signed(body: string) {
    return {
      body,
      headers: generateTestHeaders({
        privateKey: k.wechatPublic.privateKey,
        serial: k.wechatPublic.keyId,
        body,
      }),
    };
  }
  function envelopeWith(mutate: (env: any) => void) {
    const env = JSON.parse(txNotification().body);
    mutate(env);
    return signed(JSON.stringify(env));
  }

  test('authentic but malformed JSON → malformed-json 400', async () => {
    const n = signed('{"id":"EV-1","event_type":');
    await rejects(
      parserWith(pk()).parse(n.headers, n.body),
      E.WxpayMalformedJsonError,
      'malformed-json',
      400,
      /body is not valid JSON/,
    );
  });

  test('a decrypted resource that is not JSON → malformed-json 400', async () => {
    const n = envelopeWith((env) =>
      Object.assign(env.resource, aeadEncrypt(apiV3Key, 'not json', 'transaction')),
    );
    await rejects(
      parserWith(pk()).parse(n.headers, n.body),
      E.WxpayMalformedJsonError,
      'malformed-json',
      400,
      /decrypted resource is not valid JSON/,
    );
  });

  test('unsupported algorithm → unsupported-algorithm 400', async () => {
    const n = envelopeWith((env) => (env.resource.algorithm = 'AEAD_SM4_GCM'));
    await rejects(
      parserWith(pk()).parse(n.headers, n.body),
      E.WxpayUnsupportedAlgorithmError,
      'unsupported-algorithm',
      400,
      /only AEAD_AES_256_GCM is supported/,
    );
  });

  test('tampered ciphertext and tag (re-signed) → decryption-failed pointing at WXPAY_APIV3_KEY', async () => {
    for (const at of ['start', 'tag'] as const) {
      const n = envelopeWith((env) => {
        const raw = Buffer.from(env.resource.ciphertext, 'base64');
        raw[at === 'start' ? 0 : raw.length - 1] ^= 0x80;
        env.resource.ciphertext = raw.toString('base64');
      });
      await rejects(
        parserWith(pk()).parse(n.headers, n.body),
        E.WxpayDecryptionError,
        'decryption-failed',
        400,
        /tag does not match.*WXPAY_APIV3_KEY/,
      );
    }
  });

  test('a wrong APIv3 key → decryption-failed', async () => {
    const n = txNotification();
    await rejects(
      parserWith(pk(), Date.now, parseApiV3Key('0123456789abcdef0123456789abcdef')).parse(n.headers, n.body),
      E.WxpayDecryptionError,
      'decryption-failed',
      400,
      /WXPAY_APIV3_KEY differs/,
    );
  });

  test('unexpected event types → unexpected-event-type 400 naming the notify URLs', async () => {
    const unknown = envelopeWith((env) => (env.event_type = 'TRANSACTION.CLOSED'));
    await rejects(
      parserWith(pk()).parse(unknown.headers, unknown.body),
      E.WxpayUnexpectedEventError,
      'unexpected-event-type',
      400,
      /TRANSACTION\.CLOSED.*WXPAY_NOTIFY_URL/,
    );
    const refundAtPayUrl = buildTestNotification({
      apiV3Key,
      privateKey: k.wechatPublic.privateKey,
      serial: k.wechatPublic.keyId,
      eventType: 'REFUND.SUCCESS',
      resource: refund(),
    });
    await rejects(
      parserWith(pk()).parseTransaction(refundAtPayUrl.headers, refundAtPayUrl.body),
      E.WxpayUnexpectedEventError,
      'unexpected-event-type',
      400,
      /REFUND\.SUCCESS.*where TRANSACTION\.SUCCESS was expected/,
    );
  });

  test('resource fields are checked: amount must be integer fen, openid present, original_type consistent', async () => {
    const badAmount = buildTestNotification({
      apiV3Key,
      privateKey: k.wechatPublic.privateKey,
      serial: k.wechatPublic.keyId,
      eventType: 'TRANSACTION.SUCCESS',
      resource: { ...transaction(), amount: { ...transaction().amount, total: 19.99 } },
    });
    await rejects(
      parserWith(pk()).parse(badAmount.headers, badAmount.body),
      E.WxpayMalformedResourceError,
      'malformed-resource',
      400,
      /resource\.amount\.total.*integer amount in fen/,
    );
    const noPayer = buildTestNotification({
      apiV3Key,
      privateKey: k.wechatPublic.privateKey,
      serial: k.wechatPublic.keyId,
      eventType: 'TRANSACTION.SUCCESS',
      resource: { ...transaction(), payer: undefined as never },
    });
    await rejects(
      parserWith(pk()).parse(noPayer.headers, noPayer.body),
      E.WxpayMalformedResourceError,
      'malformed-resource',
      400,
      /resource\.payer/,
    );
    const wrongType = envelopeWith((env) => (env.resource.original_type = 'refund'));
    await rejects(
      parserWith(pk()).parse(wrongType.headers, wrongType.body),
      E.WxpayMalformedResourceError,
      'malformed-resource',
      400,
      /original_type/,
    );
  });

  test('parseSync refuses an unknown serial at once; errors never carry the signature or key', () => {
    const n = buildTestNotification({
      apiV3Key,
      privateKey: k.merchant.privateKey,
      serial: k.merchant.serial,
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction(),
    });
    assert.throws(
      () => parserWith(certs()).parseSync(n.headers, n.body),
      (e: any) =>
        e instanceof E.WxpayUnknownSerialError && !e.message.includes(n.headers['Wechatpay-Signature']),
    );
  });
});
