// Generated bad HTTP requests against the HTTPS API (/api/<callable>) through the function host, as
// test/fuzz.e2e.test.ts does for callFunction: methods, content types, bodies (broken JSON, bytes,
// deep nesting, operators, oversize) and Authorization headers (junk, forged, `alg: none`, huge).
// Every answer must be a JSON error envelope with the status of its code, no stack trace, no secret,
// and the database must be byte-for-byte what it was before.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { ApiResult, LoginResponse } from '../shared/contracts/api';
import { startE2E, type E2E } from './support/e2e';
import { pick, rng } from './support/fuzz';

let e: E2E;
before(async () => {
  e = await startE2E();
});
after(async () => {
  await e?.close();
});

const NOT_SCALAR: unknown[] = [
  null,
  true,
  [],
  {},
  { $ne: null },
  { $gt: '' },
  { $where: 'sleep(1000)' },
  { _bsontype: 'ObjectID', id: 'x' },
  { toString: 'x' },
  '',
  'x'.repeat(5000),
  '../../etc/passwd',
  'T123\u0000456789',
  '<script>alert(1)</script>',
  -1,
  1.5,
  1e21,
];

const STATUS_OF: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
};
const STACK = /\bat [^\s]+ \(?[^\s]*:\d+:\d+\)?|\n\s+at /;

interface Case {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

function generate(count: number, seed: number, token: string): Case[] {
  const r = rng(seed);
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const [h, p] = token.split('.');
  const authorizations = [
    undefined,
    '',
    'Bearer',
    'Bearer ',
    `bearer  ${token}x`,
    `Bearer ${h}.${p}.`,
    `Bearer ${b64({ alg: 'none' })}.${p}.`,
    `Bearer ${h}.${b64({ sub: 'oAttacker_000000', iss: 'wxcloud-pay', exp: now + 600 })}.${token.split('.')[2]}`,
    `Bearer ${'a'.repeat(3000)}.b.c`,
    `Bearer ${token},Bearer ${token}`,
    `Basic ${Buffer.from('u:p').toString('base64')}`,
    `Bearer ${(() => {
      const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'oAttacker_000000', iss: 'wxcloud-pay', exp: now + 600 })}`;
      return `${head}.${createHmac('sha256', 'wrong-secret-'.repeat(4)).update(head).digest('base64url')}`;
    })()}`,
    `Bearer \u00e9\u00e9.\u00e9.\u00e9`,
  ];
  // A valid token reaches field validation; the bodies below never hold a valid request.
  const withToken = () => (r() < 0.4 ? `Bearer ${token}` : pick(r, authorizations));
  const badBodies: Array<() => string | Buffer> = [
    () => '{"items": [',
    () => '{',
    () => 'null',
    () => '[]',
    () => '"text"',
    () => '12',
    () => 'true',
    () => '{"a":1}{"b":2}',
    () => '\ufeff{}x',
    () => Buffer.from(Array.from({ length: 40 }, () => Math.floor(r() * 256))),
    () => '['.repeat(5000) + ']'.repeat(5000),
    () => '{"a":'.repeat(2000) + '1' + '}'.repeat(2000),
    () => JSON.stringify({ pad: 'x'.repeat(70_000) }),
    () => JSON.stringify({ __proto__: { admin: true }, constructor: { prototype: { x: 1 } } }),
  ];
  const fieldBodies: Record<string, Array<() => unknown>> = {
    login: [
      () => ({ code: pick(r, NOT_SCALAR) }),
      () => ({ code: `fuzz${Math.floor(r() * 1e9)}` }),
      () => ({ profile: pick(r, NOT_SCALAR) }),
    ],
    createPayment: [
      () => ({ items: pick(r, NOT_SCALAR) }),
      () => ({ items: [{ productId: pick(r, NOT_SCALAR), quantity: 1 }] }),
      () => ({ items: [{ productId: 'coffee-latte', quantity: pick(r, [0, -1, 1.5, 1e9, '1', null]) }] }),
      () => ({
        items: [{ productId: 'coffee-latte', quantity: 1 }],
        subscriptions: pick(r, [
          ...NOT_SCALAR.filter((v) => !(Array.isArray(v) && v.length === 0)),
          ['x'],
          ['A'.repeat(43)],
          Array(4).fill('A'.repeat(43)),
        ]),
      }),
    ],
    orders: [
      () => ({ action: pick(r, NOT_SCALAR) }),
      () => ({ action: 'get', orderId: pick(r, NOT_SCALAR) }),
      () => ({ action: 'close', orderId: `T${Math.floor(r() * 1e12)}NOPE` }),
      () => ({ action: 'list', pageSize: pick(r, NOT_SCALAR) }),
    ],
    refund: [
      () => ({ orderId: pick(r, NOT_SCALAR) }),
      () => ({ orderId: `T${Math.floor(r() * 1e12)}NOPE`, amountFen: pick(r, NOT_SCALAR) }),
    ],
  };
  const names = Object.keys(fieldBodies);
  return Array.from({ length: count }, (_, i) => {
    const name = pick(r, names);
    const headers: Record<string, string> = {};
    const ct = pick(r, [
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      undefined,
    ]);
    if (ct) headers['content-type'] = ct;
    const auth = name === 'login' ? pick(r, authorizations) : withToken();
    if (auth !== undefined) headers.authorization = auth;
    if (r() < 0.3) headers['x-wx-openid'] = pick(r, ['oAttacker_000000', 'admin', '']);
    if (r() < 0.2) headers.origin = pick(r, ['https://evil.example.com', 'null', 'http://localhost']);
    const method = r() < 0.85 ? 'POST' : pick(r, ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
    const body = r() < 0.5 ? pick(r, badBodies)() : JSON.stringify(pick(r, fieldBodies[name])());
    const path = r() < 0.1 ? `/api/${name}/${pick(r, ['x', 'a/b', '%00', '%F0'])}` : `/api/${name}`;
    return { name: `${name}#${i}`, method, path, headers, body: method === 'GET' ? '' : body };
  });
}

