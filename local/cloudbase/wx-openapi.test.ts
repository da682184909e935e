// 云调用 end to end with the unmodified wx-server-sdk, configured only through functionSdkEnv (as in a
// function process): cloud.openapi.* → the emulator (multipart + protobuf) → the WeChat simulator's
// 云调用 ingress, and WeChat's errcodes come back as the SDK's errCode.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type SimHarness } from '../wechat/testing';
import { functionSdkEnv } from './sdk-env';
import { startCloudbaseEmulator, type CloudbaseEmulator } from './server';
import { decodeOpenApiRequest, parseMultipart } from './wx-openapi';
import { encodeMessage } from './protobuf-lite';

let emu: CloudbaseEmulator;
let h: SimHarness;
// wx-server-sdk's openapi surface is an untyped proxy; the test uses it as functions do.
let openapi: any;

before(async () => {
  h = await startHarness();
  emu = await startCloudbaseEmulator({});
  emu.connectWechat({ url: h.url, appid: h.env.WX_APPID });
  // This test file runs in its own process: setting the function environment here is local to it.
  Object.assign(process.env, functionSdkEnv(emu.url));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK reads the environment at load, so it loads after it is set
  const cloud = require('wx-server-sdk');
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  openapi = cloud.openapi({ convertCase: false });
});
after(async () => {
  await emu.close();
  await h.close();
});

async function paidOrder() {
  const openid = await h.user();
  const outTradeNo = `C${Date.now()}`;
  const created = await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '贴纸包',
    out_trade_no: outTradeNo,
    notify_url: 'http://127.0.0.1:9/pay/notify',
    amount: { total: 1, currency: 'CNY' },
    payer: { openid },
  });
  assert.equal(created.status, 200, created.text);
  await h.sim('POST', '/sim/pay-order', { outTradeNo });
  return { outTradeNo, openid };
}

test('cloud.openapi reaches the simulator as a 云调用: success, WeChat errcodes, statistics', async () => {
  const o = await paidOrder();
  const body = {
    order_key: { order_number_type: 1, mchid: h.env.WXPAY_MCHID, out_trade_no: o.outTradeNo },
    logistics_type: 3,
    delivery_mode: 1,
    shipping_list: [{ item_desc: '贴纸包 Sticker pack' }],
    upload_time: '2026-11-30T10:00:00+08:00',
    payer: { openid: o.openid },
  };
  const ok = await openapi.wxa.sec.order.uploadShippingInfo(body);
  assert.equal(ok.errCode, 0);
  const view = await h.sim('GET', `/sim/shipping?outTradeNo=${o.outTradeNo}`);
  assert.equal(view.json.orderState, 2);
  assert.equal(view.json.uploads[0].uploadTime, '2026-11-30T10:00:00+08:00');

  const got = await openapi.wxa.sec.order.getOrder({
    merchant_id: h.env.WXPAY_MCHID,
    merchant_trade_no: o.outTradeNo,
  });
  assert.equal(got.order.order_state, 2);
  assert.equal(got.order.merchant_trade_no, o.outTradeNo);

  await assert.rejects(
    openapi.wxa.sec.order.uploadShippingInfo({ ...body, upload_time: 'yesterday' }),
    (err: { errCode: number; errMsg: string }) => {
      assert.equal(err.errCode, 268485216);
      assert.match(err.errMsg, /RFC 3339/);
      return true;
    },
  );
  await assert.rejects(openapi.wxa.nothing.here({}), (err: { errCode: number }) => {
    assert.equal(err.errCode, -604101);
    return true;
  });
  const stats = await h.sim('GET', '/sim/stats');
  assert.deepEqual(stats.json.openapi.upload_shipping_info, { cloud: 2, https: 0 });
  assert.equal(stats.json.stableTokens, 0, 'a 云调用 needs no access_token');
});

test('a database call on the same endpoint still works next to 云调用', async () => {
  const res = await fetch(`${emu.url}/admin?env=local`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'database.addCollection', envName: 'local', collectionName: 'x' }),
  });
  assert.equal(((await res.json()) as { code?: string }).code, undefined);
});

test('malformed 云调用 requests get platform errors, never a crash', async () => {
  const post = async (body: Buffer | string, contentType: string) => {
    const res = await fetch(`${emu.url}/admin?env=local`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    return (await res.json()) as { code: string; message: string };
  };
  assert.equal((await post('x', 'multipart/form-data')).code, 'INVALID_PARAM');
  const form = (fields: Record<string, string | Buffer>) => {
    const b = 'BOUNDARY';
    const parts = Object.entries(fields).map(([k, v]) =>
      Buffer.concat([
        Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n`),
        Buffer.from(v),
        Buffer.from('\r\n'),
      ]),
    );
    return Buffer.concat([...parts, Buffer.from(`--${b}--\r\n`)]);
  };
  const ct = 'multipart/form-data; boundary=BOUNDARY';
  assert.match((await post(form({ action: 'wx.api', apiName: 'a.b' }), ct)).message, /not served/);
  assert.equal((await post(form({ action: 'wx.openApi', apiName: '../etc' }), ct)).code, 'INVALID_PARAM');
  const garbage = await post(
    form({ action: 'wx.openApi', apiName: 'a.b', requestData: Buffer.from([0xff, 0xff]) }),
    ct,
  );
  assert.equal(garbage.code, 'INVALID_PARAM');
});

test('multipart and protobuf decoding keep binary bytes intact', () => {
  const pair = encodeMessage([
    [1, 'order_key'],
    [2, Buffer.from(JSON.stringify({ a: '支付' }))],
  ]);
  const data = encodeMessage([
    [1, 0],
    [2, encodeMessage([[1, pair]])],
    [6, 'wxappid'],
  ]);
  const body = Buffer.concat([
    Buffer.from('--B\r\nContent-Disposition: form-data; name="requestData"\r\n\r\n'),
    data,
    Buffer.from('\r\n--B--\r\n'),
  ]);
  const fields = parseMultipart(body, 'multipart/form-data; boundary=B');
  assert.deepEqual(fields.get('requestData'), data);
  assert.deepEqual(decodeOpenApiRequest(data), { body: { order_key: { a: '支付' } }, appid: 'wxappid' });
});
