// Known answers from WeChat's 签名算法 page, and cross-checks against openssl and the third-party
// wechatpay-axios-plugin (its Hash/Aes helpers), for signing, XML and req_info decryption.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Aes, Hash } from 'wechatpay-axios-plugin';
import { Secret } from '../../config/secret';
import {
  V2_ACK_SUCCESS,
  WxpayV2NotificationError,
  WxpayV2SignatureError,
  WxpayV2XmlError,
  buildV2PaymentParams,
  buildV2Xml,
  decryptV2ReqInfo,
  parseV2PaymentNotification,
  parseV2RefundNotification,
  parseV2Xml,
  signV2,
  v2AckFail,
  v2ReqInfoKey,
  v2SignString,
  verifyV2Sign,
  type V2SignType,
} from './index';

const DOC_FIELDS = {
  appid: 'wxd930ea5d5a258f4f',
  mch_id: '10000100',
  device_info: '1000',
  body: 'test',
  nonce_str: 'ibuaiVcKdpRxkhJA',
};
const DOC_KEY = '192006250b4c09247ec02edce69f6a2d';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wxpay-v2-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[], input: string | Buffer): string {
  return execFileSync('openssl', args, { input }).toString().trim();
}
const opensslDigest = (text: string, signType: V2SignType, key: string) =>
  (signType === 'MD5'
    ? openssl(['dgst', '-md5', '-r'], text)
    : openssl(['dgst', '-sha256', '-hmac', key, '-r'], text)
  )
    .split(' ')[0]
    .toUpperCase();

const randomField = () => randomBytes(1 + (randomBytes(1)[0] % 12)).toString('base64url');

describe('v2 sign: known answers and cross-checks', () => {
  test("WeChat's documented example: MD5 and HMAC-SHA256", () => {
    assert.equal(
      v2SignString(DOC_FIELDS),
      'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA',
    );
    assert.equal(signV2(DOC_FIELDS, DOC_KEY, 'MD5'), '9A0A8659F005D6984697E2CA0A9CF3B7');
    assert.equal(
      signV2(DOC_FIELDS, new Secret(DOC_KEY), 'HMAC-SHA256'),
      '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6',
    );
  });

  test('random field sets agree with openssl dgst and with wechatpay-axios-plugin Hash.sign', () => {
    for (let i = 0; i < 8; i++) {
      const key = randomBytes(16).toString('hex');
      const fields: Record<string, string> = {
        appid: 'wx0123456789abcdef',
        total_fee: String(1 + i * 37),
        body: `商品-${randomField()}`,
        empty: '',
        sign: 'IGNORED',
      };
      for (let j = 0; j < 4; j++) fields[`f_${randomField()}`.toLowerCase()] = randomField();
      for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
        const ours = signV2(fields, key, signType);
        const expectedText =
          Object.keys(fields)
            .filter((k) => k !== 'sign' && fields[k] !== '')
            .sort()
            .map((k) => `${k}=${fields[k]}`)
            .join('&') + `&key=${key}`;
        assert.equal(ours, opensslDigest(expectedText, signType, key), `openssl ${signType}`);
        assert.equal(ours, Hash.sign(signType, fields, key), `plugin ${signType}`);
      }
    }
  });

  test('empty values and sign are excluded; numbers are written as decimal text', () => {
    const withExtras = { ...DOC_FIELDS, sign: 'X', attach: '', detail: undefined, openid: null };
    assert.equal(signV2(withExtras, DOC_KEY, 'MD5'), '9A0A8659F005D6984697E2CA0A9CF3B7');
    assert.equal(
      signV2({ ...DOC_FIELDS, mch_id: 10000100, device_info: 1000 }, DOC_KEY, 'MD5'),
      '9A0A8659F005D6984697E2CA0A9CF3B7',
    );
  });

  test('verification is exact: tampered field, wrong key, wrong type, missing or lower-case sign all fail', () => {
    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
      const signed = { ...DOC_FIELDS, sign: signV2(DOC_FIELDS, DOC_KEY, signType) };
      assert.equal(verifyV2Sign(signed, DOC_KEY, signType), true);
      assert.equal(verifyV2Sign({ ...signed, body: 'test2' }, DOC_KEY, signType), false);
      assert.equal(verifyV2Sign({ ...signed, extra_field: 'x' }, DOC_KEY, signType), false);
      assert.equal(verifyV2Sign(signed, DOC_KEY.replace('1', '2'), signType), false);
      assert.equal(verifyV2Sign(signed, DOC_KEY, signType === 'MD5' ? 'HMAC-SHA256' : 'MD5'), false);
      assert.equal(verifyV2Sign({ ...signed, sign: signed.sign.toLowerCase() }, DOC_KEY, signType), false);
      assert.equal(verifyV2Sign({ ...signed, sign: signed.sign.slice(1) }, DOC_KEY, signType), false);
      assert.equal(verifyV2Sign({ ...DOC_FIELDS }, DOC_KEY, signType), false);
    }
  });

  test('wx.requestPayment paySign matches openssl and the plugin over the five camelCase fields', () => {
    const key = randomBytes(16).toString('hex');
    for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
      const params = buildV2PaymentParams(
        {
          appId: 'wx0123456789abcdef',
          prepayId: 'wx201410272009395522657a690389285100',
          now: 1_700_000_000_123,
          nonce: 'n0nce',
        },
        new Secret(key),
        signType,
      );
      assert.deepEqual(
        { ...params, paySign: undefined },
        {
          timeStamp: '1700000000',
          nonceStr: 'n0nce',
          package: 'prepay_id=wx201410272009395522657a690389285100',
          signType,
          paySign: undefined,
        },
      );
      const text = `appId=wx0123456789abcdef&nonceStr=n0nce&package=prepay_id=wx201410272009395522657a690389285100&signType=${signType}&timeStamp=1700000000&key=${key}`;
      assert.equal(params.paySign, opensslDigest(text, signType, key));
      assert.equal(
        params.paySign,
        Hash.sign(
          signType,
          {
            appId: 'wx0123456789abcdef',
            timeStamp: '1700000000',
            nonceStr: 'n0nce',
            package: params.package,
            signType,
          },
          key,
        ),
      );
    }
  });
});

