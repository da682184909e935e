// Cold start, as a user waits for it (issue 16): a fresh process loads a function and completes its
// first real invocation against the local stack — login with a fresh code, createPayment, orders.get
// asking WeChat about an unpaid order, payNotify and refundNotify with a notification the simulator
// really sent, refund of a paid order, reconcile on its timer — and exits. Per function, in the same
// run and alternating, median of ≥ 15 fresh processes each:
//   the deployed bundle, wall time from spawn to exit, against an empty `node -e 0` (the floor no
//   JavaScript can beat; target ≤ 1.5×);
//   the same against the function compiled with its packages left in node_modules and the classic
//   eager prelude of a CloudBase function (wx-server-sdk, axios, jsonwebtoken, xml2js), timed inside
//   the process (load + first invocation; node's own start is the same for both; target ≤ 0.2×);
//   and, for reference, the node-sdk floor: a bundle that only loads the platform's SDK and reads one
//   document, the least any function that touches the database does.
// Over 250 lines because each function's first real invocation needs its own setup (a login code, a cart,
// a notification the simulator really sent).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { functionSdkEnv } from '../../local/cloudbase/sdk-env';
import { bundleFunction } from '../build';
import { hostOrder, newUser, postJson, type BenchStack } from './stack';
import { median } from './stats';
import type { BenchResult } from './types';

const root = resolve(__dirname, '..', '..');

export const FLOOR_MULTIPLE = 1.5;
export const UNBUNDLED_FRACTION = 0.2;

const PRELUDE = [
  'const __cloud = require("wx-server-sdk");',
  '__cloud.init({ env: __cloud.DYNAMIC_CURRENT_ENV });',
  'require("axios"); require("jsonwebtoken"); require("xml2js");',
].join('\n');

/** What the host's instance runner does for one invocation, in a fresh process; then it exits. */
export const PROBE = `
const t0 = performance.now();
const spec = JSON.parse(process.argv[2]);
for (const [k, v] of Object.entries(spec.identity)) process.env[k] = v;
process.env.WX_CONTEXT_KEYS = Object.keys(spec.identity).join(',');
process.env.TCB_SOURCE = spec.source;
const m = require(process.argv[1]);
Promise.resolve(m.main(spec.event, spec.context)).then(
  (result) => { process.stdout.write('\\n@@bench ' + JSON.stringify({ ms: performance.now() - t0, result }) + '\\n'); process.exit(0); },
  (e) => { process.stderr.write(String(e && e.message)); process.exit(2); },
);
`;

interface Spec {
  event: unknown;
  identity: Record<string, string>;
  source: string;
  context: Record<string, unknown>;
}

interface Fixture {
  spec: Spec;
  check(result: unknown): boolean;
}

interface Timing {
  wallMs: number;
  inProcessMs: number;
}

export function runProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ wallMs: number; stdout: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, args, { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const guard = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      const wallMs = performance.now() - t0;
      clearTimeout(guard);
      // stdout is a pipe, written synchronously before exit; 'close' follows with the rest
      p.on('close', () =>
        code === 0
          ? res({ wallMs, stdout })
          : rej(new Error(`${args.slice(0, 2).join(' ')} exited ${code}: ${stderr.slice(-500)}`)),
      );
    });
  });
}

const ok2xx = (r: unknown) => {
  const s = (r as { statusCode?: number } | null)?.statusCode;
  return typeof s === 'number' && s >= 200 && s < 300;
};
const okData = (r: unknown, pred: (d: Record<string, unknown>) => boolean) => {
  const x = r as { ok?: boolean; data?: Record<string, unknown> } | null;
  return x?.ok === true && !!x.data && pred(x.data);
};
const trigger = (path: string, note: { body: string; headers: Record<string, string> }) => ({
  path,
  httpMethod: 'POST',
  headers: note.headers,
  queryStringParameters: {},
  body: note.body,
  isBase64Encoded: false,
});

