import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiResult, ErrorCode } from '../contracts/api';
import { AppError } from '../domain/errors';
import { fail, ok } from './envelope';
import {
  MAX_BODY_BYTES,
  httpStatusFor,
  isHttpApiRequest,
  parseCorsOrigins,
  retryAfterOf,
  serveHttpApi,
  type HttpApiRequest,
} from './http-api';
import type { IntegrationEvent } from './trigger';

function event(over: Partial<IntegrationEvent> = {}): IntegrationEvent {
  return {
    path: '/api/orders',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"action":"list"}',
    isBase64Encoded: false,
    ...over,
  };
}

/** Serves `e` with a callable stand-in that records what it was handed and answers `result`. */
async function serve(
  e: IntegrationEvent,
  result: ApiResult<unknown> = ok({ n: 1 }),
  cors?: string,
  thrown?: unknown,
) {
  const seen: HttpApiRequest[] = [];
  const res = await serveHttpApi(
    'orders',
    e,
    async (request, observe) => {
      seen.push(request);
      if (thrown !== undefined) observe(thrown);
      return result;
    },
    cors,
  );
  return { res, seen, body: res.body ? (JSON.parse(res.body) as ApiResult<unknown>) : undefined };
}

describe('HTTP API adapter', () => {
  it('maps every envelope code to its HTTP status', () => {
    const expected: Record<ErrorCode, number> = {
      INVALID_ARGUMENT: 400,
      UNAUTHENTICATED: 401,
      PERMISSION_DENIED: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      RATE_LIMITED: 429,
      UPSTREAM_ERROR: 502,
      UPSTREAM_UNAVAILABLE: 503,
      INTERNAL: 500,
    };
    for (const [code, status] of Object.entries(expected))
      assert.equal(httpStatusFor(fail(code as ErrorCode, 'x')), status, code);
    assert.equal(httpStatusFor(ok(null)), 200);
  });

  it('hands the callable the JSON body (without userInfo) and the headers, and answers the envelope as JSON', async () => {
    const { res, seen, body } = await serve(
      event({
        headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: 'Bearer a.b.c' },
        body: JSON.stringify({ action: 'get', orderId: 'T1', userInfo: { openId: 'oForged_123456' } }),
      }),
    );
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(body, { ok: true, data: { n: 1 } });
    assert.equal(seen.length, 1);
    assert.ok(isHttpApiRequest(seen[0]));
    assert.deepEqual(seen[0].fields, { action: 'get', orderId: 'T1' });
    assert.equal(seen[0].headers.authorization, 'Bearer a.b.c');
    // no CORS header unless configured
    assert.ok(!Object.keys(res.headers).some((h) => h.startsWith('access-control-')));
    assert.equal(res.headers.vary, undefined);
  });

  it('a plain object is never taken for a request: only serveHttpApi makes them', () => {
    assert.equal(isHttpApiRequest({ fields: {}, headers: {} }), false);
    assert.equal(isHttpApiRequest(null), false);
  });

  it('bad bodies get a 400 envelope and never reach the callable', async () => {
    const cases: Array<[Partial<IntegrationEvent>, RegExp]> = [
      [{ body: '{"action":' }, /not valid JSON/],
      [{ body: '[1,2]' }, /must be a JSON object/],
      [{ body: 'null' }, /must be a JSON object/],
      [{ body: '"text"' }, /must be a JSON object/],
      [{ body: Buffer.from([0xff, 0xfe, 0x7b]).toString('base64'), isBase64Encoded: true }, /UTF-8/],
      [{ body: JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) }) }, /over 65536 bytes/],
      [{ headers: { 'content-type': 'text/plain' } }, /Content-Type: application\/json/],
      [{ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' }, /JSON/],
    ];
    for (const [over, message] of cases) {
      const { res, seen, body } = await serve(event(over));
      assert.equal(res.statusCode, 400, JSON.stringify(over).slice(0, 80));
      assert.equal(seen.length, 0);
      assert.ok(body && !body.ok);
      assert.equal(body.error.code, 'INVALID_ARGUMENT');
      assert.match(body.error.message, message);
    }
    // an empty body is an empty call (login then says which field is missing)
    const empty = await serve(event({ body: '' }));
    assert.deepEqual(empty.seen[0].fields, {});
    // a client body shaped like an envelope is just fields
    const shaped = await serve(event({ body: '{"ok":false,"error":{"code":"X"}}' }));
    assert.equal(shaped.res.statusCode, 200);
    assert.deepEqual(shaped.seen[0].fields, { ok: false, error: { code: 'X' } });
  });

  it('only POST: other methods get 405 with Allow, and OPTIONS too while CORS is off', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
      const { res, seen, body } = await serve(event({ httpMethod: method, body: '' }));
      assert.equal(res.statusCode, 405, method);
      assert.equal(res.headers.allow, 'POST');
      assert.equal(seen.length, 0);
      assert.match(body && !body.ok ? body.error.message : '', /use POST \/api\/orders/);
    }
  });

  it('CORS on: exact origins only, preflight answered, Vary: Origin', async () => {
    const cors = 'https://shop.example.com, http://localhost:5173';
    const allowed = await serve(event({ headers: { origin: 'https://shop.example.com' } }), ok(1), cors);
    assert.equal(allowed.res.headers['access-control-allow-origin'], 'https://shop.example.com');
    assert.equal(allowed.res.headers.vary, 'Origin');
    for (const origin of ['https://evil.example.com', 'https://shop.example.com.evil.io', 'null']) {
      const other = await serve(event({ headers: { origin } }), ok(1), cors);
      assert.equal(other.res.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(other.res.headers.vary, 'Origin');
    }
    const preflight = await serve(
      event({
        httpMethod: 'OPTIONS',
        body: '',
        headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
      }),
      ok(1),
      cors,
    );
    assert.equal(preflight.res.statusCode, 204);
    assert.equal(preflight.seen.length, 0);
    assert.equal(preflight.res.headers['access-control-allow-origin'], 'http://localhost:5173');
    assert.equal(preflight.res.headers['access-control-allow-methods'], 'POST');
    assert.match(preflight.res.headers['access-control-allow-headers'], /authorization/);
    const refused = await serve(
      event({ httpMethod: 'OPTIONS', body: '', headers: { origin: 'https://evil.example.com' } }),
      ok(1),
      cors,
    );
    assert.equal(refused.res.statusCode, 403);
    assert.equal(refused.res.headers['access-control-allow-origin'], undefined);
    const get = await serve(event({ httpMethod: 'GET', body: '' }), ok(1), cors);
    assert.equal(get.res.headers.allow, 'POST, OPTIONS');
  });

  it('HTTP_API_CORS_ORIGINS: exact origins or a message naming the fix; a bad value answers 500', async () => {
    assert.deepEqual(parseCorsOrigins(undefined), { ok: true, origins: new Set() });
    assert.deepEqual(parseCorsOrigins(' , '), { ok: true, origins: new Set() });
    const good = parseCorsOrigins('https://a.example.com,https://b.example.com:8443');
    assert.ok(good.ok);
    assert.deepEqual([...good.origins], ['https://a.example.com', 'https://b.example.com:8443']);
    for (const bad of [
      '*',
      'https://a.example.com/',
      'https://A.example.com',
      'a.example.com',
      'ftp://x.y',
      'null',
    ]) {
      const p = parseCorsOrigins(`https://ok.example.com,${bad}`);
      assert.ok(!p.ok, bad);
      assert.match(p.problem, /HTTP_API_CORS_ORIGINS/);
    }
    const logged: string[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    let served;
    try {
      served = await serve(event(), ok(1), 'https://x.example.com/path');
    } finally {
      console.error = consoleError;
    }
    const { res, seen, body } = served;
    assert.equal(res.statusCode, 500);
    assert.equal(seen.length, 0);
    // The caller hears that the server is misconfigured; the variable and the fix are in the function log.
    assert.equal(
      body && !body.ok ? body.error.message : '',
      'server configuration error, see the function log',
    );
    assert.match(logged.join('\n'), /\[orders\] INTERNAL: .*HTTP_API_CORS_ORIGINS/);
  });

  it('401 names the Bearer scheme (WWW-Authenticate)', async () => {
    const { res } = await serve(event(), fail('UNAUTHENTICATED', 'call login again'));
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="wxcloud-pay"');
    assert.equal((await serve(event())).res.headers['www-authenticate'], undefined);
  });

  it('429 carries Retry-After when the error says how long', async () => {
    const limited = fail('RATE_LIMITED', 'slow down');
    const err = Object.assign(new AppError('RATE_LIMITED', 'slow down'), { retryAfterSeconds: 2.2 });
    const withHint = await serve(event(), limited, undefined, err);
    assert.equal(withHint.res.statusCode, 429);
    assert.equal(withHint.res.headers['retry-after'], '3');
    const without = await serve(event(), limited, undefined, new AppError('RATE_LIMITED', 'slow down'));
    assert.equal(without.res.statusCode, 429);
    assert.equal(without.res.headers['retry-after'], undefined);
    assert.equal(retryAfterOf({ retryAfterSeconds: -1 }), undefined);
    assert.equal(retryAfterOf({ retryAfterSeconds: Infinity }), undefined);
    assert.equal(retryAfterOf('x'), undefined);
  });
});
