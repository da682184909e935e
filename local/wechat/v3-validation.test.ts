// Every v3 request is authenticated and validated as WeChat Pay does; every error answer is signed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, startReceiver, type HttpAnswer, type Receiver, type SimHarness } from './testing';

let h: SimHarness;
let rx: Receiver;
let openid: string;

before(async () => {
  h = await startHarness({ signingMode: 'certificate' });
  rx = await startReceiver();
  openid = await h.user();
});
after(async () => {
  await rx.close();
  await h.close();
});

const JSAPI = '/v3/pay/transactions/jsapi';
let seq = 0;
const newNo = () => `V${Date.now()}${seq++}`;

function order(extra: Record<string, unknown> = {}) {
  return {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '咖啡',
    out_trade_no: newNo(),
    notify_url: rx.url,
    amount: { total: 100, currency: 'CNY' },
    payer: { openid },
    ...extra,
  };
}

function expectError(r: HttpAnswer, status: number, code: string, field?: string) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.code, code, r.text);
  assert.equal(typeof r.json.message, 'string');
  if (field) assert.equal(r.json.detail?.field, field, r.text);
  assert.equal(h.verify(r.headers, r.text), 'certificate', 'error answers are signed too');
  assert.ok(r.headers['request-id']);
}

test('Authorization: wrong signature, other path or query, stale or future timestamp, unknown serial or mchid → 401 SIGN_ERROR', async () => {
  const body = order();
  expectError(await h.v3('POST', JSAPI, body, { signWith: 'something else' }), 401, 'SIGN_ERROR');
  const q = `/v3/pay/transactions/out-trade-no/XYZ123?mchid=${h.env.WXPAY_MCHID}`;
  const signedForOtherQuery = `GET\n/v3/pay/transactions/out-trade-no/XYZ123?mchid=1\n`;
  expectError(await h.v3('GET', q, undefined, { signWith: signedForOtherQuery }), 401, 'SIGN_ERROR');
  expectError(
    await h.v3('POST', JSAPI, body, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
    401,
    'SIGN_ERROR',
  );
  expectError(
    await h.v3('POST', JSAPI, body, { timestamp: Math.floor(Date.now() / 1000) + 301 }),
    401,
    'SIGN_ERROR',
  );
  expectError(
    await h.v3('POST', JSAPI, body, { serial: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C' }),
    401,
    'SIGN_ERROR',
  );
  expectError(await h.v3('POST', JSAPI, body, { mchid: '1900000109' }), 401, 'SIGN_ERROR');
  // the body is covered: sign one body, send another
  const r = await h.v3('POST', JSAPI, body, { signWith: `POST\n${JSAPI}\n0\nn\n{}\n` });
  expectError(r, 401, 'SIGN_ERROR');
  const none = await h.sim('POST', JSAPI, body);
  expectError(none, 401, 'SIGN_ERROR');
  // within ±5 min is fine
  const ok = await h.v3('POST', JSAPI, order(), { timestamp: Math.floor(Date.now() / 1000) - 280 });
  assert.equal(ok.status, 200, ok.text);
});

test('JSAPI field rules → PARAM_ERROR with the field named', async () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ description: 'x'.repeat(128) }, 'description'],
    [{ description: undefined }, 'description'],
    [{ out_trade_no: 'abc12' }, 'out_trade_no'],
    [{ out_trade_no: 'x'.repeat(33) }, 'out_trade_no'],
    [{ out_trade_no: 'has space1' }, 'out_trade_no'],
    [{ amount: { total: 0, currency: 'CNY' } }, 'amount.total'],
    [{ amount: { total: 1.5 } }, 'amount.total'],
    [{ amount: { total: '100' } }, 'amount.total'],
    [{ amount: { total: 100, currency: 'USD' } }, 'amount.currency'],
    [{ amount: undefined }, 'amount'],
    [{ payer: undefined }, 'payer'],
    [{ payer: { openid: 'oUnknownUser000000000000000' } }, 'payer.openid'],
    [{ notify_url: 'ftp://127.0.0.1/x' }, 'notify_url'],
    [{ time_expire: '2030-01-01 10:00:00' }, 'time_expire'],
    [{ time_expire: '2020-01-01T10:00:00+08:00' }, 'time_expire'],
    [{ appid: 12345 }, 'appid'],
    [{ mchid: '1900000109' }, 'mchid'],
  ];
  for (const [patch, field] of cases) {
    const r = await h.v3('POST', JSAPI, order(patch));
    expectError(r, 400, 'PARAM_ERROR', field);
  }
  // exactly 127 characters (CJK counted as characters) and a 6-char id with every allowed symbol pass
  const ok = await h.v3(
    'POST',
    JSAPI,
    order({
      description: '码'.repeat(127),
      out_trade_no: `a_-|*${seq++}`,
      time_expire: '2099-01-01T10:00:00+08:00',
    }),
  );
  assert.equal(ok.status, 200, ok.text);
  expectError(await h.v3('POST', JSAPI, 'not json'), 400, 'PARAM_ERROR');
  expectError(
    await h.v3('POST', JSAPI, order({ appid: 'wx0000000000000000' })),
    400,
    'APPID_MCHID_NOT_MATCH',
  );
});

