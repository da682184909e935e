// callOpenApi in both modes against the real local pieces: the CloudBase emulator (the shared token
// copy; 云调用 forwarding) and the WeChat simulator (stable_token, the shipping APIs, /sim/stats).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { functionSdkEnv, openLocalDatabase } from '../../../local/cloudbase/sdk-env';
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../../local/cloudbase/server';
import { startHarness, type SimHarness } from '../../../local/wechat/testing';
import { ConfigError } from '../../config/errors';
import { Secret } from '../../config/secret';
import { accessTokenSource } from './access-token';
import { createOpenApiClient, readOpenApiConfig, TOKENS_COLLECTION, type OpenApiConfig } from './index';
import { stableTokenFetcher } from './stable-token';
import { databaseTokenStore } from './token-store';

let emu: CloudbaseEmulator;
let h: SimHarness;
let https: OpenApiConfig;
let db: ReturnType<typeof openLocalDatabase>;

before(async () => {
  h = await startHarness();
  emu = await startCloudbaseEmulator({ collections: [TOKENS_COLLECTION] });
  emu.connectWechat({ url: h.url, appid: h.env.WX_APPID });
  db = openLocalDatabase(emu.url);
  https = {
    mode: 'https',
    baseUrl: h.url,
    appid: h.env.WX_APPID,
    appSecret: new Secret(h.env.WX_APPSECRET),
  };
});
after(async () => {
  await emu.close();
  await h.close();
});
beforeEach(async () => {
  await h.sim('POST', '/sim/reset');
  await fetch(`${emu.url}/emu/reset`, { method: 'POST', body: '{}' });
});

const stats = async () =>
  (await h.sim('GET', '/sim/stats')).json as {
    stableTokens: number;
    openapi: Record<string, { cloud: number; https: number }>;
  };

async function paidOrder() {
  const openid = await h.user();
  const outTradeNo = `K${Date.now()}${Math.floor(Math.random() * 1e4)}`;
  const created = await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '快递',
    out_trade_no: outTradeNo,
    notify_url: 'http://127.0.0.1:9/pay/notify',
    amount: { total: 100, currency: 'CNY' },
    payer: { openid },
  });
  assert.equal(created.status, 200, created.text);
  await h.sim('POST', '/sim/pay-order', { outTradeNo });
  return { outTradeNo, openid };
}

const shipBody = (o: { outTradeNo: string; openid: string }, trackingNo: string) => ({
  order_key: { order_number_type: 1, mchid: h.env.WXPAY_MCHID, out_trade_no: o.outTradeNo },
  logistics_type: 1,
  delivery_mode: 1,
  shipping_list: [{ tracking_no: trackingNo, express_company: 'YTO', item_desc: '乌龙茶' }],
  upload_time: '2026-11-30T12:00:00+08:00',
  payer: { openid: o.openid },
});