describe('v2 XML codec', () => {
  test('builds <xml> with CDATA strings and bare numbers; parses it back; plugin-style XML parses', () => {
    const xml = buildV2Xml({ appid: 'wx1', total_fee: 100, body: 'a<b>&"c"]]>d', skipped: undefined });
    assert.equal(
      xml,
      '<xml><appid><![CDATA[wx1]]></appid><total_fee>100</total_fee><body><![CDATA[a<b>&"c"]]]]><![CDATA[>d]]></body></xml>',
    );
    assert.deepEqual(parseV2Xml(xml), { appid: 'wx1', total_fee: '100', body: 'a<b>&"c"]]>d' });
    const documented = `<xml>\n<appid>wxd930ea5d5a258f4f</appid>\n<mch_id>10000100</mch_id>\n<device_info>1000</device_info>\n<body>test</body>\n<nonce_str>ibuaiVcKdpRxkhJA</nonce_str>\n<sign>9A0A8659F005D6984697E2CA0A9CF3B7</sign>\n</xml>`;
    const parsed = parseV2Xml(Buffer.from(documented));
    assert.equal(verifyV2Sign(parsed, DOC_KEY, 'MD5'), true);
    assert.deepEqual(parseV2Xml('<?xml version="1.0" encoding="UTF-8"?><xml><a>&amp;&lt;</a><b/></xml>'), {
      a: '&<',
      b: '',
    });
  });

  const refused: Array<[string, string | Buffer, WxpayV2XmlError['problem']]> = [
    [
      'DOCTYPE with external entity (XXE)',
      '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>',
      'doctype',
    ],
    ['bare ENTITY', '<xml><!ENTITY x "y"><a>1</a></xml>', 'doctype'],
    ['lower-case doctype', '<!doctype xml><xml><a>1</a></xml>', 'doctype'],
    ['undeclared entity', '<xml><a>&xxe;</a></xml>', 'malformed'],
    ['not XML', 'return_code=SUCCESS', 'malformed'],
    ['truncated', '<xml><a>1</a>', 'malformed'],
    ['trailing element', '<xml><a>1</a></xml><x/>', 'malformed'],
    ['wrong root', '<root><a>1</a></root>', 'wrong-root'],
    ['nested', '<xml><a><b>1</b></a></xml>', 'not-flat'],
    ['attributes', '<xml><a x="1">1</a></xml>', 'not-flat'],
    ['root attributes', '<xml x="1"><a>1</a></xml>', 'not-flat'],
    ['duplicate field', '<xml><sign>A</sign><sign>B</sign></xml>', 'duplicate-field'],
    ['empty', '', 'empty'],
    ['oversized', `<xml><a>${'x'.repeat(70_000)}</a></xml>`, 'too-large'],
  ];
  for (const [name, body, problem] of refused) {
    test(`refuses ${name}`, () => {
      assert.throws(
        () => parseV2Xml(body),
        (err: unknown) => err instanceof WxpayV2XmlError && err.problem === problem && err.httpStatus === 400,
      );
    });
  }

  test('size limit is configurable and counts bytes, not characters', () => {
    const body = `<xml><a>${'中'.repeat(100)}</a></xml>`;
    assert.throws(
      () => parseV2Xml(body, { maxBytes: 200 }),
      (err: unknown) => err instanceof WxpayV2XmlError && err.problem === 'too-large',
    );
    assert.equal(parseV2Xml(body, { maxBytes: 400 }).a.length, 100);
  });

  test('acknowledgements', () => {
    assert.equal(
      V2_ACK_SUCCESS,
      '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>',
    );
    assert.equal(
      v2AckFail('storage unavailable'),
      '<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[storage unavailable]]></return_msg></xml>',
    );
    assert.deepEqual(parseV2Xml(V2_ACK_SUCCESS), { return_code: 'SUCCESS', return_msg: 'OK' });
  });
});

