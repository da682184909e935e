// The function host against fixture bundles: real worker processes, real HTTP on 127.0.0.1:0.
// Longer than 250 lines: the tests share one host, so its start and its instances are paid once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildFixtureFunctions, FIXTURE_CLOUDBASERC } from './fixtures/build-fixtures';
import { MAX_BODY_BYTES, startFunctionHost, type FunctionHost } from './server';

let dir: string;
let host: FunctionHost;
const logLines: string[] = [];
const functionLines: string[] = [];
const hostEnv: Record<string, string> = {
  CUSTOM_VAR: 'from-local-env',
  JWT_SECRET: 'not-a-real-secret-but-long-enough-000',
};

async function call(name: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${host.url}/functions/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxcloud-host-'));
  await buildFixtureFunctions(join(dir, 'build'));
  process.env.HOST_ONLY_VAR = 'must-not-reach-functions';
  host = await startFunctionHost({
    port: 0,
    buildDir: join(dir, 'build'),
    cloudbasercPath: FIXTURE_CLOUDBASERC,
    env: () => hostEnv,
    log: (line) => logLines.push(line),
    functionOutput: (name, line) => functionLines.push(`[${name}] ${line}`),
    maxInstancesPerFunction: 4,
  });
});

after(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('callFunction', () => {
  test('answers { result, requestId } with the event, userInfo from the headers and the platform context', async () => {
    const { status, body } = await call(
      'echo',
      { a: 1, nested: { b: [1, 2] }, userInfo: { openId: 'spoofed' } },
      { 'x-wx-openid': 'o-echo', 'x-wx-appid': 'wx-app' },
    );
    assert.equal(status, 200);
    assert.match(body.requestId, /^[0-9a-f-]{36}$/);
    const r = body.result;
    assert.deepEqual(r.event, {
      a: 1,
      nested: { b: [1, 2] },
      userInfo: { appId: 'wx-app', openId: 'o-echo' },
    });
    assert.equal(r.context.request_id, body.requestId);
    assert.equal(r.context.function_name, 'echo');
    assert.equal(r.context.memory_limit_in_mb, 128);
    assert.equal(r.context.time_limit_in_ms, 5000);
    assert.match(r.context.environ, /WX_OPENID=o-echo;/);
    assert.ok(r.context.remaining > 0 && r.context.remaining <= 5000);
    // --max-old-space-size follows memorySize (128 MB here).
    assert.ok(r.maxOldSpace < 256 * 1024 * 1024, `heap limit ${r.maxOldSpace}`);
  });

  test('second call is warm: same instance, faster, logged as warm; the first was a measured cold start', async () => {
    const t0 = performance.now();
    const first = await call('slow', { ms: 0 });
    const coldMs = performance.now() - t0;
    const t1 = performance.now();
    const second = await call('slow', { ms: 0 });
    const warmMs = performance.now() - t1;
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.body.result.pid, first.body.result.pid);
    assert.ok(warmMs < coldMs, `warm ${warmMs.toFixed(1)} ms should beat cold ${coldMs.toFixed(1)} ms`);
    const recs = host.invocations
      .recent()
      .filter((r) => r.requestId === first.body.requestId || r.requestId === second.body.requestId);
    assert.equal(recs.length, 2);
    assert.equal(recs[0].cold, true);
    assert.ok(typeof recs[0].coldStartMs === 'number' && recs[0].coldStartMs > 0);
    assert.equal(recs[1].cold, false);
    // the function's own time, reported by the instance: inside the host's arrival-to-answer span
    for (const r of recs) {
      assert.ok(typeof r.runMs === 'number' && r.runMs >= 0 && r.runMs <= r.durationMs, JSON.stringify(r));
      assert.ok(typeof r.runCpuMs === 'number' && Number.isFinite(r.runCpuMs) && r.runCpuMs >= 0);
    }
    assert.ok(logLines.some((l) => l.includes(first.body.requestId) && /cold start \d+ ms/.test(l)));
    assert.ok(logLines.some((l) => l.includes(second.body.requestId) && / warm /.test(l)));
  });

  test('a thrown error becomes the platform error answer, and the instance keeps serving', async () => {
    const { status, body } = await call('fail', { why: 'bad input' });
    assert.equal(status, 500);
    assert.equal(body.errCode, -504002);
    assert.equal(body.code, 'FUNCTION_INVOCATION_FAILED');
    assert.match(body.errMsg, /functions execute fail/);
    assert.match(body.message, /Error: boom: bad input/);
    assert.doesNotMatch(JSON.stringify(body), /at .*index\.js/, 'no stack trace in the answer');
    const plain = await call('fail', { how: 'object' });
    assert.equal(plain.status, 500);
    assert.match(plain.body.message, /E_PLAIN/);
    const ok = await call('fail', { how: 'ok' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result.fine, true);
  });

  test('a crashing instance (exit, uncaught exception) fails only its call; the next call gets a new instance', async () => {
    const before = await call('fail', { how: 'ok' });
    const exited = await call('fail', { how: 'exit' });
    assert.equal(exited.status, 500);
    assert.match(exited.body.message, /exit code 3/);
    const uncaught = await call('fail', { how: 'uncaught' });
    assert.equal(uncaught.status, 500);
    assert.match(uncaught.body.message, /uncaught later/);
    const after = await call('fail', { how: 'ok' });
    assert.equal(after.status, 200);
    assert.notEqual(after.body.result.pid, before.body.result.pid);
  });

  test('unknown function → 404, bad JSON → 400, non-object body → 400, too large → 413, wrong method → 405', async () => {
    const unknown = await call('nope', {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'FUNCTION_NOT_FOUND');
    assert.match(unknown.body.message, /no cloud function named "nope".*npm run build/);
    const bad = await call('echo', '{"a":');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'FUNCTION_PARAM_INVALID');
    assert.match(bad.body.message, /not valid JSON/);
    const arr = await call('echo', [1, 2]);
    assert.equal(arr.status, 400);
    const get = await fetch(`${host.url}/functions/echo`);
    assert.equal(get.status, 405);
    await get.arrayBuffer();
    const huge = await fetch(`${host.url}/functions/echo`, {
      method: 'POST',
      body: Buffer.alloc(MAX_BODY_BYTES + 1, 0x20),
    });
    assert.equal(huge.status, 413);
    assert.equal(((await huge.json()) as any).code, 'FUNCTION_PARAM_INVALID');
    const empty = await fetch(`${host.url}/functions/echo`, { method: 'POST' });
    assert.equal(empty.status, 200);
    assert.deepEqual(((await empty.json()) as any).result.event, {});
  });

  test('the timeout from cloudbaserc.json is enforced: the instance is killed and the platform timeout answered', async () => {
    const warm = await call('slow', { ms: 0 });
    const t0 = performance.now();
    const { status, body } = await call('slow', { ms: 5000 });
    const took = performance.now() - t0;
    assert.equal(status, 504);
    assert.equal(body.errCode, -504003);
    assert.equal(body.code, 'FUNCTION_TIME_LIMIT_EXCEEDED');
    assert.match(body.message, /timed out after 1 seconds/);
    assert.ok(took >= 950 && took < 6000, `answered after ${took.toFixed(0)} ms`);
    const next = await call('slow', { ms: 10 });
    assert.equal(next.status, 200);
    assert.ok(
      host.invocations.recent().some((r) => r.requestId === body.requestId && r.outcome === 'timeout'),
    );
    assert.equal(typeof warm.body.result.pid, 'number');
  });

  test('on a reused instance the timeout counts from each call, also after the instance sat idle past it', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const first = await call('slow', { ms: 0 });
    await sleep(700);
    // 1.3 s after the first call started: only a deadline left over from that call would cut it
    const second = await call('slow', { ms: 600 });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.result.pid, first.body.result.pid, 'the same warm instance');
    await sleep(1200); // the instance's deadline timer has fired while it was idle
    const t0 = performance.now();
    const third = await call('slow', { ms: 5000 });
    const took = performance.now() - t0;
    assert.equal(third.status, 504);
    assert.equal(third.body.code, 'FUNCTION_TIME_LIMIT_EXCEEDED');
    assert.ok(
      took >= 950,
      `the deadline was re-armed at the call's start, answered after ${took.toFixed(0)} ms`,
    );
  });

  test('memorySize is enforced: a function exceeding its heap gets a memory-limit error', async () => {
    const { status, body } = await call('memhog', {});
    assert.equal(status, 500);
    assert.equal(body.code, 'FUNCTION_MEMORY_LIMIT_EXCEEDED');
    assert.match(body.message, /64 MB/);
  });

  test('the function environment: local env + platform variables + placeholder credentials, nothing else from the host', async () => {
    const keys = [
      'CUSTOM_VAR',
      'JWT_SECRET',
      'TENCENTCLOUD',
      'TENCENTCLOUD_SECRETID',
      'SCF_NAMESPACE',
      'TCB_ENV',
      'SCF_FUNCTIONNAME',
      'HOST_ONLY_VAR',
    ];
    const { body } = await call('echo', { envKeys: keys });
    const env = body.result.env;
    assert.equal(env.CUSTOM_VAR, 'from-local-env');
    assert.equal(env.JWT_SECRET, hostEnv.JWT_SECRET);
    assert.equal(env.TENCENTCLOUD, 'true');
    assert.ok(env.TENCENTCLOUD_SECRETID);
    assert.equal(env.SCF_NAMESPACE, 'local');
    assert.equal(env.TCB_ENV, 'local');
    assert.equal(env.SCF_FUNCTIONNAME, 'echo');
    assert.equal(env.HOST_ONLY_VAR, undefined);
    // WX_APPID is configuration too: a caller's appid overrides it for its own invocation only.
    hostEnv.WX_APPID = 'wxconfigured';
    host.recycle();
    const asCaller = await call(
      'echo',
      { envKeys: ['WX_APPID', 'WX_OPENID'] },
      { 'x-wx-openid': 'o-env', 'x-wx-appid': 'wxcaller' },
    );
    assert.deepEqual(asCaller.body.result.env, { WX_APPID: 'wxcaller', WX_OPENID: 'o-env' });
    const anonymous = await call('echo', { envKeys: ['WX_APPID', 'WX_OPENID'] });
    assert.equal(anonymous.body.result.pid, asCaller.body.result.pid);
    assert.deepEqual(anonymous.body.result.env, { WX_APPID: 'wxconfigured' });
    // A changed env reaches new instances after recycle().
    hostEnv.CUSTOM_VAR = 'changed';
    host.recycle();
    const again = await call('echo', { envKeys: ['CUSTOM_VAR'] });
    assert.equal(again.body.result.env.CUSTOM_VAR, 'changed');
  });

  test('identity never leaks: 200 concurrent calls with different openids each see their own (wx-server-sdk getWXContext)', async () => {
    const N = 200;
    const calls = Array.from({ length: N }, (_, i) => {
      const headers: Record<string, string> = { 'x-wx-openid': `openid-${i}`, 'x-wx-appid': `wxapp${i % 3}` };
      if (i % 2 === 0) headers['x-wx-unionid'] = `union-${i}`;
      return call('identity', { tag: i }, headers);
    });
    // plus calls without any identity interleaved
    const anonymous = Array.from({ length: 10 }, () => call('identity', { tag: -1 }));
    const results = await Promise.all(calls);
    const anon = await Promise.all(anonymous);
    const pids = new Set<number>();
    results.forEach(({ status, body }, i) => {
      assert.equal(status, 200, JSON.stringify(body));
      const r = body.result;
      pids.add(r.pid);
      assert.equal(r.tag, i);
      for (const ctx of [r.before, r.after]) {
        assert.equal(ctx.OPENID, `openid-${i}`);
        assert.equal(ctx.APPID, `wxapp${i % 3}`);
        assert.equal(ctx.UNIONID, i % 2 === 0 ? `union-${i}` : undefined);
        assert.equal(ctx.ENV, 'local');
      }
      assert.deepEqual(r.userInfo, { appId: `wxapp${i % 3}`, openId: `openid-${i}` });
    });
    for (const { body } of anon) {
      assert.equal(body.result.before.OPENID, undefined);
      assert.equal(body.result.userInfo, undefined);
    }
    assert.ok(pids.size > 1 && pids.size <= 4, `pool grew to ${pids.size} instances (bound 4)`);
  });

  test('one log line per invocation with function, request id, start kind, duration, outcome — never the body', async () => {
    const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
    const { body } = await call('echo', { password: secret });
    const lines = logLines.filter((l) => l.includes(body.requestId));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /\[host\] echo [0-9a-f-]{36} (warm|cold start \d+ ms) \d+\.\d ms ok 200/);
    assert.ok(!logLines.some((l) => l.includes(secret)));
    assert.ok(!functionLines.some((l) => l.includes(secret)));
  });
});

