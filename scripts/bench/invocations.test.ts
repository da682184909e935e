// Keeps the invocation benches runnable and honest, on a very short run against the real local stack:
// every row is produced, and a row only gets a ratio when both sides did the work (a warm answer that
// did not do it makes the ratio 0; a cold process whose first invocation did not complete stops the
// bench). The bare baselines really do the functions' work (checked in the database). Speed is the
// bench's to report: no number here is compared with a target.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceEnv } from '../../local/host/instance-env';
import { buildFunctions } from '../build';
import { bareCallables } from './bare-callables';
import { runColdBench } from './cold';
import { postJson, startBenchStack, newUser, type BenchStack } from './stack';
import { runWarmBench, writeNoopBundle } from './warm';

describe('invocation benches (short run on the local stack)', () => {
  let dir: string;
  let buildDir: string;
  let stack: BenchStack;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-inv-'));
    buildDir = join(dir, 'functions');
    await buildFunctions(buildDir);
    writeNoopBundle(buildDir);
    stack = await startBenchStack(dir, buildDir);
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the bare createPayment and orders.get do the real work: an order priced from the catalog, a prepay at the simulator, read back', async () => {
    const openid = await newUser(stack);
    const headers = { 'x-wx-openid': openid };
    const created = await postJson<{
      result: { ok: boolean; data: { orderId: string; amountFen: number; payment: { package: string } } };
    }>(
      `${stack.bare.url}/functions/createPayment`,
      { items: [{ productId: 'coffee-latte', quantity: 2 }] },
      headers,
    );
    assert.equal(created.status, 200);
    const { orderId, amountFen, payment } = created.json.result.data;
    const stored = (await stack.db.collection('orders').where({ _id: orderId }).get()).data[0] as {
      amountFen: number;
      prepayId: string;
      version: number;
    };
    assert.equal(stored.amountFen, amountFen);
    assert.equal(payment.package, `prepay_id=${stored.prepayId}`);
    assert.equal(stored.version, 1);
    const sim = (await (await fetch(`${stack.sim.url}/sim/orders?openid=${openid}`)).json()) as Array<{
      outTradeNo: string;
    }>;
    assert.ok(
      sim.some((o) => o.outTradeNo === orderId),
      'the simulator holds the prepay',
    );
    const got = await postJson<{ result: { data: { status: string } } }>(
      `${stack.bare.url}/functions/orders`,
      { orderId },
      headers,
    );
    assert.equal(got.json.result.data.status, 'NOTPAY');
    assert.ok(Number(got.headers.get('x-bench-ms')) > 0);
  });

  test('the bare handlers over bare node:http (BENCH_BARE_HTTP=node:http) do the same work', async () => {
    const openid = await newUser(stack);
    const bare = bareCallables(stack.env, stack.db, 'node:http');
    try {
      const { orderId, payment } = await bare.createPayment(openid, {
        items: [{ productId: 'cake-cheese', quantity: 1 }],
      });
      const stored = (await stack.db.collection('orders').where({ _id: orderId }).get()).data[0] as {
        prepayId: string;
      };
      assert.equal(payment.package, `prepay_id=${stored.prepayId}`);
      const got = (await bare.ordersGet(openid, { orderId })) as { status?: string };
      assert.equal(got.status, 'NOTPAY');
    } finally {
      bare.close();
    }
  });

  test('warm rows: payNotify, createPayment, orders.get against the bare handlers, and the host overhead', async () => {
    const barePids = new Set<number>();
    const freshBare = stack.freshBare.bind(stack);
    stack.freshBare = async (functionName) => {
      await freshBare(functionName);
      barePids.add(stack.bare.proc.pid!);
      // and the heap bound of the function's configured memory (cloudbaserc.json: 256 MB)
      const argv = readFileSync(`/proc/${stack.bare.proc.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(argv.includes('--max-old-space-size=256'), `${functionName}: ${argv.join(' ')}`);
      // the baseline's process sees the platform's variables a function instance sees
      const environ = readFileSync(`/proc/${stack.bare.proc.pid}/environ`, 'utf8').split('\0');
      const platform = instanceEnv({
        functionName: 'bare',
        envId: 'local',
        configured: stack.env,
        emulatorUrl: stack.emu.url,
      });
      for (const k of ['TCB_CONTEXT_KEYS', 'TCB_CONTEXT_CNFG', 'TENCENTCLOUD_SESSIONTOKEN', 'SCF_NAMESPACE'])
        assert.ok(environ.includes(`${k}=${platform[k]}`), `the bare process has ${k}`);
    };
    const rows = await runWarmBench(stack, { perRound: 4, rounds: 1, warmup: 2 });
    stack.freshBare = freshBare;
    assert.equal(barePids.size, 3, 'each warm row starts a new bare process');
    assert.deepEqual(
      rows.map((r) => [r.name, r.target]),
      [
        ['warm invocation: payNotify', 0.9],
        ['warm invocation: createPayment', 0.9],
        ['warm invocation: orders.get', 0.9],
        ['host overhead per invocation', 0],
      ],
    );
    for (const r of rows.slice(0, 3)) {
      assert.doesNotMatch(r.detail, /FAILED/, r.detail);
      // a ratio only exists when every host invocation record carried the instance's own times
      assert.ok(r.ratio > 0 && Number.isFinite(r.ratio), `${r.name}: both sides did the work`);
      assert.match(r.detail, /handler called to result/);
      assert.doesNotMatch(r.detail, /NaN/, r.detail);
    }
    // /proc counts CPU in 10 ms ticks, too coarse for a few no-op calls: only the figures' presence here
    assert.doesNotMatch(rows[3].detail, /NaN/, rows[3].detail);
  });

  test('cold rows: a fresh process completes a real first invocation, bundled and from node_modules', async () => {
    const rows = await runColdBench(stack, buildDir, dir, ['payNotify', 'login'], { runs: 1 });
    assert.deepEqual(
      rows.map((r) => r.name),
      [
        'cold start: node-sdk floor (one database read)',
        'cold start: payNotify',
        'cold start: payNotify vs node_modules',
        'cold start: login',
        'cold start: login vs node_modules',
      ],
    );
    for (const r of rows) assert.ok(Number.isFinite(r.ratio) && r.ratio > 0, r.detail);
    assert.equal(rows[0].target, 0, 'the node-sdk floor is a reference row');
    assert.match(rows[1].detail, /× the node-sdk floor \(\d+ ms\)/);
  });
});
