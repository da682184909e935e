// API faults on demand: timeouts, 5xx, rate limits and NOT_ENOUGH, each for `count` calls, then gone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startHarness, type SimHarness } from './testing';

let h: SimHarness;
let openid: string;

before(async () => {
  h = await startHarness({ signingMode: 'publicKey' });
  openid = await h.user();
});
after(() => h.close());

let seq = 0;
const jsapi = () =>
  h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: 'f',
    out_trade_no: `F${Date.now()}${seq++}`,
    notify_url: 'http://127.0.0.1:9/n',
    amount: { total: 1 },
    payer: { openid },
  });

test('5xx and rateLimit: count calls get 500 SYSTEM_ERROR / 429 FREQUENCY_LIMITED, signed; then normal service', async () => {
  assert.equal((await h.sim('POST', '/sim/faults', { target: 'jsapi', kind: '5xx', count: 2 })).status, 200);
  for (let i = 0; i < 2; i++) {
    const r = await jsapi();
    assert.equal(r.status, 500);
    assert.equal(r.json.code, 'SYSTEM_ERROR');
    assert.equal(h.verify(r.headers, r.text), 'publicKey');
  }
  assert.equal((await jsapi()).status, 200);
  await h.sim('POST', '/sim/faults', { target: 'query', kind: 'rateLimit' });
  const q = await h.v3('GET', `/v3/pay/transactions/out-trade-no/NOPE12345?mchid=${h.env.WXPAY_MCHID}`);
  assert.equal(q.status, 429);
  assert.equal(q.json.code, 'FREQUENCY_LIMITED');
  const q2 = await h.v3('GET', `/v3/pay/transactions/out-trade-no/NOPE12345?mchid=${h.env.WXPAY_MCHID}`);
  assert.equal(q2.status, 404);
  for (const target of ['close', 'refund', 'refundQuery', 'certificates']) {
    await h.sim('POST', '/sim/faults', { target, kind: '5xx' });
  }
  assert.equal(
    (await h.v3('POST', '/v3/pay/transactions/out-trade-no/NOPE12345/close', { mchid: h.env.WXPAY_MCHID }))
      .status,
    500,
  );
  assert.equal((await h.v3('POST', '/v3/refund/domestic/refunds', {})).status, 500);
  assert.equal((await h.v3('GET', '/v3/refund/domestic/refunds/x')).status, 500);
  assert.equal((await h.v3('GET', '/v3/certificates')).status, 500);
  assert.equal((await h.v3('GET', '/v3/certificates')).status, 200);
});

test('timeout: the call hangs past the client timeout (nothing processed); with delayMs it is slow but answers', async () => {
  await h.sim('POST', '/sim/faults', { target: 'jsapi', kind: 'timeout' });
  const before = (await h.sim('GET', '/sim/orders')).json.length;
  const started = Date.now();
  const outcome = await new Promise<string>((resolve) => {
    const req = request(`${h.url}/v3/pay/transactions/jsapi`, { method: 'POST', agent: false }, () =>
      resolve('answered'),
    );
    req.setTimeout(300, () => {
      req.destroy();
      resolve('timeout');
    });
    req.on('error', () => undefined);
    req.end('{}');
  });
  assert.equal(outcome, 'timeout');
  assert.ok(Date.now() - started >= 290);
  assert.equal((await h.sim('GET', '/sim/orders')).json.length, before);
  await h.sim('POST', '/sim/faults', { target: 'jsapi', kind: 'timeout', delayMs: 300 });
  const t0 = Date.now();
  const slow = await jsapi();
  assert.equal(slow.status, 200);
  assert.ok(Date.now() - t0 >= 290);
});

test('notEnough on refund → 403 NOT_ENOUGH; jscode2session faults → errcode 45011 and -1', async () => {
  const no = `NE${Date.now()}`;
  await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: 'f',
    out_trade_no: no,
    notify_url: 'http://127.0.0.1:9/n',
    amount: { total: 5 },
    payer: { openid },
  });
  await h.sim('POST', '/sim/pay-order', { outTradeNo: no });
  await h.sim('POST', '/sim/faults', { target: 'refund', kind: 'notEnough' });
  const body = {
    out_trade_no: no,
    out_refund_no: `${no}r`,
    amount: { refund: 5, total: 5, currency: 'CNY' },
  };
  const r = await h.v3('POST', '/v3/refund/domestic/refunds', body);
  assert.equal(r.status, 403);
  assert.equal(r.json.code, 'NOT_ENOUGH');
  assert.equal(
    (await h.v3('POST', '/v3/refund/domestic/refunds', body)).status,
    200,
    'the refund goes through once the balance is back',
  );

  const code = (await h.sim('POST', '/sim/login-codes', { openid })).json.code;
  const q = `/sns/jscode2session?appid=${h.env.WX_APPID}&secret=${h.env.WX_APPSECRET}&js_code=${code}&grant_type=authorization_code`;
  await h.sim('POST', '/sim/faults', { target: 'jscode2session', kind: 'rateLimit' });
  await h.sim('POST', '/sim/faults', { target: 'jscode2session', kind: '5xx' });
  assert.equal((await h.sim('GET', q)).json.errcode, 45011);
  assert.equal((await h.sim('GET', q)).json.errcode, -1);
  assert.equal((await h.sim('GET', q)).json.openid, openid, 'the code survived the failed calls');
});

test('fault control: listing, clearing, and clear errors for nonsense', async () => {
  await h.sim('POST', '/sim/faults', { target: 'query', kind: '5xx', count: 3 });
  await h.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop' });
  assert.equal((await h.sim('GET', '/sim/faults')).json.length, 2);
  assert.equal((await h.sim('DELETE', '/sim/faults')).status, 200);
  assert.deepEqual((await h.sim('GET', '/sim/faults')).json, []);
  assert.equal(
    (await h.v3('GET', `/v3/pay/transactions/out-trade-no/NOPE12345?mchid=${h.env.WXPAY_MCHID}`)).status,
    404,
  );
  for (const bad of [
    { target: 'nowhere', kind: '5xx' },
    { target: 'jsapi', kind: 'drop' },
    { target: 'notify', kind: 'rateLimit' },
    { target: 'jsapi', kind: '5xx', count: 0 },
    { target: 'notify', kind: 'delay' },
    { target: 'query', kind: 'notEnough' },
  ]) {
    const r = await h.sim('POST', '/sim/faults', bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.ok(r.json.error.length > 10);
  }
});
