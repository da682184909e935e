// jscode2session errcodes and code life; the payer's side of wx.requestPayment with paySign checks.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, createSign } from 'node:crypto';
import { httpCall, startHarness, v3PayParams, type SimHarness } from './testing';

let h: SimHarness;

before(async () => {
  h = await startHarness();
});
after(() => h.close());

const session = (q: Record<string, string>) =>
  h.sim('GET', `/sns/jscode2session?${new URLSearchParams(q).toString()}`);

test('jscode2session: 40013 appid, 40125 secret, 40029 unknown or expired code, 40163 reused, 5-minute life', async () => {
  const openid = await h.user();
  const base = { appid: h.env.WX_APPID, secret: h.env.WX_APPSECRET, grant_type: 'authorization_code' };
  const issue = async () => (await h.sim('POST', '/sim/login-codes', { openid })).json.code as string;
  let r = await session({ ...base, appid: 'wx0000000000000000', js_code: await issue() });
  assert.equal(r.json.errcode, 40013);
  assert.match(r.json.errmsg, /^invalid appid, rid: /);
  r = await session({ ...base, secret: 'wrong', js_code: await issue() });
  assert.equal(r.json.errcode, 40125);
  r = await session({ ...base, js_code: 'notacode' });
  assert.equal(r.json.errcode, 40029);
  assert.match(r.json.rid, /^[0-9a-f-]+$/);

  const code = await issue();
  await h.sim('POST', '/sim/clock', { advanceSeconds: 299 });
  r = await session({ ...base, js_code: code });
  assert.equal(r.json.openid, openid, 'still valid at 4:59');
  assert.equal((await session({ ...base, js_code: code })).json.errcode, 40163);

  const stale = await issue();
  await h.sim('POST', '/sim/clock', { advanceSeconds: 301 });
  assert.equal(
    (await session({ ...base, js_code: stale })).json.errcode,
    40029,
    'expired after five minutes',
  );

  const u = (await h.sim('POST', '/sim/users', {})).json;
  assert.equal(u.unionid, undefined);
  const plain = await session({
    ...base,
    js_code: (await h.sim('POST', '/sim/login-codes', { openid: u.openid })).json.code,
  });
  assert.deepEqual(Object.keys(plain.json).sort(), ['openid', 'session_key']);
  assert.equal((await h.sim('POST', '/sim/login-codes', { openid: 'oNobody' })).status, 404);
  assert.equal((await h.sim('POST', '/sim/login-codes', {})).status, 400);
});

