// Crash faults (`POST /host/faults`), queueing under a storm, base64 bodies and the late-answer log,
// against a real host running fixture bundles in real worker processes on 127.0.0.1:0.
// Longer than 250 lines: the tests share one host, so its start and its instances are paid once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { buildFixtureFunctions, FIXTURE_CLOUDBASERC } from './fixtures/build-fixtures';
import { worthStarting } from './scaling';
import { startFunctionHost, type FunctionHost } from './server';

let dir: string;
let host: FunctionHost;
const logLines: string[] = [];
const MAX_INSTANCES = 3;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxcloud-host-faults-'));
  await buildFixtureFunctions(join(dir, 'build'), ['echo', 'slow', 'http', 'broken']);
  host = await startFunctionHost({
    buildDir: join(dir, 'build'),
    cloudbasercPath: FIXTURE_CLOUDBASERC,
    env: {},
    log: (line) => logLines.push(line),
    functionOutput: () => undefined,
    maxInstancesPerFunction: MAX_INSTANCES,
    maxStartingPerFunction: 1,
    lateAnswerMs: 150,
  });
});

after(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await fetch(`${host.url}/host/faults`, { method: 'DELETE' });
});

async function json(method: string, path: string, body?: unknown) {
  const res = await fetch(`${host.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const call = (name: string, data: unknown) => json('POST', `/functions/${name}`, data);

describe('crash faults', () => {
  test('the armed call loses its instance (SIGKILL): the platform error, a crash record, a new instance after', async () => {
    const before = await call('slow', { ms: 0 });
    assert.equal(before.status, 200);
    const armed = await json('POST', '/host/faults', { function: 'slow', kind: 'crash', afterMs: 20 });
    assert.equal(armed.status, 200);
    assert.deepEqual(
      { ...armed.body, id: 0 },
      { id: 0, function: 'slow', kind: 'crash', count: 1, afterMs: 20 },
    );

    const crashed = await call('slow', { ms: 600 });
    assert.equal(crashed.status, 500);
    assert.equal(crashed.body.code, 'FUNCTION_INVOCATION_FAILED');
    assert.equal(crashed.body.errCode, -504002);
    assert.match(crashed.body.message, /killed \(SIGKILL\) during the invocation by a crash fault/);
    const record = host.invocations.recent().find((r) => r.requestId === crashed.body.requestId);
    assert.equal(record?.outcome, 'crash');
    assert.equal(record?.status, 500);
    assert.match(record?.errorMessage ?? '', /crash fault/);
    assert.ok(logLines.some((l) => l.includes(crashed.body.requestId) && / crash 500/.test(l)));

    const next = await call('slow', { ms: 0 });
    assert.equal(next.status, 200, 'one crash armed, one call crashed');
    assert.notEqual(next.body.result.pid, before.body.result.pid, 'the killed instance was replaced');
    assert.deepEqual((await json('GET', '/host/faults')).body, []);
  });

  test('count crashes that many calls; an HTTP trigger answers 5xx so WeChat retries', async () => {
    await json('POST', '/host/faults', { function: 'slow', kind: 'crash', count: 2, afterMs: 10 });
    const a = await fetch(`${host.url}/hook-slow?ms=500`, { method: 'POST', body: '{}' });
    assert.equal(a.status, 500);
    const body = (await a.json()) as Record<string, string>;
    assert.equal(body.code, 'FUNCTION_INVOCATION_FAILED');
    assert.match(body.message, /crash fault/);
    assert.equal((await call('slow', { ms: 500 })).status, 500);
    assert.equal((await call('slow', { ms: 500 })).status, 200);
  });

  test('without afterMs the kill lands at a random point of the call', async () => {
    await call('slow', { ms: 0 });
    await json('POST', '/host/faults', { function: 'slow', kind: 'crash' });
    // The random point lies within the pool's typical call (a few ms here), long before 700 ms.
    const crashed = await call('slow', { ms: 700 });
    assert.equal(crashed.status, 500);
    assert.match(crashed.body.message, /crash fault/);
  });

  test('a call that ends before afterMs is not crashed and leaves the fault armed; DELETE clears it', async () => {
    await json('POST', '/host/faults', { function: 'echo', kind: 'crash', afterMs: 60_000 });
    assert.equal((await call('echo', {})).status, 200);
    const listed = (await json('GET', '/host/faults')).body as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      listed.map((f) => [f.function, f.count]),
      [['echo', 1]],
    );
    assert.deepEqual((await json('DELETE', '/host/faults')).body, { cleared: 1 });
    assert.deepEqual((await json('GET', '/host/faults')).body, []);
  });

  test('invalid bodies answer 400 with what to send, and arm nothing', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{"function":', /not valid JSON/],
      [[1], /JSON object/],
      [{ kind: 'crash' }, /"function" must name/],
      [{ function: 'nope', kind: 'crash' }, /no cloud function named "nope"/],
      [{ function: 'echo', kind: 'hang' }, /"kind" must be "crash"/],
      [{ function: 'echo', kind: 'crash', count: 0 }, /"count" must be an integer from 1/],
      [{ function: 'echo', kind: 'crash', count: 1.5 }, /"count"/],
      [{ function: 'echo', kind: 'crash', afterMs: -1 }, /"afterMs" must be an integer from 0/],
      [{ function: 'echo', kind: 'crash', afterMs: '10' }, /"afterMs"/],
      [{ function: 'echo', kind: 'crash', extra: true }, /unknown field "extra"/],
    ];
    for (const [body, message] of cases) {
      const r = await json('POST', '/host/faults', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.code, 'INVALID_FAULT');
      assert.match(r.body.message, message);
    }
    assert.deepEqual((await json('GET', '/host/faults')).body, []);
    assert.equal((await json('PUT', '/host/faults', {})).status, 405);
  });
});

describe('a storm through a bounded pool', () => {
  test('60 concurrent HTTP-trigger calls from cold: all answered, instances within the bound, queued calls reuse them', async () => {
    const recordsBefore = host.invocations.recent().length;
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        fetch(`${host.url}/hook?mode=raw`, { method: 'POST', body: `copy ${i}` }).then(async (r) => ({
          status: r.status,
          body: Buffer.from(await r.arrayBuffer()).toString('utf8'),
        })),
      ),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      Array.from({ length: 60 }, () => 200),
    );
    assert.deepEqual(
      answers.map((a) => a.body),
      Array.from({ length: 60 }, (_, i) => `copy ${i}`),
    );
    const records = host.invocations.recent().slice(recordsBefore);
    assert.equal(records.length, 60);
    const cold = records.filter((r) => r.cold).length;
    assert.ok(
      cold >= 1 && cold <= MAX_INSTANCES,
      `${cold} cold starts for 60 calls (bound ${MAX_INSTANCES})`,
    );
    assert.ok(
      records.every((r) => typeof r.queuedMs === 'number'),
      'each record says how long the call waited for an instance',
    );
  });

  test('a bundle that fails to load fails every queued call with its error and leaves nothing running', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => call('broken', {})));
    for (const a of answers) {
      assert.equal(a.status, 500);
      assert.equal(a.body.code, 'FUNCTION_INVOCATION_FAILED');
      assert.match(a.body.message, /broken failed to load: Error: broken at load/);
    }
    // The failed instance's process is gone once its exit is seen; nothing starts again by itself.
    const brokenPool = async () =>
      ((await json('GET', '/health')).body as { instances: Record<string, unknown> }).instances.broken;
    const deadline = Date.now() + 10_000;
    let left = await brokenPool();
    while (
      JSON.stringify(left) !== JSON.stringify({ instances: 0, idle: 0, queued: 0 }) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
      left = await brokenPool();
    }
    assert.deepEqual(left, { instances: 0, idle: 0, queued: 0 }, 'nothing left running');
    // A crash armed for a function whose calls never reach an instance stays armed.
    await json('POST', '/host/faults', { function: 'broken', kind: 'crash', afterMs: 0 });
    assert.equal((await call('broken', {})).status, 500);
    const armed = (await json('GET', '/host/faults')).body as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(
      armed.map((f) => [f.function, f.count]),
      [['broken', 1]],
    );
  });

  test('a new instance is started only when the queue would outlast a cold start', () => {
    const estimate = { runMs: 10, coldMs: 300 };
    assert.equal(worthStarting({ queued: 1, starting: 0, instances: 0, estimate }), true, 'nothing running');
    assert.equal(worthStarting({ queued: 1, starting: 1, instances: 1, estimate }), false, 'one is loading');
    assert.equal(
      worthStarting({ queued: 20, starting: 0, instances: 1, estimate }),
      false,
      '200 ms < 300 ms',
    );
    assert.equal(worthStarting({ queued: 40, starting: 0, instances: 1, estimate }), true, '400 ms > 300 ms');
    assert.equal(worthStarting({ queued: 40, starting: 0, instances: 2, estimate }), false, '200 ms');
  });

  test('answers later than the caller waits are called out in the log, with where the time went', async () => {
    await Promise.all(
      Array.from({ length: 4 }, () => fetch(`${host.url}/hook-slow?ms=200`).then((r) => r.arrayBuffer())),
    );
    const deadline = Date.now() + 10_000;
    const late = (l: string) => l.startsWith('[host] slow:') && l.includes('later than the 0.15 s');
    while (!logLines.some(late) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const line = logLines.find(late);
    assert.ok(line, logLines.slice(-5).join('\n'));
    assert.match(line, /^\[host\] slow: \d+ HTTP answer\(s\) later than .* waiting for an instance/);
  });
});

describe('provisioned instances', () => {
  async function pool(name: string): Promise<{ instances: number; idle: number }> {
    const health = (await json('GET', '/health')).body as {
      instances: Record<string, { instances: number; idle: number }>;
    };
    return health.instances[name] ?? { instances: 0, idle: 0 };
  }
  /** Until the function has exactly one instance, started and idle. */
  async function untilOneIdle(name: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (let p = await pool(name); p.instances !== 1 || p.idle !== 1; p = await pool(name)) {
      assert.ok(Date.now() < deadline, `${name} has ${JSON.stringify(p)} after 20 s, not one idle instance`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('keepWarm(1) starts an instance of each HTTP-triggered function ahead of demand, and replaces it after a crash', async () => {
    host.recycle(); // the earlier tests' instances go; what is left is what keepWarm keeps
    host.keepWarm(1);
    try {
      await untilOneIdle('http');
      const first = await fetch(`${host.url}/hook?mode=object`);
      assert.equal(first.status, 200);
      await first.arrayBuffer();
      const record = host.invocations.recent().at(-1);
      assert.equal(record?.functionName, 'http');
      assert.equal(record?.cold, false, 'the call did not wait for a cold start');

      // The kept instance of another HTTP-triggered function dies mid-call and is replaced unasked.
      await untilOneIdle('slow');
      await json('POST', '/host/faults', { function: 'slow', kind: 'crash', afterMs: 20 });
      const crashed = await fetch(`${host.url}/hook-slow?ms=400`);
      assert.equal(crashed.status, 500);
      await crashed.arrayBuffer();
      await untilOneIdle('slow');
    } finally {
      host.keepWarm(0);
    }
    assert.throws(() => host.keepWarm(-1), /count must be an integer/);
  });
});

describe('base64 bodies', () => {
  test('base64Share 1 hands every HTTP-trigger body over base64-encoded; the bytes arrive unchanged', async () => {
    const b64Host = await startFunctionHost({
      buildDir: join(dir, 'build'),
      cloudbasercPath: FIXTURE_CLOUDBASERC,
      env: {},
      log: () => undefined,
      base64Share: 1,
    });
    try {
      const text = '{"id":"EV-1","text":"微信支付 ✓"}';
      const res = await fetch(`${b64Host.url}/hook?mode=raw`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: text,
      });
      assert.equal(res.headers.get('x-was-base64'), 'true');
      assert.equal(Buffer.from(await res.arrayBuffer()).toString('utf8'), text);
    } finally {
      await b64Host.close();
    }
    await assert.rejects(
      startFunctionHost({
        buildDir: join(dir, 'build'),
        cloudbasercPath: FIXTURE_CLOUDBASERC,
        env: {},
        base64Share: 1.5,
      }),
      /base64Share must be a number from 0 to 1/,
    );
  });
});