/** Fixtures for each function: each call prepares what one fresh process will consume. */
export function fixtures(stack: BenchStack): Record<string, () => Promise<Fixture>> {
  const appid = stack.env.WX_APPID;
  let buyer = '';
  let unpaid = '';
  let paySeen = 0;
  let refundSeen = 0;
  const user = async () => (buyer ||= await newUser(stack));
  const as = (openid: string) => ({ WX_OPENID: openid, WX_APPID: appid });
  const context = (name: string) => ({
    request_id: `bench-${name}-${Date.now()}`,
    function_name: name,
    time_limit_in_ms: 20_000,
    memory_limit_in_mb: 256,
    namespace: stack.env.TCB_ENV ?? '',
  });
  /**
   * An order paid at the simulator; its notification is returned, not yet applied anywhere. A buyer of
   * its own each time: one buyer would meet the per-user limits (docs/numbers.md#per-user-limits).
   */
  const paidNote = async () => {
    const buyer = await newUser(stack);
    const orderId = await hostOrder(stack, buyer);
    const r = await postJson(`${stack.sim.url}/sim/pay-order`, { outTradeNo: orderId });
    if (r.status !== 200) throw new Error(`bench: /sim/pay-order answered ${r.status}`);
    await stack.inbox.waitFor('pay', ++paySeen);
    return { orderId, buyer, note: stack.inbox.pay[paySeen - 1] };
  };
  /** An order paid and recorded as SUCCESS (its notification applied through the host). */
  const paidOrder = async () => {
    const { orderId, buyer, note } = await paidNote();
    const r = await fetch(`${stack.host.url}/pay/notify`, {
      method: 'POST',
      body: note.body,
      headers: note.headers,
    });
    if (r.status >= 300) throw new Error(`bench: applying a payment through the host answered ${r.status}`);
    return { orderId, buyer };
  };
  const made: Record<string, () => Promise<Fixture>> = {
    login: async () => {
      const openid = await newUser(stack);
      const r = await postJson<{ code: string }>(`${stack.sim.url}/sim/login-codes`, { openid });
      return {
        spec: { event: { code: r.json.code }, identity: {}, source: 'wx_client', context: context('login') },
        check: (x) => okData(x, (d) => typeof d.token === 'string'),
      };
    },
    createPayment: async () => ({
      spec: {
        event: { items: [{ productId: 'coffee-latte', quantity: 1 }] },
        identity: as(await newUser(stack)),
        source: 'wx_client',
        context: context('createPayment'),
      },
      check: (x) => okData(x, (d) => typeof d.orderId === 'string'),
    }),
    orders: async () => {
      unpaid ||= await hostOrder(stack, await user());
      return {
        spec: {
          event: { action: 'get', orderId: unpaid },
          identity: as(await user()),
          source: 'wx_client',
          context: context('orders'),
        },
        check: (x) => okData(x, (d) => d.status === 'NOTPAY'),
      };
    },
    payNotify: async () => {
      const { note } = await paidNote();
      return {
        spec: {
          event: trigger('/pay/notify', note),
          identity: {},
          source: 'wx_http',
          context: context('payNotify'),
        },
        check: ok2xx,
      };
    },
    refund: async () => {
      const { orderId, buyer } = await paidOrder();
      return {
        spec: {
          event: { orderId },
          identity: as(buyer),
          source: 'wx_client',
          context: context('refund'),
        },
        check: (x) => okData(x, (d) => typeof d.refundId === 'string'),
      };
    },
    refundNotify: async () => {
      const { orderId, buyer } = await paidOrder();
      const r = await postJson(
        `${stack.host.url}/functions/refund`,
        { orderId },
        { 'x-wx-openid': buyer, 'x-wx-appid': appid },
      );
      if (r.status !== 200) throw new Error(`bench: refund through the host answered ${r.status}`);
      // the cold refund probes send theirs here too: take the next one in order, whichever refund it is
      await stack.inbox.waitFor('refund', ++refundSeen);
      const note = stack.inbox.refund[refundSeen - 1];
      return {
        spec: {
          event: trigger('/refund/notify', note),
          identity: {},
          source: 'wx_http',
          context: context('refundNotify'),
        },
        check: ok2xx,
      };
    },
    reconcile: () =>
      Promise.resolve({
        spec: {
          event: {
            Type: 'Timer',
            TriggerName: 'every5min',
            Time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
            Message: '',
          },
          identity: {},
          source: 'scf',
          context: context('reconcile'),
        },
        check: (x: unknown) => !!x && typeof x === 'object' && !('error' in x),
      }),
  };
  // The platform's `environ` (the caller's identity, the env, TCB_SOURCE), as the host builds it
  // (local/host/invocation-context.ts): reconcile, for one, tells its timer by TCB_SOURCE there.
  const env = stack.env.TCB_ENV ?? '';
  return Object.fromEntries(
    Object.entries(made).map(([name, make]) => [
      name,
      async () => {
        const f = await make();
        const vars = { ...f.spec.identity, TCB_ENV: env, SCF_NAMESPACE: env, TCB_SOURCE: f.spec.source };
        f.spec.context.environ = Object.entries(vars)
          .map(([k, v]) => `${k}=${v};`)
          .join('');
        return f;
      },
    ]),
  );
}

