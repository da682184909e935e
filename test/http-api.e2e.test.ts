// The HTTPS API (README: HTTPS API) against the local stack: the callables at /api/<name> over the
// function host's HTTP access, identity only from `Authorization: Bearer <token>`. Valid, expired,
// forged, `alg: none`, wrong-audience and wrong-issuer tokens; a missing header; x-wx-openid ignored;
// bad JSON; only POST; CORS off by default and exact-origin when configured.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import type {
  AccountResponse,
  ApiResult,
  CreatePaymentResponse,
  LoginResponse,
  OrdersGetResponse,
  OrdersListResponse,
  RefundResponse,
} from '../shared/contracts/api';
import { CART, CART_FEN, startE2E, type E2E, type TestUser } from './support/e2e';

let e: E2E;
before(async () => {
  e = await startE2E();
});
after(async () => {
  await e?.close();
});

interface Answer<T> {
  status: number;
  headers: Record<string, string>;
  body: ApiResult<T>;
  text: string;
}

async function api<T = unknown>(
  name: string,
  data: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<Answer<T>> {
  const a = await e.http(
    method,
    `/api/${name}`,
    method === 'GET' || method === 'HEAD'
      ? (undefined as unknown as string)
      : typeof data === 'string'
        ? data
        : JSON.stringify(data),
    { 'content-type': 'application/json', ...headers },
  );
  let body: ApiResult<T>;
  try {
    body = JSON.parse(a.body) as ApiResult<T>;
  } catch {
    throw new Error(`/api/${name} answered ${a.status} with non-JSON: ${a.body.slice(0, 200)}`);
  }
  return { status: a.status, headers: a.headers, body, text: a.body };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function data<T>(a: Answer<T>): T {
  assert.equal(a.status, 200, a.text);
  assert.ok(a.body.ok, a.text);
  return a.body.data;
}

function refused(a: Answer<unknown>, status: number, code: string, message?: RegExp): void {
  assert.equal(a.status, status, a.text);
  assert.ok(!a.body.ok, a.text);
  assert.equal(a.body.error.code, code, a.text);
  if (message) assert.match(a.body.error.message, message);
  assert.match(a.headers['content-type'] ?? '', /^application\/json/);
}

async function httpLogin(user: TestUser): Promise<LoginResponse> {
  const code = await e.loginCode(user.openid);
  return data(await api<LoginResponse>('login', { code }));
}

/** A token signed like ours but with the given claims/secret/algorithm. */
function craft(
  claims: Record<string, unknown>,
  opts: { secret?: string; header?: Record<string, unknown> } = {},
): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${b64(opts.header ?? { alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  const sig = createHmac('sha256', opts.secret ?? e.baseEnv.JWT_SECRET)
    .update(head)
    .digest('base64url');
  return `${head}.${sig}`;
}

function claimsFor(openid: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub: openid, iss: 'wxcloud-pay', aud: e.baseEnv.WX_APPID, iat: now, exp: now + 600, ...over };
}

describe('HTTPS API: a whole purchase over wx.request-style calls', () => {
  it('login with a code, pay, read, refund — all with the Bearer token', async () => {
    const user = await e.newUser();
    const login = await httpLogin(user);
    assert.equal(login.user.openid, user.openid);
    assert.equal(login.user.isNew, true);
    const auth = bearer(login.token);

    const created = data(await api<CreatePaymentResponse>('createPayment', { items: CART }, auth));
    assert.equal(created.amountFen, CART_FEN);
    assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
    const paid = await e.waitFor(
      async () =>
        data(await api<OrdersGetResponse>('orders', { action: 'get', orderId: created.orderId }, auth)),
      (o) => o.status === 'SUCCESS',
      'the order to be paid',
    );
    assert.equal(paid.amountFen, CART_FEN);
    const list = data(await api<OrdersListResponse>('orders', { action: 'list' }, auth));
    assert.deepEqual(
      list.orders.map((o) => o.orderId),
      [created.orderId],
    );
    const refund = data(await api<RefundResponse>('refund', { orderId: created.orderId }, auth));
    assert.equal(refund.amountFen, CART_FEN);
    assert.match(refund.status, /^(PROCESSING|SUCCESS)$/);

    // The errors keep their HTTP statuses: 409 for a second full refund, 404 for an unknown order.
    refused(await api('refund', { orderId: created.orderId }, auth), 409, 'CONFLICT');
    refused(await api('orders', { action: 'get', orderId: 'T1234567890NOPE1' }, auth), 404, 'NOT_FOUND');
    refused(await api('orders', { action: 'get', orderId: '' }, auth), 400, 'INVALID_ARGUMENT');
    // A partial refund by an owner is not allowed: 403.
    refused(await api('refund', { orderId: created.orderId, amountFen: 1 }, auth), 403, 'PERMISSION_DENIED');
    // The refund settles by its notification (or a query, with the notification still to come): wait for
    // both, so later tests' database snapshots stand still.
    await e.waitFor(
      async () =>
        data(await api<OrdersGetResponse>('orders', { action: 'get', orderId: created.orderId }, auth)),
      (o) => o.status === 'REFUNDED',
      'the refund to settle',
    );
    await e.settled();
  });

  it('login over HTTP needs a code: no context identity, and x-wx-openid is not one', async () => {
    const user = await e.newUser();
    const before = await e.dumpAll();
    refused(await api('login', {}), 400, 'INVALID_ARGUMENT', /code is required/);
    refused(
      await api('login', {}, { 'x-wx-openid': user.openid, 'x-wx-appid': e.baseEnv.WX_APPID }),
      400,
      'INVALID_ARGUMENT',
      /code is required/,
    );
    refused(await api('login', { code: 'not-a-code-from-wx-login' }), 400, 'INVALID_ARGUMENT');
    assert.equal(await e.dumpAll(), before, 'no user was created');
  });
  it('binds a phone number over /api/account with the Bearer token, and only for the token holder', async () => {
    const user = await e.newUser();
    const other = await e.newUser();
    const auth = bearer((await httpLogin(user)).token);
    const otherAuth = bearer((await httpLogin(other)).token);
    refused(await api('account', { action: 'getPhone' }), 401, 'UNAUTHENTICATED');

    const { code } = await e.sim<{ code: string }>('POST', '/sim/phone-codes', {
      openid: user.openid,
      phoneNumber: '13912345678',
    });
    const bound = data(await api<AccountResponse>('account', { action: 'bindPhone', code }, auth));
    assert.equal(bound.phone?.purePhoneNumber, '13912345678');
    assert.equal(bound.phone?.masked, '139****5678');
    // The same code again is spent at WeChat (40029): "ask the user to tap the button again".
    refused(await api('account', { action: 'bindPhone', code }, auth), 400, 'INVALID_ARGUMENT', /tap/);
    // Another user's token reads its own (empty) account, never the bound number.
    const others = data(await api<AccountResponse>('account', { action: 'getPhone' }, otherAuth));
    assert.equal(others.phone, null);
    const own = data(await api<AccountResponse>('account', { action: 'getPhone' }, auth));
    assert.equal(own.phone?.purePhoneNumber, '13912345678');
  });
});

describe('HTTPS API: tokens', () => {
  let user: TestUser;
  let other: TestUser;
  let otherOrder: string;
  before(async () => {
    user = await e.newUser();
    other = await e.newUser();
    await httpLogin(user);
    otherOrder = (await e.createPayment(other, CART)).orderId;
  });

  it('a hand-made token with our claims and secret works (standard HS256 JWT)', async () => {
    const token = craft(claimsFor(user.openid));
    data(await api<OrdersListResponse>('orders', { action: 'list' }, bearer(token)));
  });

  it('expired, forged, alg none, wrong aud, wrong iss, malformed and missing → 401 telling to log in again', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [
        'expired',
        bearer(craft(claimsFor(user.openid, { iat: now - 7300, exp: now - 100 }))),
        /expired; call login again/,
      ],
      [
        'forged (wrong secret)',
        bearer(craft(claimsFor(user.openid), { secret: 'x'.repeat(48) })),
        /call login again/,
      ],
      [
        'alg none',
        bearer(jwt.sign(claimsFor(user.openid), null as unknown as string, { algorithm: 'none' })),
        /call login again/,
      ],
      [
        'alg none, hand-made with an empty signature',
        bearer(craft(claimsFor(user.openid), { header: { alg: 'none', typ: 'JWT' } }).replace(/[^.]+$/, '')),
        /call login again/,
      ],
      ['wrong aud', bearer(craft(claimsFor(user.openid, { aud: 'wxffffffffffffffff' }))), /call login again/],
      ['wrong iss', bearer(craft(claimsFor(user.openid, { iss: 'someone-else' }))), /call login again/],
      ['malformed', bearer('not-a-token'), /call login again/],
      ['Basic scheme', { authorization: 'Basic dXNlcjpwYXNz' }, /Bearer <token>/],
      ['missing', {}, /call the login function/],
    ];
    // The purchase test's refund settles on the simulator's own timer and its notification follows.
    await e.settled();
    const before = await e.dumpAll();
    for (const [what, headers, message] of cases) {
      for (const [name, body] of [
        ['orders', { action: 'list' }],
        ['createPayment', { items: CART }],
        ['refund', { orderId: otherOrder }],
      ] as const) {
        const a = await api(name, body, headers);
        refused(a, 401, 'UNAUTHENTICATED', message);
        assert.match(a.headers['www-authenticate'] ?? '', /^Bearer /);
        assert.ok(!a.text.includes(e.baseEnv.JWT_SECRET), `${what}: no secret in the answer`);
      }
    }
    assert.equal(await e.dumpAll(), before, 'nothing was written for a refused token');
  });

  it('x-wx-openid over HTTP is ignored: alone it is 401, beside a token the token decides', async () => {
    refused(
      await api(
        'orders',
        { action: 'list' },
        { 'x-wx-openid': other.openid, 'x-wx-appid': e.baseEnv.WX_APPID },
      ),
      401,
      'UNAUTHENTICATED',
    );
    const mine = bearer(craft(claimsFor(user.openid)));
    // The other user's order, asked for with my token and their openid in the header: not found.
    refused(
      await api('orders', { action: 'get', orderId: otherOrder }, { ...mine, 'x-wx-openid': other.openid }),
      404,
      'NOT_FOUND',
    );
    const list = data(
      await api<OrdersListResponse>('orders', { action: 'list' }, { ...mine, 'x-wx-openid': other.openid }),
    );
    assert.ok(!list.orders.some((o) => o.orderId === otherOrder), 'only my orders');
    // A userInfo in the body is not identity either.
    const again = data(
      await api<OrdersListResponse>(
        'orders',
        { action: 'list', userInfo: { openId: other.openid, appId: e.baseEnv.WX_APPID } },
        mine,
      ),
    );
    assert.ok(!again.orders.some((o) => o.orderId === otherOrder));
  });
});

describe('HTTPS API: requests', () => {
  it('bad JSON, a non-object body and a non-JSON content type → 400 envelope, nothing written', async () => {
    const user = await e.newUser();
    const auth = bearer((await httpLogin(user)).token);
    const before = await e.dumpAll();
    refused(await api('createPayment', '{"items": [', auth), 400, 'INVALID_ARGUMENT', /not valid JSON/);
    refused(await api('createPayment', '[]', auth), 400, 'INVALID_ARGUMENT', /JSON object/);
    refused(
      await api('login', 'code=abc', { 'content-type': 'application/x-www-form-urlencoded' }),
      400,
      'INVALID_ARGUMENT',
      /application\/json/,
    );
    assert.equal(await e.dumpAll(), before);
  });

  it('only POST: GET, PUT, DELETE → 405 with Allow: POST', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const a = await api('orders', method === 'GET' ? '' : '{}', {}, method);
      refused(a, 405, 'INVALID_ARGUMENT', /use POST \/api\/orders/);
      assert.equal(a.headers.allow, 'POST');
    }
  });

  it('CORS is off by default: no CORS headers, and a preflight is not answered', async () => {
    const origin = { origin: 'https://shop.example.com' };
    const a = await api('login', {}, origin);
    assert.equal(a.status, 400);
    assert.ok(
      !Object.keys(a.headers).some((h) => h.startsWith('access-control-')),
      JSON.stringify(a.headers),
    );
    const preflight = await e.http('OPTIONS', '/api/orders', '', {
      ...origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    });
    assert.equal(preflight.status, 405);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  });

  it('CORS on (HTTP_API_CORS_ORIGINS): the listed origin only, and its preflight', async () => {
    e.setEnv({ HTTP_API_CORS_ORIGINS: 'https://shop.example.com,http://localhost:5173' });
    try {
      const user = await e.newUser();
      const code = await e.loginCode(user.openid);
      const ok = await api<LoginResponse>('login', { code }, { origin: 'https://shop.example.com' });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers['access-control-allow-origin'], 'https://shop.example.com');
      assert.match(ok.headers.vary ?? '', /Origin/);
      const evil = await api('login', {}, { origin: 'https://evil.example.com' });
      assert.equal(evil.headers['access-control-allow-origin'], undefined);
      const preflight = await e.http('OPTIONS', '/api/createPayment', '', {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      });
      assert.equal(preflight.status, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], 'http://localhost:5173');
      assert.equal(preflight.headers['access-control-allow-methods'], 'POST');
      assert.match(preflight.headers['access-control-allow-headers'] ?? '', /authorization/);
      const refusedPreflight = await e.http('OPTIONS', '/api/createPayment', '', {
        origin: 'https://evil.example.com',
        'access-control-request-method': 'POST',
      });
      assert.equal(refusedPreflight.status, 403);
      assert.equal(refusedPreflight.headers['access-control-allow-origin'], undefined);
    } finally {
      e.setEnv({ HTTP_API_CORS_ORIGINS: undefined });
    }
  });

  it('the callFunction transport is unchanged: the same function still answers the envelope as its result', async () => {
    const user = await e.newUser();
    const r = await e.call<OrdersListResponse>('orders', { action: 'list' }, { openid: user.openid });
    assert.ok(r.ok);
    assert.deepEqual(r.data.orders, []);
  });
});