test('notify_url: only loopback hosts; any other host is refused at prepay time and never contacted', async () => {
  for (const url of [
    'https://example.com/pay/notify',
    'http://10.0.0.1/notify',
    'https://127.0.0.1.nip.io/x',
    'http://[::2]/x',
  ]) {
    const r = await h.v3('POST', JSAPI, order({ notify_url: url }));
    expectError(r, 400, 'PARAM_ERROR', 'notify_url');
    assert.match(r.json.message, /回环/);
  }
  for (const url of ['http://localhost:1/x', 'https://127.0.0.2:1/x', 'http://[::1]:1/x']) {
    assert.equal((await h.v3('POST', JSAPI, order({ notify_url: url }))).status, 200, url);
  }
  const orders = (await h.sim('GET', '/sim/orders')).json as Array<{ notifyUrl: string }>;
  assert.ok(orders.every((o) => /^https?:\/\/(localhost|127\.|\[::1\])/.test(o.notifyUrl)));
  // plain http is refused when the simulator is told to be strict
  const strict = await startHarness({ allowHttpLoopbackNotify: false });
  try {
    const u = await strict.user();
    const body = { ...order(), payer: { openid: u } };
    const r = await strict.v3('POST', JSAPI, body);
    assert.equal(r.status, 400);
    assert.equal(r.json.detail.field, 'notify_url');
    assert.equal(
      (await strict.v3('POST', JSAPI, { ...body, notify_url: 'https://127.0.0.1:9/x' })).status,
      200,
    );
  } finally {
    await strict.close();
  }
});

test('out_trade_no reuse: identical → same prepay_id; different → INVALID_REQUEST 商户订单号重复; prepay id renewed after 2 h', async () => {
  const body = order();
  const a = await h.v3('POST', JSAPI, body);
  const b = await h.v3('POST', JSAPI, body);
  assert.equal(a.json.prepay_id, b.json.prepay_id);
  const c = await h.v3('POST', JSAPI, { ...body, amount: { total: 101, currency: 'CNY' } });
  expectError(c, 400, 'INVALID_REQUEST');
  assert.match(c.json.message, /商户订单号重复/);
  await h.sim('POST', '/sim/clock', { advanceSeconds: 2 * 3600 + 1 });
  const d = await h.v3('POST', JSAPI, body);
  assert.equal(d.status, 200);
  assert.notEqual(d.json.prepay_id, a.json.prepay_id, 'an expired prepay id is replaced');
});

test('queries and close: ORDER_NOT_EXIST 404, mchid query parameter required, unknown path 404 signed', async () => {
  const m = h.env.WXPAY_MCHID;
  expectError(
    await h.v3('GET', `/v3/pay/transactions/out-trade-no/NOSUCH123?mchid=${m}`),
    404,
    'ORDER_NOT_EXIST',
  );
  expectError(
    await h.v3('GET', `/v3/pay/transactions/id/4200000000000000000000000000?mchid=${m}`),
    404,
    'ORDER_NOT_EXIST',
  );
  expectError(await h.v3('GET', `/v3/pay/transactions/out-trade-no/NOSUCH123`), 400, 'PARAM_ERROR', 'mchid');
  expectError(
    await h.v3('POST', `/v3/pay/transactions/out-trade-no/NOSUCH123/close`, { mchid: m }),
    404,
    'ORDER_NOT_EXIST',
  );
  expectError(
    await h.v3('POST', `/v3/pay/transactions/out-trade-no/NOSUCH123/close`, {}),
    400,
    'PARAM_ERROR',
    'mchid',
  );
  expectError(await h.v3('GET', `/v3/nothing/here`), 404, 'NOT_FOUND');
  // a NOTPAY order queried by transaction id does not exist yet (it has none)
  const body = order();
  await h.v3('POST', JSAPI, body);
  const q = await h.v3('GET', `/v3/pay/transactions/out-trade-no/${body.out_trade_no}?mchid=${m}`);
  assert.deepEqual(
    Object.keys(q.json).sort(),
    [
      'amount',
      'appid',
      'mchid',
      'out_trade_no',
      'payer',
      'promotion_detail',
      'trade_state',
      'trade_state_desc',
    ].sort(),
  );
});

test('a public DNS alias of loopback (localtest.me) is refused by name and its listener never contacted', async () => {
  let hits = 0;
  const trap = createServer((_req, res) => {
    hits++;
    res.end();
  });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', () => r()));
  const port = (trap.address() as AddressInfo).port;
  const r = await h.v3('POST', JSAPI, order({ notify_url: `http://localtest.me:${port}/x` }));
  assert.equal(r.status, 400);
  await new Promise((res) => setTimeout(res, 100));
  assert.equal(hits, 0);
  await new Promise<void>((res) => trap.close(() => res()));
});