/**
 * One fresh process running PROBE on `entry`: spawn to exit, and load + first invocation inside the
 * process, once `check` accepts what the invocation returned.
 */
async function probeOnce(
  entry: string,
  spec: Spec,
  env: Record<string, string>,
  check: (result: unknown) => boolean,
  label: string,
): Promise<Timing> {
  const { wallMs, stdout } = await runProcess(['-e', PROBE, entry, JSON.stringify(spec)], env);
  // the function may log to stdout too; the probe's answer is its own marked line
  const line = stdout.split('\n').find((l) => l.startsWith('@@bench '));
  if (!line) throw new Error(`bench: cold ${label} printed no result: ${stdout.slice(-300)}`);
  const out = JSON.parse(line.slice(8)) as { ms: number; result: unknown };
  if (!check(out.result))
    throw new Error(
      `bench: cold ${label} (${entry}) did not complete its invocation: ${JSON.stringify(out.result).slice(0, 300)}`,
    );
  return { wallMs, inProcessMs: out.ms };
}

/** The node-sdk floor: scripts/bench/sdk-floor-function.ts bundled like a function, and its probe. */
async function sdkFloorProbe(env: Record<string, string>, dir: string): Promise<() => Promise<Timing>> {
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, 'index.js');
  await bundleFunction(join(root, 'scripts', 'bench', 'sdk-floor-function.ts'), entry);
  const spec: Spec = { event: {}, identity: {}, source: 'wx_client', context: {} };
  const readOne = (r: unknown) => (r as { found?: number } | null)?.found === 1;
  return () => probeOnce(entry, spec, env, readOne, 'node-sdk floor');
}

async function buildUnbundled(name: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(root, 'cloudfunctions', name, 'index.ts')],
    outfile: join(dir, 'index.js'),
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    banner: { js: PRELUDE },
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, main: 'index.js' }));
  return join(dir, 'index.js');
}

export interface ColdOptions {
  runs?: number;
  functions?: string[];
}