describe('fuzzing the HTTPS API', () => {
  it('400 generated bad requests: an error envelope with its status, no stack, no secret, no write', async () => {
    const user = await e.newUser();
    const code = await e.loginCode(user.openid);
    const login = await e.http('POST', '/api/login', JSON.stringify({ code }), {
      'content-type': 'application/json',
    });
    assert.equal(login.status, 200, login.body);
    const { token } = (JSON.parse(login.body) as { data: LoginResponse }).data;
    const beforeDump = await e.dumpAll();
    const secrets = ['WX_APPSECRET', 'JWT_SECRET', 'WXPAY_APIV3_KEY', 'WXPAY_APIV2_KEY']
      .map((k) => e.baseEnv[k])
      .filter((s): s is string => Boolean(s));
    const cases = generate(400, 20261130, token);
    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++];
        const a = await e.http(
          c.method,
          c.path,
          c.method === 'GET' ? (undefined as never) : c.body,
          c.headers,
        );
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        const where = `${c.name} ${c.method} ${c.path} ${JSON.stringify(c.headers).slice(0, 120)}`;
        if (STACK.test(a.body)) failures.push(`${where}: stack trace`);
        for (const s of secrets) if (a.body.includes(s)) failures.push(`${where}: secret in answer`);
        if (!/^application\/json/.test(a.headers['content-type'] ?? '')) {
          failures.push(`${where}: content-type ${a.headers['content-type']}`);
          continue;
        }
        let body: ApiResult<unknown>;
        try {
          body = JSON.parse(a.body) as ApiResult<unknown>;
        } catch {
          failures.push(`${where}: not JSON ${a.body.slice(0, 100)}`);
          continue;
        }
        if (typeof body !== 'object' || body === null || typeof body.ok !== 'boolean') {
          failures.push(`${where}: ${a.status} not an envelope ${a.body.slice(0, 150)}`);
          continue;
        }
        if (body.ok) {
          failures.push(`${where}: accepted ${a.body.slice(0, 150)}`);
          continue;
        }
        const expected = a.status === 405 ? 405 : STATUS_OF[body.error.code];
        if (expected === undefined || a.status !== expected)
          failures.push(`${where}: ${a.status} ${body.error.code} ${body.error.message}`);
        if (typeof body.error.message !== 'string' || body.error.message === '')
          failures.push(`${where}: no message`);
        if (a.headers['access-control-allow-origin'] !== undefined)
          failures.push(`${where}: a CORS header while CORS is off`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    assert.deepEqual(failures.slice(0, 20), []);
    assert.equal(await e.dumpAll(), beforeDump, 'no write');
    // Every kind of refusal was reached.
    for (const s of [400, 401, 405])
      assert.ok((statuses[s] ?? 0) > 0, `some ${s}: ${JSON.stringify(statuses)}`);
    // Still healthy afterwards.
    const ok = await e.http('POST', '/api/orders', '{"action":"list"}', {
      'content-type': 'application/json',
      authorization: `Bearer ${token}`,
    });
    assert.equal(ok.status, 200, ok.body);
    console.log(
      `[fuzz] ${cases.length} bad HTTPS API requests ${JSON.stringify(statuses)}: 0 stack traces, 0 writes`,
    );
  });
});