const KEY = 'Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4F';

function paymentNotification(
  signType: V2SignType,
  overrides: Record<string, string> = {},
  key = KEY,
): string {
  const fields: Record<string, string> = {
    appid: 'wx2421b1c4370ec43b',
    attach: '支付测试',
    bank_type: 'CFT',
    fee_type: 'CNY',
    is_subscribe: 'Y',
    mch_id: '10000100',
    nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
    openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
    out_trade_no: '1409811653',
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    sub_mch_id: '10000100',
    time_end: '20140903131540',
    total_fee: '1',
    coupon_fee_0: '10',
    coupon_count: '1',
    coupon_type: 'CASH',
    coupon_id: '10000',
    trade_type: 'JSAPI',
    transaction_id: '1004400740201409030005092168',
    ...overrides,
  };
  if (signType === 'HMAC-SHA256' && !('sign_type' in overrides)) fields.sign_type = 'HMAC-SHA256';
  // signed by the third-party SDK, not by us
  fields.sign = Hash.sign(signType, fields, key);
  return buildV2Xml(fields);
}

describe('v2 payment notification', () => {
  for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    test(`${signType}: a notification signed by the plugin verifies and reads typed fields`, () => {
      const n = parseV2PaymentNotification(paymentNotification(signType), {
        apiV2Key: new Secret(KEY),
        signType,
      });
      assert.equal(n.outTradeNo, '1409811653');
      assert.equal(n.totalFee, 1);
      assert.equal(n.openid, 'oUpF8uMEb4qRXf22hE3X68TekukE');
      assert.equal(n.transactionId, '1004400740201409030005092168');
      assert.equal(n.resultCode, 'SUCCESS');
      assert.equal(n.mchId, '10000100');
      assert.equal(n.attach, '支付测试');
      assert.equal(n.raw.coupon_fee_0, '10');
    });
  }

  test('tampered amount, wrong key, missing sign: 401', () => {
    const good = paymentNotification('HMAC-SHA256');
    const tampered = good.replace(
      '<total_fee><![CDATA[1]]></total_fee>',
      '<total_fee><![CDATA[100]]></total_fee>',
    );
    assert.notEqual(tampered, good);
    const keys = { apiV2Key: KEY, signType: 'HMAC-SHA256' as const };
    assert.throws(
      () => parseV2PaymentNotification(tampered, keys),
      (e: unknown) => e instanceof WxpayV2SignatureError && e.httpStatus === 401,
    );
    assert.throws(
      () => parseV2PaymentNotification(good, { ...keys, apiV2Key: KEY.toLowerCase() }),
      WxpayV2SignatureError,
    );
    assert.throws(
      () => parseV2PaymentNotification(good.replace(/<sign>.*?<\/sign>/, ''), keys),
      WxpayV2SignatureError,
    );
  });

  test('a notification signed with another sign type is refused, not downgraded', () => {
    assert.throws(
      () =>
        parseV2PaymentNotification(paymentNotification('MD5', { sign_type: 'MD5' }), {
          apiV2Key: KEY,
          signType: 'HMAC-SHA256',
        }),
      (e: unknown) =>
        e instanceof WxpayV2NotificationError &&
        e.problem === 'sign-type-mismatch' &&
        e.httpStatus === 401 &&
        /WXPAY_V2_SIGN_TYPE/.test(e.message),
    );
    // without sign_type the sign's length names the algorithm, and it must still be the configured one
    assert.throws(
      () =>
        parseV2PaymentNotification(paymentNotification('MD5'), { apiV2Key: KEY, signType: 'HMAC-SHA256' }),
      (e: unknown) => e instanceof WxpayV2NotificationError && e.problem === 'sign-type-mismatch',
    );
    const hmacWithoutType = paymentNotification('HMAC-SHA256').replace(
      '<sign_type><![CDATA[HMAC-SHA256]]></sign_type>',
      '',
    );
    assert.ok(!hmacWithoutType.includes('sign_type'));
    assert.throws(
      () => parseV2PaymentNotification(hmacWithoutType, { apiV2Key: KEY, signType: 'HMAC-SHA256' }),
      WxpayV2SignatureError,
      'sign_type was signed, so removing it breaks the sign',
    );
    assert.equal(
      parseV2PaymentNotification(paymentNotification('HMAC-SHA256', { sign_type: '' }), {
        apiV2Key: KEY,
        signType: 'HMAC-SHA256',
      }).totalFee,
      1,
      'HMAC without sign_type is recognised by length',
    );
    assert.throws(
      () =>
        parseV2PaymentNotification(paymentNotification('HMAC-SHA256', { sign_type: 'SHA1' }), {
          apiV2Key: KEY,
          signType: 'HMAC-SHA256',
        }),
      (e: unknown) => e instanceof WxpayV2NotificationError && e.problem === 'sign-type-mismatch',
    );
  });

  test('return_code FAIL, missing fields, non-integer amount: 400', () => {
    const keys = { apiV2Key: KEY, signType: 'MD5' as const };
    assert.throws(
      () => parseV2PaymentNotification(buildV2Xml({ return_code: 'FAIL', return_msg: '签名失败' }), keys),
      (e: unknown) =>
        e instanceof WxpayV2NotificationError &&
        e.problem === 'communication-failure' &&
        e.httpStatus === 400,
    );
    assert.throws(
      () => parseV2PaymentNotification(paymentNotification('MD5', { out_trade_no: '' }), keys),
      (e: unknown) =>
        e instanceof WxpayV2NotificationError &&
        e.problem === 'missing-field' &&
        /out_trade_no/.test(e.message),
    );
    assert.throws(
      () => parseV2PaymentNotification(paymentNotification('MD5', { total_fee: '1.5' }), keys),
      (e: unknown) => e instanceof WxpayV2NotificationError && e.problem === 'bad-field',
    );
    assert.throws(() => parseV2PaymentNotification('<xml><a>1</a>', keys), WxpayV2XmlError);
  });

  test('errors never carry the key', () => {
    try {
      parseV2PaymentNotification(paymentNotification('MD5'), {
        apiV2Key: new Secret(KEY),
        signType: 'HMAC-SHA256',
      });
      assert.fail('expected a failure');
    } catch (err) {
      assert.ok(!inspect(err).includes(KEY));
    }
  });
});