export async function runColdBench(
  stack: BenchStack,
  buildDir: string,
  workDir: string,
  names: string[],
  opts: ColdOptions = {},
): Promise<BenchResult[]> {
  const runs = opts.runs ?? 15;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? workDir,
    ...stack.env,
    ...functionSdkEnv(stack.emu.url),
  };
  const make = fixtures(stack);
  const results: BenchResult[] = [];
  const probe = async (entry: string, name: string): Promise<Timing> => {
    const f = await make[name]();
    return probeOnce(entry, f.spec, env, (r) => f.check(r), name);
  };
  // Inside the repository, whatever workDir is, so that require() finds the packages in node_modules.
  const unbundledRoot = join(root, 'build', `bench-unbundled-${process.pid}`);
  try {
    const sdkFloor = await sdkFloorProbe(env, join(workDir, 'sdk-floor'));
    await sdkFloor();
    const allEmpty: number[] = [];
    const allSdk: Timing[] = [];
    for (const name of (opts.functions ?? names).filter((n) => make[n])) {
      const bundled = join(buildDir, name, 'index.js');
      const unbundled = await buildUnbundled(name, join(unbundledRoot, name));
      // warm the file cache for both
      await probe(bundled, name);
      await probe(unbundled, name);
      const ours: Timing[] = [];
      const base: Timing[] = [];
      const empty: number[] = [];
      const sdk: Timing[] = [];
      for (let i = 0; i < runs; i++) {
        // rotate the order so that drift favours none of the three
        const steps = [
          async () => empty.push((await runProcess(['-e', '0'], env)).wallMs),
          async () => ours.push(await probe(bundled, name)),
          async () => base.push(await probe(unbundled, name)),
          async () => sdk.push(await sdkFloor()),
        ];
        for (let s = 0; s < steps.length; s++) await steps[(s + i) % steps.length]();
      }
      const oWall = median(ours.map((t) => t.wallMs));
      const oIn = median(ours.map((t) => t.inProcessMs));
      const bIn = median(base.map((t) => t.inProcessMs));
      const fl = median(empty);
      const sdkMs = median(sdk.map((t) => t.wallMs));
      const sdkIn = median(sdk.map((t) => t.inProcessMs));
      allEmpty.push(...empty);
      allSdk.push(...sdk);
      results.push(
        {
          name: `cold start: ${name}`,
          ratio: fl / oWall,
          target: 1 / FLOOR_MULTIPLE,
          detail: `spawn to exit after the first real invocation ${oWall.toFixed(0)} ms = ${(oWall / fl).toFixed(2)}× an empty node -e 0 (${fl.toFixed(0)} ms; target ≤ ${FLOOR_MULTIPLE}×) = ${(oWall / sdkMs).toFixed(2)}× the node-sdk floor (${sdkMs.toFixed(0)} ms); median of ${runs} fresh processes each`,
        },
        {
          name: `cold start: ${name} vs node_modules`,
          ratio: bIn / oIn,
          target: 1 / UNBUNDLED_FRACTION,
          detail: `load + first invocation inside the process: bundle ${oIn.toFixed(0)} ms vs packages from node_modules with the classic prelude ${bIn.toFixed(0)} ms = ${(oIn / bIn).toFixed(2)}× (target ≤ ${UNBUNDLED_FRACTION}×); the node-sdk floor's ${sdkIn.toFixed(0)} ms alone is ${(sdkIn / bIn).toFixed(2)}×; median of ${runs}`,
        },
      );
    }
    if (allSdk.length > 0) {
      const e = median(allEmpty);
      const f = median(allSdk.map((t) => t.wallMs));
      const fIn = median(allSdk.map((t) => t.inProcessMs));
      results.unshift({
        name: 'cold start: node-sdk floor (one database read)',
        ratio: e / f,
        target: 0,
        detail: `reference: a bundle that only loads @cloudbase/node-sdk as a deployed function must and reads one document (scripts/bench/sdk-floor-function.ts), spawn to exit ${f.toFixed(0)} ms = ${(f / e).toFixed(2)}× an empty node -e 0 (${e.toFixed(0)} ms), of which load + first read inside the process ${fIn.toFixed(0)} ms: no function that touches the database starts faster with this SDK; median of ${allSdk.length}, interleaved with every function's runs`,
      });
    }
  } finally {
    rmSync(unbundledRoot, { recursive: true, force: true });
  }
  return results;
}