async function prepay(openid: string, extra: Record<string, unknown> = {}) {
  const no = `P${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const r = await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: 'pay',
    out_trade_no: no,
    notify_url: 'http://127.0.0.1:9/n',
    amount: { total: 7 },
    payer: { openid },
    ...extra,
  });
  assert.equal(r.status, 200, r.text);
  return { no, prepayId: r.json.prepay_id as string };
}
const state = async (no: string) =>
  (await h.v3('GET', `/v3/pay/transactions/out-trade-no/${no}?mchid=${h.env.WXPAY_MCHID}`)).json.trade_state;

test('v3 paySign: a wrong signature, another payer, cancel and failure answer as the phone would', async () => {
  const openid = await h.user();
  const { no, prepayId } = await prepay(openid);
  const good = v3PayParams(h.data.keys.merchantPrivateKey, h.env.WX_APPID, prepayId);
  // signed by another key, or over other fields
  const foreign = {
    ...good,
    paySign: createSign('RSA-SHA256')
      .update(`${h.env.WX_APPID}\n${good.timeStamp}\n${good.nonceStr}\n${good.package}\n`)
      .sign(h.data.keys.platformPrivateKey, 'base64'),
  };
  assert.deepEqual((await h.sim('POST', '/sim/pay', { openid, ...foreign })).json, {
    errMsg: 'requestPayment:fail 支付验证签名失败',
  });
  assert.equal(
    (await h.sim('POST', '/sim/pay', { openid, ...good, timeStamp: String(Number(good.timeStamp) + 1) })).json
      .errMsg,
    'requestPayment:fail 支付验证签名失败',
  );
  assert.equal(
    (await h.sim('POST', '/sim/pay', { openid, ...good, signType: 'MD5' })).json.errMsg,
    'requestPayment:fail 支付验证签名失败',
  );
  assert.match(
    (await h.sim('POST', '/sim/pay', { openid: await h.user(), ...good })).json.errMsg,
    /^requestPayment:fail /,
  );
  assert.match(
    (await h.sim('POST', '/sim/pay', { openid, ...good, package: 'prepay_id=wx000' })).json.errMsg,
    /^requestPayment:fail /,
  );
  assert.match(
    (await h.sim('POST', '/sim/pay', { openid, ...good, paySign: undefined })).json.errMsg,
    /^requestPayment:fail parameter error/,
  );
  assert.equal(await state(no), 'NOTPAY');
  assert.equal(
    (await h.sim('POST', '/sim/pay', { openid, ...good, outcome: 'cancel' })).json.errMsg,
    'requestPayment:fail cancel',
  );
  assert.equal(await state(no), 'NOTPAY');
  assert.equal((await h.sim('POST', '/sim/pay', { openid, ...good })).json.errMsg, 'requestPayment:ok');
  assert.equal(await state(no), 'SUCCESS');
  assert.match(
    (await h.sim('POST', '/sim/pay', { openid, ...good })).json.errMsg,
    /^requestPayment:fail /,
    'cannot pay twice',
  );

  const failing = await prepay(openid);
  const f = await h.sim('POST', '/sim/pay', {
    openid,
    ...v3PayParams(h.data.keys.merchantPrivateKey, h.env.WX_APPID, failing.prepayId),
    outcome: 'fail',
  });
  assert.match(f.json.errMsg, /^requestPayment:fail /);
  assert.equal(await state(failing.no), 'PAYERROR');

  // USERPAYING (the payer is still entering the password) then completed through the control API
  const paying = await prepay(openid);
  const up = await h.sim('POST', '/sim/pay', {
    openid,
    ...v3PayParams(h.data.keys.merchantPrivateKey, h.env.WX_APPID, paying.prepayId),
    outcome: 'userpaying',
  });
  assert.match(up.json.errMsg, /^requestPayment:fail /);
  const mid = await h.v3('GET', `/v3/pay/transactions/out-trade-no/${paying.no}?mchid=${h.env.WXPAY_MCHID}`);
  assert.equal(mid.json.trade_state, 'USERPAYING');
  assert.equal(mid.json.trade_state_desc, '用户支付中（付款码支付）');
  assert.equal(
    (await h.sim('POST', '/sim/pay-order', { outTradeNo: paying.no })).json.errMsg,
    'requestPayment:ok',
  );
  assert.equal(await state(paying.no), 'SUCCESS');
});

test('prepay ids expire after two hours of simulator time; time_expire is honoured', async () => {
  const openid = await h.user();
  const { prepayId } = await prepay(openid);
  const params = v3PayParams(h.data.keys.merchantPrivateKey, h.env.WX_APPID, prepayId);
  await h.sim('POST', '/sim/clock', { advanceSeconds: 7201 });
  assert.match(
    (await h.sim('POST', '/sim/pay', { openid, ...params })).json.errMsg,
    /^requestPayment:fail .*过期/,
  );
  const soon = new Date(Date.parse((await h.sim('GET', '/sim/clock')).json.now) + 60_000);
  const cst = new Date(soon.getTime() + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00';
  const limited = await prepay(openid, { time_expire: cst });
  await h.sim('POST', '/sim/clock', { advanceSeconds: 61 });
  assert.match(
    (
      await h.sim('POST', '/sim/pay', {
        openid,
        ...v3PayParams(h.data.keys.merchantPrivateKey, h.env.WX_APPID, limited.prepayId),
      })
    ).json.errMsg,
    /^requestPayment:fail /,
  );
});

test('v2 paySign: MD5 and HMAC-SHA256 over appId, nonceStr, package, signType, timeStamp + key', async () => {
  const openid = await h.user();
  const key = h.env.WXPAY_APIV2_KEY;
  for (const signType of ['MD5', 'HMAC-SHA256'] as const) {
    const no = `V2P${Date.now()}${signType.length}`;
    const fields: Record<string, string> = {
      appid: h.env.WX_APPID,
      mch_id: h.env.WXPAY_MCHID,
      nonce_str: 'n0nce',
      body: 'v2',
      out_trade_no: no,
      total_fee: '3',
      spbill_create_ip: '127.0.0.1',
      notify_url: 'http://127.0.0.1:9/n',
      trade_type: 'JSAPI',
      openid,
      sign_type: signType,
    };
    const sign = (o: Record<string, string>) => {
      const s =
        Object.keys(o)
          .filter((k) => o[k] !== '' && k !== 'sign')
          .sort()
          .map((k) => `${k}=${o[k]}`)
          .join('&') + `&key=${key}`;
      return (signType === 'MD5' ? createHash('md5').update(s) : createHmac('sha256', key).update(s))
        .digest('hex')
        .toUpperCase();
    };
    const xml = `<xml>${Object.entries({ ...fields, sign: sign(fields) })
      .map(([k, v]) => `<${k}>${v}</${k}>`)
      .join('')}</xml>`;
    const r = await httpCall('POST', `${h.url}/pay/unifiedorder`, xml, { 'Content-Type': 'text/xml' });
    const prepayId = /<prepay_id><!\[CDATA\[(.+?)\]\]><\/prepay_id>/.exec(r.text)?.[1];
    assert.ok(prepayId, r.text);
    const pay = {
      appId: h.env.WX_APPID,
      timeStamp: String(Math.floor(Date.now() / 1000)),
      nonceStr: 'abc',
      package: `prepay_id=${prepayId}`,
      signType,
    };
    const paySign = sign(pay);
    assert.equal(
      (
        await h.sim('POST', '/sim/pay', {
          openid,
          ...pay,
          paySign: paySign.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
        })
      ).json.errMsg,
      'requestPayment:fail 支付验证签名失败',
    );
    assert.equal(
      (await h.sim('POST', '/sim/pay', { openid, ...pay, paySign })).json.errMsg,
      'requestPayment:ok',
    );
  }
});