describe('HTTP access triggers', () => {
  test('the integration event carries path, method, headers, query and the raw body byte for byte', async () => {
    const raw = '{"id":"EV-1","resource":{"ciphertext":"abc+/="},"text":"微信支付 ✓"}';
    const res = await fetch(`${host.url}/hook/sub/path?x=1&y=two`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'wechatpay-signature': 'sig==',
        'wechatpay-serial': 'PUB_KEY_ID_0112',
      },
      body: raw,
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-fn'), 'http');
    const event = (await res.json()) as Record<string, any>;
    assert.equal(event.path, '/hook/sub/path');
    assert.equal(event.httpMethod, 'POST');
    assert.deepEqual(event.queryStringParameters, { x: '1', y: 'two' });
    assert.equal(event.headers['wechatpay-signature'], 'sig==');
    assert.equal(event.headers['wechatpay-serial'], 'PUB_KEY_ID_0112');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, raw);
    assert.match(event.requestContext.requestId, /^[0-9a-f-]{36}$/);
    assert.equal(event.requestContext.envId, 'local');
  });

  test('binary bodies arrive base64-encoded and integrated responses with isBase64Encoded are decoded', async () => {
    const bytes = Buffer.concat([randomBytes(512), Buffer.from([0xff, 0xfe, 0x00, 0x80])]);
    const res = await fetch(`${host.url}/hook?mode=raw`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-was-base64'), 'true');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(bytes));
    // Text content-type but invalid utf-8: still base64, still exact.
    const res2 = await fetch(`${host.url}/hook?mode=raw`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: bytes,
    });
    assert.equal(res2.headers.get('x-was-base64'), 'true');
    assert.ok(Buffer.from(await res2.arrayBuffer()).equals(bytes));
    const xml = Buffer.from('<xml><return_code><![CDATA[SUCCESS]]></return_code><n>é</n></xml>');
    const res3 = await fetch(`${host.url}/hook?mode=raw`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: xml,
    });
    assert.equal(res3.headers.get('x-was-base64'), 'false');
    assert.ok(Buffer.from(await res3.arrayBuffer()).equals(xml));
  });

  test('plain returns map as the platform does; failures and timeouts answer 5xx so callers retry', async () => {
    const s = await fetch(`${host.url}/hook?mode=string`);
    assert.equal(s.status, 200);
    assert.match(s.headers.get('content-type') ?? '', /text\/plain/);
    assert.equal(await s.text(), 'plain answer');
    const o = await fetch(`${host.url}/hook?mode=object`);
    assert.match(o.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await o.json(), { plain: 'object' });
    const e = await fetch(`${host.url}/hook?mode=empty`, { method: 'POST', body: 'x' });
    assert.equal(e.status, 204);
    const f = await fetch(`${host.url}/hook-fail`, { method: 'POST', body: '{}' });
    assert.equal(f.status, 500);
    assert.equal(((await f.json()) as any).code, 'FUNCTION_INVOCATION_FAILED');
    const t = await fetch(`${host.url}/hook-slow?ms=4000`);
    assert.equal(t.status, 504);
    assert.equal(((await t.json()) as any).code, 'FUNCTION_TIME_LIMIT_EXCEEDED');
  });

  test('extra routes mount before the placeholder page; unknown paths answer 404 with a hint', async () => {
    const home = await fetch(`${host.url}/`);
    assert.match(await home.text(), /function host/);
    host.mount((req, res) => {
      if (req.url !== '/') return false;
      res.end('console');
      return true;
    });
    assert.equal(await (await fetch(`${host.url}/`)).text(), 'console');
    const missing = await fetch(`${host.url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as any).message, /POST \/functions\/<name>/);
  });
});

describe('idle instances', () => {
  test('an instance retires idleTimeoutMs after its last call, not after its first idle period', async () => {
    const idleHost = await startFunctionHost({
      port: 0,
      buildDir: join(dir, 'build'),
      cloudbasercPath: FIXTURE_CLOUDBASERC,
      env: () => hostEnv,
      log: () => {},
      functionOutput: () => {},
      idleTimeoutMs: 1500,
    });
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const pid = async () => {
      const r = await idleHost.callFunction('slow', { ms: 0 });
      assert.ok(r.ok, JSON.stringify(r));
      return (r.result as { pid: number }).pid;
    };
    const slowStats = async () =>
      ((await (await fetch(`${idleHost.url}/health`)).json()) as any).instances.slow as { instances: number };
    try {
      const first = await pid();
      await sleep(900);
      assert.equal(await pid(), first);
      await sleep(900); // 1.8 s after the first call, 0.9 s after the last: still warm
      assert.equal(await pid(), first, 'the idle timer was re-armed by the second call');
      await sleep(2500);
      assert.equal((await slowStats()).instances, 0, 'retired once idle for longer than idleTimeoutMs');
    } finally {
      await idleHost.close();
    }
  });
});
