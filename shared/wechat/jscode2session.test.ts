// jscode2session against a tiny real node:http server standing in for api.weixin.qq.com.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { createConfig } from '../config/config';
import { ConfigError } from '../config/errors';
import { WechatApiError, code2Session } from './index';

const APPID = 'wx0123456789abcdef';
const SECRET = '0123456789abcdef0123456789abcdef';
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ==';

type Reply = { status?: number; body?: string; hang?: boolean };
let reply: Reply = {};
const seen: URL[] = [];
let server: Server;
let baseUrl: string;

before(async () => {
  server = createServer((req, res) => {
    seen.push(new URL(req.url ?? '/', 'http://x'));
    if (reply.hang) return;
    res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain' }).end(reply.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

const config = () =>
  createConfig({ WX_APPID: APPID, WX_APPSECRET: SECRET, WECHAT_API_BASE_URL: baseUrl }).wechatApi();

async function failure(code = 'code_123', timeoutMs = 2_000): Promise<unknown> {
  try {
    await code2Session(config(), code, { timeoutMs });
  } catch (err) {
    const text =
      inspect(err, { depth: 10, showHidden: true }) + String((err as Error).message) + JSON.stringify(err);
    assert.ok(!text.includes(SECRET), 'the app secret never appears in an error');
    assert.ok(!text.includes('secret='), 'nor does the request URL');
    return err;
  }
  assert.fail('expected a failure');
}

describe('jscode2session', () => {
  test('sends appid, secret, js_code and grant_type; returns openid and unionid, hides session_key', async () => {
    reply = {
      body: JSON.stringify({ openid: 'oUser_abcdef123', session_key: SESSION_KEY, unionid: 'uUnion_1' }),
    };
    seen.length = 0;
    const r = await code2Session(config(), '081aBcDe2xYz');
    assert.equal(seen.length, 1);
    const url = seen[0];
    assert.equal(url.pathname, '/sns/jscode2session');
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      appid: APPID,
      secret: SECRET,
      js_code: '081aBcDe2xYz',
      grant_type: 'authorization_code',
    });
    assert.deepEqual({ ...r }, { openid: 'oUser_abcdef123', unionid: 'uUnion_1' });
    assert.equal(r.sessionKey.reveal(), SESSION_KEY);
    for (const shown of [
      JSON.stringify(r),
      inspect(r, { showHidden: true, depth: 5 }), // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- proves the Secret's own toString hides it
      `${r.sessionKey}`,
    ])
      assert.ok(!shown.includes(SESSION_KEY), shown);
    reply = {
      body: JSON.stringify({ openid: 'oUser_abcdef123', session_key: SESSION_KEY, errcode: 0, errmsg: 'ok' }),
    };
    assert.deepEqual({ ...(await code2Session(config(), 'c2')) }, { openid: 'oUser_abcdef123' });
  });

  const mapped: Array<[number, string, RegExp]> = [
    [40029, 'INVALID_ARGUMENT', /call wx\.login again/],
    [40163, 'INVALID_ARGUMENT', /already used.*call wx\.login again/],
    [45011, 'RATE_LIMITED', /wait a minute/],
    [-1, 'UPSTREAM_UNAVAILABLE', /busy.*retry/],
    [40226, 'UPSTREAM_ERROR', /high-risk/],
    [61234, 'UPSTREAM_ERROR', /errcode 61234/],
  ];
  for (const [errcode, code, message] of mapped) {
    test(`errcode ${errcode} → ${code}`, async () => {
      reply = { body: JSON.stringify({ errcode, errmsg: `invalid, rid: 6${errcode}` }) };
      const err = await failure();
      assert.ok(err instanceof WechatApiError);
      assert.equal(err.code, code);
      assert.equal(err.upstream, String(errcode));
      assert.equal(err.errcode, errcode);
      assert.match(err.message, message);
      assert.equal(err.retryable, code === 'UPSTREAM_UNAVAILABLE' || code === 'RATE_LIMITED');
    });
  }

  for (const [errcode, variable] of [
    [40125, 'WX_APPSECRET'],
    [40013, 'WX_APPID'],
  ] as const) {
    test(`errcode ${errcode} is a configuration error naming ${variable}`, async () => {
      reply = { body: JSON.stringify({ errcode, errmsg: 'invalid' }) };
      const err = await failure();
      assert.ok(err instanceof ConfigError);
      assert.equal(err.variable, variable);
      assert.match(err.message, new RegExp(`${variable}.*开发设置`));
      assert.ok(!err.message.includes(APPID) || variable !== 'WX_APPID');
    });
  }

  test('5xx, non-JSON, missing openid, a hang past the timeout and a refused connection are UPSTREAM_UNAVAILABLE', async () => {
    for (const r of [
      { status: 503, body: 'busy' },
      { body: '<html>' },
      { body: JSON.stringify({ session_key: 'x' }) },
      { body: 'null' },
    ]) {
      reply = r;
      const err = await failure();
      assert.ok(
        err instanceof WechatApiError && err.code === 'UPSTREAM_UNAVAILABLE' && err.retryable,
        inspect(err),
      );
    }
    reply = { hang: true };
    const started = Date.now();
    const err = await failure('code_hang', 300);
    const elapsed = Date.now() - started;
    assert.ok(
      err instanceof WechatApiError && err.code === 'UPSTREAM_UNAVAILABLE' && /300 ms/.test(err.message),
      inspect(err),
    );
    assert.ok(elapsed >= 250 && elapsed < 2_000, `gave up after ${elapsed} ms`);

    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', () => resolve()));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const cfg = createConfig({
      WX_APPID: APPID,
      WX_APPSECRET: SECRET,
      WECHAT_API_BASE_URL: `http://127.0.0.1:${port}`,
    }).wechatApi();
    const refused = await code2Session(cfg, 'code_x', { timeoutMs: 1_000 }).catch((e: unknown) => e);
    assert.ok(refused instanceof WechatApiError && /ECONNREFUSED/.test(refused.message));
    assert.ok(!inspect(refused, { depth: 10 }).includes(SECRET));
  });

  test('a code that is not a wx.login code is refused without calling WeChat', async () => {
    seen.length = 0;
    for (const bad of ['', 'a&secret=x', 'x'.repeat(200), { $ne: null } as unknown as string]) {
      const err = await failure(bad);
      assert.ok(err instanceof WechatApiError && err.code === 'INVALID_ARGUMENT');
    }
    assert.equal(seen.length, 0);
  });
});