describe('https mode with a stable_token shared through the database', () => {
  it('fetches one token, shares it with another instance, and maps errcodes to our errors', async () => {
    const one = createOpenApiClient({ store: databaseTokenStore(() => db), config: https });
    const o = await paidOrder();
    assert.deepEqual(await one('uploadShippingInfo', shipBody(o, 'YT001')), {});
    const two = createOpenApiClient({ store: databaseTokenStore(() => db), config: https }); // a second, cold instance
    const got = await two('getShippingOrder', {
      merchant_id: h.env.WXPAY_MCHID,
      merchant_trade_no: o.outTradeNo,
    });
    assert.equal((got.order as { order_state: number }).order_state, 2);
    const s = await stats();
    assert.equal(s.stableTokens, 1);
    assert.deepEqual(s.openapi.upload_shipping_info, { cloud: 0, https: 1 });
    const dump = (await (await fetch(`${emu.url}/emu/dump/${TOKENS_COLLECTION}`)).json()) as Array<{
      accessToken: string;
    }>;
    assert.equal(dump.length, 1);
    assert.ok(dump[0].accessToken.length > 20);

    assert.deepEqual(await one('uploadShippingInfo', shipBody(o, 'YT002')), {}, 'the one change');
    await assert.rejects(one('uploadShippingInfo', shipBody(o, 'YT003')), (err: Error & { code: string }) => {
      assert.equal(err.code, 'CONFLICT');
      assert.match(err.message, /10060003/);
      return true;
    });
    await assert.rejects(
      one('uploadShippingInfo', shipBody({ ...o, outTradeNo: 'nope' }, 'YT004')),
      (err: Error & { code: string; upstream: string }) => {
        assert.equal(err.code, 'NOT_FOUND');
        assert.equal(err.upstream, '10060001');
        assert.match(err.message, /支付单不存在/);
        return true;
      },
    );
    await h.sim('POST', '/sim/faults', { target: 'shipping', kind: '5xx' });
    await assert.rejects(one('isTradeManaged', { appid: h.env.WX_APPID }), { code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('a storm of 24 cold instances fetches the token once', async () => {
    const instances = Array.from({ length: 24 }, () =>
      createOpenApiClient({ store: databaseTokenStore(() => db), config: https }),
    );
    const answers = await Promise.all(
      instances.map((call) => call('isTradeManaged', { appid: h.env.WX_APPID })),
    );
    assert.ok(answers.every((a) => a.is_trade_managed === true));
    const s = await stats();
    assert.equal(s.stableTokens, 1);
    assert.equal(s.openapi.is_trade_managed.https, 24);
  });

  it('an expired or replaced token is refreshed once and the call retried', async () => {
    const call = createOpenApiClient({ store: databaseTokenStore(() => db), config: https });
    await call('isTradeManaged', { appid: h.env.WX_APPID });
    await h.sim('POST', '/sim/tokens/expire'); // WeChat now answers 42001
    await call('isTradeManaged', { appid: h.env.WX_APPID });
    assert.equal((await stats()).stableTokens, 2);
    // Someone force-refreshes elsewhere: our cached token gets 40001, normal mode brings the new one.
    const forced = await h.sim('POST', '/cgi-bin/stable_token', {
      grant_type: 'client_credential',
      appid: h.env.WX_APPID,
      secret: h.env.WX_APPSECRET,
      force_refresh: true,
    });
    assert.ok(forced.json.access_token);
    await call('isTradeManaged', { appid: h.env.WX_APPID });
    const s = await stats();
    assert.equal(s.stableTokens, 4);
    assert.equal(
      s.openapi.is_trade_managed.https,
      3,
      'calls refused for their token are not counted as API calls',
    );
  });

  it('a token handed back near its expiry is refreshed at half its remaining life, not on every call', async () => {
    let offsetMs = 0;
    const tokens = accessTokenSource({
      appid: h.env.WX_APPID,
      store: databaseTokenStore(() => db),
      fetch: stableTokenFetcher(https),
      now: () => Date.now() + offsetMs,
    });
    const first = await tokens.get();
    await h.sim('POST', '/sim/clock', { advanceSeconds: 7000 }); // WeChat's token has 200 s left
    offsetMs = 7000_000;
    assert.equal(await tokens.get(), first, 'normal mode hands back the same, still valid token');
    for (let i = 0; i < 5; i++) assert.equal(await tokens.get(), first);
    assert.equal((await stats()).stableTokens, 2, 'one refresh, not one per call');
    offsetMs += 101_000; // past half of the 200 s
    await tokens.get();
    assert.equal((await stats()).stableTokens, 3);
  });

  it('a wrong secret is a configuration error that never shows the secret', async () => {
    const secret = 'f'.repeat(32);
    const call = createOpenApiClient({
      store: databaseTokenStore(() => db),
      config: { ...https, appSecret: new Secret(secret) },
    });
    await assert.rejects(call('isTradeManaged', { appid: h.env.WX_APPID }), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.variable, 'WX_APPSECRET');
      assert.ok(!err.message.includes(secret) && !JSON.stringify(err).includes(secret));
      return true;
    });
  });
});

describe('subscribeMessage.send (sendSubscribeMessage)', () => {
  const PAID = 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg';
  const data = (thing1: string) => ({
    thing1: { value: thing1 },
    amount2: { value: '¥0.01' },
    time3: { value: '2026-11-30 15:01' },
    character_string4: { value: 'K123' },
  });

  it('https mode: sends with a granted subscription; 43101, 47003 and 40037 keep their errcode, -1 is retryable', async () => {
    const call = createOpenApiClient({ store: databaseTokenStore(() => db), config: https });
    const openid = await h.user();
    const body = { touser: openid, template_id: PAID, data: data('乌龙茶') };
    await assert.rejects(
      call('sendSubscribeMessage', body),
      (err: Error & { code: string; upstream: string }) => {
        assert.equal(err.upstream, '43101');
        assert.equal(err.code, 'UPSTREAM_ERROR');
        assert.match(err.message, /WeChat refused sendSubscribeMessage \(errcode 43101\)/);
        return true;
      },
    );
    await h.sim('POST', '/sim/subscriptions', { openid, templateId: PAID });
    await assert.rejects(
      call('sendSubscribeMessage', { ...body, data: data('x'.repeat(21)) }),
      (err: Error & { code: string; upstream: string }) => {
        assert.equal(err.upstream, '47003');
        assert.match(err.message, /WeChat says: .*thing1/, 'the key at fault');
        return true;
      },
    );
    await assert.rejects(call('sendSubscribeMessage', { ...body, template_id: 'A'.repeat(43) }), {
      upstream: '40037',
    });
    const sent = await call('sendSubscribeMessage', body);
    assert.ok(sent.msgid !== undefined);
    const { messages } = (await h.sim('GET', `/sim/messages?openid=${openid}`)).json as {
      messages: { templateId: string }[];
    };
    assert.deepEqual(
      messages.map((m) => m.templateId),
      [PAID],
    );
    await h.sim('POST', '/sim/faults', { target: 'subscribe', kind: '5xx' });
    await assert.rejects(call('sendSubscribeMessage', body), (err: Error & { retryable: boolean }) => {
      assert.equal(err.retryable, true);
      return true;
    });
  });
});

describe('云调用 mode through wx-server-sdk and the emulator', () => {
  it('calls WeChat without any token; errcodes map the same way', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, functionSdkEnv(emu.url));
    try {
      const call = createOpenApiClient({
        store: databaseTokenStore(() => db),
        config: { mode: 'cloud', baseUrl: '', appid: '' },
      });
      const o = await paidOrder();
      assert.deepEqual(await call('uploadShippingInfo', shipBody(o, 'YT100')), {});
      await assert.rejects(
        call('uploadShippingInfo', { ...shipBody(o, 'YT101'), upload_time: '2026/11/30' }),
        (err: Error & { code: string; upstream: string }) => {
          assert.equal(err.upstream, '268485216');
          assert.match(err.message, /upload_time 格式错误/);
          return true;
        },
      );
      await h.sim('POST', '/sim/faults', { target: 'shipping', kind: '5xx' });
      await assert.rejects(call('isTradeManaged', { appid: h.env.WX_APPID }), {
        code: 'UPSTREAM_UNAVAILABLE',
      });
      await h.sim('POST', '/sim/faults', { target: 'shipping', kind: 'rateLimit' });
      await assert.rejects(call('isTradeManaged', { appid: h.env.WX_APPID }), { code: 'RATE_LIMITED' });
      const s = await stats();
      assert.equal(s.stableTokens, 0);
      assert.deepEqual(s.openapi.upload_shipping_info, { cloud: 2, https: 0 });
    } finally {
      process.env = saved;
    }
  });
});

describe('readOpenApiConfig', () => {
  const appid = 'wx0123456789abcdef';
  it('picks 云调用 inside CloudBase and https elsewhere, and names the variable to fix', () => {
    assert.equal(readOpenApiConfig({ SCF_NAMESPACE: 'env' }).mode, 'cloud');
    const out = readOpenApiConfig({ WX_APPID: appid, WX_APPSECRET: 'a'.repeat(32) });
    assert.equal(out.mode, 'https');
    assert.equal(out.baseUrl, 'https://api.weixin.qq.com');
    assert.equal(JSON.stringify(out).includes('a'.repeat(32)), false, 'the secret is redacted');
    assert.throws(() => readOpenApiConfig({ WECHAT_OPENAPI_MODE: 'http' }), {
      variable: 'WECHAT_OPENAPI_MODE',
    });
    assert.throws(
      () => readOpenApiConfig({ SCF_NAMESPACE: 'e', WECHAT_OPENAPI_MODE: 'https', WX_APPID: appid }),
      {
        variable: 'WX_APPSECRET',
      },
    );
    assert.throws(() => readOpenApiConfig({ WX_APPSECRET: 'a'.repeat(32) }), { variable: 'WX_APPID' });
  });
});