const REFUND_INFO = {
  out_refund_no: '131811191610442717309',
  out_trade_no: '71106718111915575302817',
  refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
  refund_fee: '3960',
  refund_id: '50000408942018111907145868882',
  refund_recv_accout: '支付用户零钱',
  refund_request_source: 'API',
  refund_status: 'SUCCESS',
  settlement_refund_fee: '3960',
  settlement_total_fee: '3960',
  success_time: '2018-11-19 16:24:13',
  total_fee: '3960',
  transaction_id: '4200000215201811190261405420',
};

function refundNotification(reqInfo: string): string {
  return buildV2Xml({
    return_code: 'SUCCESS',
    appid: 'wx2421b1c4370ec43b',
    mch_id: '10000100',
    nonce_str: 'TeqClE3i0mvn3DrK',
    req_info: reqInfo,
  });
}

describe('v2 refund notification req_info', () => {
  const innerXml = buildV2Xml(REFUND_INFO, 'root');
  const keyHex = () => Buffer.from(createHash('md5').update(KEY).digest('hex'), 'latin1').toString('hex');

  test('the key is the lowercase hex MD5 of the API v2 key, used as 32 ASCII bytes', () => {
    const k = v2ReqInfoKey(KEY);
    assert.equal(k.length, 32);
    assert.equal(k.toString('latin1'), openssl(['dgst', '-md5', '-r'], KEY).split(' ')[0]);
  });

  test('req_info made by openssl enc -aes-256-ecb decrypts and parses', () => {
    const plainPath = join(dir, 'req_info.xml');
    writeFileSync(plainPath, innerXml);
    const reqInfo = execFileSync('openssl', [
      'enc',
      '-aes-256-ecb',
      '-K',
      keyHex(),
      '-nosalt',
      '-base64',
      '-A',
      '-in',
      plainPath,
    ])
      .toString()
      .trim();
    assert.equal(decryptV2ReqInfo(reqInfo, KEY), innerXml);
    const n = parseV2RefundNotification(refundNotification(reqInfo), { apiV2Key: new Secret(KEY) });
    assert.equal(n.outRefundNo, REFUND_INFO.out_refund_no);
    assert.equal(n.refundFee, 3960);
    assert.equal(n.totalFee, 3960);
    assert.equal(n.refundStatus, 'SUCCESS');
    assert.equal(n.successTime, '2018-11-19 16:24:13');
    assert.equal(n.refundRecvAccount, '支付用户零钱');
    assert.equal(n.appid, 'wx2421b1c4370ec43b');
    assert.equal(n.mchId, '10000100');
  });

  test('req_info made by wechatpay-axios-plugin AesEcb decrypts, including whole-block plaintext without a pad block', () => {
    const key = createHash('md5').update(KEY).digest('hex');
    const reqInfo = Aes.AesEcb.encrypt(innerXml, key);
    assert.equal(
      parseV2RefundNotification(refundNotification(reqInfo), { apiV2Key: KEY }).refundId,
      REFUND_INFO.refund_id,
    );
    // pad the XML with spaces to a multiple of 16 bytes: the plugin then adds no padding block
    const inner = innerXml.replace(
      '<root>',
      '<root>' + ' '.repeat((16 - (Buffer.byteLength(innerXml) % 16)) % 16),
    );
    assert.equal(Buffer.byteLength(inner) % 16, 0);
    const unpadded = Aes.AesEcb.encrypt(inner, key);
    assert.equal(Buffer.from(unpadded, 'base64').length, Buffer.byteLength(inner));
    assert.equal(
      parseV2RefundNotification(refundNotification(unpadded), { apiV2Key: KEY }).outTradeNo,
      REFUND_INFO.out_trade_no,
    );
    // and ours agrees with the plugin's decryption of the openssl form
    const plainPath = join(dir, 'req_info2.xml');
    writeFileSync(plainPath, innerXml);
    const viaOpenssl = execFileSync('openssl', [
      'enc',
      '-aes-256-ecb',
      '-K',
      keyHex(),
      '-nosalt',
      '-base64',
      '-A',
      '-in',
      plainPath,
    ])
      .toString()
      .trim();
    assert.equal(Aes.AesEcb.decrypt(viaOpenssl, key), decryptV2ReqInfo(viaOpenssl, KEY));
  });

  test('bad req_info: wrong key, not base64, partial block, garbage, missing, FAIL', () => {
    const key = createHash('md5').update(KEY).digest('hex');
    const reqInfo = Aes.AesEcb.encrypt(innerXml, key);
    const is401 = (e: unknown) =>
      e instanceof WxpayV2NotificationError &&
      e.problem === 'bad-req-info' &&
      e.httpStatus === 401 &&
      !e.message.includes(KEY);
    assert.throws(
      () => parseV2RefundNotification(refundNotification(reqInfo), { apiV2Key: KEY.toUpperCase() }),
      is401,
    );
    assert.throws(
      () => parseV2RefundNotification(refundNotification('not base64!'), { apiV2Key: KEY }),
      is401,
    );
    assert.throws(
      () => parseV2RefundNotification(refundNotification(reqInfo.slice(0, 20)), { apiV2Key: KEY }),
      is401,
    );
    assert.throws(
      () =>
        parseV2RefundNotification(refundNotification(Aes.AesEcb.encrypt('<xml><a>1</a></xml>', key)), {
          apiV2Key: KEY,
        }),
      is401,
    );
    assert.throws(
      () =>
        parseV2RefundNotification(refundNotification(randomBytes(64).toString('base64')), { apiV2Key: KEY }),
      is401,
    );
    assert.throws(
      () =>
        parseV2RefundNotification(buildV2Xml({ return_code: 'SUCCESS', appid: 'wx1', mch_id: '1' }), {
          apiV2Key: KEY,
        }),
      (e: unknown) =>
        e instanceof WxpayV2NotificationError && e.problem === 'missing-field' && e.httpStatus === 401,
    );
    assert.throws(
      () => parseV2RefundNotification(buildV2Xml({ return_code: 'FAIL' }), { apiV2Key: KEY }),
      (e: unknown) => e instanceof WxpayV2NotificationError && e.problem === 'communication-failure',
    );
    const { refund_fee: _fee, ...noFee } = REFUND_INFO;
    assert.throws(
      () =>
        parseV2RefundNotification(refundNotification(Aes.AesEcb.encrypt(buildV2Xml(noFee, 'root'), key)), {
          apiV2Key: KEY,
        }),
      (e: unknown) =>
        e instanceof WxpayV2NotificationError &&
        e.problem === 'missing-field' &&
        /refund_fee/.test(e.message),
    );
  });
});
