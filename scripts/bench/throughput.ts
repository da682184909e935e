// Notify throughput (docs/numbers.md#withdrawn): `/pay/notify` through the host against a bare node:http
// server doing the same work against the same emulator, in alternating rounds of the same run, with
// autocannon (50 connections, 127.0.0.1 only). Every request is a distinct, validly signed and encrypted
// TRANSACTION.SUCCESS for its own NOTPAY order, so each one performs the real NOTPAY → SUCCESS
// transition; afterwards the orders are counted to prove the work happened. The verify+decrypt-only
// floor is reported for reference.
import { spawn, type ChildProcess } from 'node:child_process';
import { createPrivateKey, createSecretKey, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { buildFunctions } from '../build';
import { ensureLocalData, type LocalData } from '../../local/setup/local-data';
import { openLocalDatabase, type LocalDatabase } from '../../local/cloudbase/sdk-env';
import { buildTestNotification, rfc3339China } from '../../shared/wxpay/v3/testing';
import { perRequest, treeCpu } from './process-cpu';
import type { BenchResult } from './types';

const root = resolve(__dirname, '..', '..');

interface AutocannonResult {
  requests: { average: number; total: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
interface AutocannonInstance {
  stop(): void;
  on(event: 'response', listener: () => void): void;
}
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: Error | null, res: AutocannonResult) => void,
) => AutocannonInstance;
// autocannon ships no types; this is the part used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface ThroughputOptions {
  connections?: number;
  /** Requests per measured run (each side, each round). */
  requests?: number;
  rounds?: number;
  /**
   * Warm-up calls before measuring: each side runs until its CPU per request stops falling. Every
   * instance is a process with its own JIT, which keeps getting cheaper per call for its first ~2,500
   * calls (measured per process from /proc), so the host gets that many per instance; the bare
   * server is one process.
   */
  warmupHost?: number;
  warmupBare?: number;
  /** Hard bound of one load run. */
  maxSecondsPerRun?: number;
  buildDir?: string;
  workDir?: string;
  /**
   * Bound of the host's payNotify pool. On a 2-core machine 32 instances (the host's default) spend
   * the run cold-starting and context-switching, and every extra instance needs its own JIT warm-up;
   * 4 keep both cores busy while the queue builds up in front of them.
   */
  hostInstances?: number;
}

interface Note {
  body: string;
  headers: Record<string, string>;
}

interface Child {
  proc: ChildProcess;
  url: string;
}

function startChild(args: string[], env: Record<string, string>): Promise<Child> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'throughput-servers.ts'), ...args],
    {
      cwd: root,
      env: { ...process.env, ...env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${args[0]} did not start within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        res({ proc, url: line.slice(6).trim() });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${args[0]} exited with ${code}: ${stderr}`));
    });
  });
}

function stopChild(c: Child | undefined): Promise<void> {
  if (!c || c.proc.exitCode !== null) return Promise.resolve();
  return new Promise((res) => {
    c.proc.removeAllListeners('exit');
    c.proc.once('exit', () => res());
    c.proc.kill('SIGTERM');
    setTimeout(() => {
      if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
    }, 5000).unref();
  });
}

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** `n` NOTPAY orders tagged `batch` and one signed, encrypted payment notification for each. */
export async function prepareBatch(
  db: LocalDatabase,
  local: LocalData,
  batch: string,
  n: number,
): Promise<Note[]> {
  const env = local.env;
  const privateKey = createPrivateKey(local.keys.publicKeyPrivate);
  const apiV3Key = createSecretKey(Buffer.from(env.WXPAY_APIV3_KEY, 'utf8'));
  const now = new Date();
  const orders = Array.from({ length: n }, (_, i) => ({
    _id: `${batch}${String(i).padStart(6, '0')}`,
    openid: `oBench${batch}${i % 97}`,
    appid: env.WX_APPID,
    items: [{ productId: 'bench', name: 'bench', priceFen: 100 + (i % 50), quantity: 1 }],
    amountFen: 100 + (i % 50),
    description: 'bench',
    status: 'NOTPAY',
    refundedFen: 0,
    refundingFen: 0,
    settledRefundNos: [],
    version: 1,
    createdAt: now,
    updatedAt: now,
    apiVersion: 'v3',
    benchBatch: batch,
  }));
  // one insert per 500 orders: seeding is not what is measured
  const chunks = Array.from({ length: Math.ceil(n / 500) }, (_, i) => orders.slice(i * 500, i * 500 + 500));
  await pool(chunks, 2, (chunk) => db.collection('orders').add(chunk as never));
  return orders.map((o) => {
    const n = buildTestNotification({
      privateKey,
      serial: env.WXPAY_PUBLIC_KEY_ID,
      apiV3Key,
      eventType: 'TRANSACTION.SUCCESS',
      resource: {
        appid: env.WX_APPID,
        mchid: env.WXPAY_MCHID,
        out_trade_no: o._id,
        transaction_id: `42000${randomBytes(11).toString('hex')}`.slice(0, 28),
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        bank_type: 'OTHERS',
        success_time: rfc3339China(Date.now()),
        payer: { openid: o.openid },
        amount: { total: o.amountFen, payer_total: o.amountFen, currency: 'CNY', payer_currency: 'CNY' },
      },
    });
    return { body: n.body, headers: { 'content-type': 'application/json', ...n.headers } };
  });
}

interface Run {
  rps: number;
  errors: number;
  non2xx: number;
  total: number;
}

/** CPU ms per request of each process taking part in a run (undefined off Linux). */
interface CpuPerRequest {
  /** The host process or the bare server. */
  server: number;
  /** The host's function instances (0 for the bare server). */
  instances: number;
  emulator: number;
  /** autocannon, in this process. */
  load: number;
}

function load(url: string, notes: Note[], connections: number, maxSeconds: number): Promise<Run> {
  let i = 0;
  // autocannon ends a fixed-amount run on its 1-second tick, so its duration overstates the time
  // taken; the clock runs from the start to the last response instead
  const started = performance.now();
  let last = started;
  return new Promise((res, rej) => {
    let instance: AutocannonInstance | undefined;
    const guard = setTimeout(() => instance?.stop(), maxSeconds * 1000);
    instance = autocannon(
      {
        url: `${url}/pay/notify`,
        method: 'POST',
        connections,
        amount: notes.length,
        timeout: 30,
        requests: [
          {
            // one distinct notification per request, shared across connections
            setupRequest: (req: Record<string, unknown>) => {
              const note = notes[i++ % notes.length];
              return { ...req, method: 'POST', body: note.body, headers: note.headers };
            },
          },
        ],
      },
      (err, r) => {
        clearTimeout(guard);
        if (err) return rej(err);
        const seconds = Math.max(last - started, 1) / 1000;
        res({
          rps: r.requests.total / seconds,
          errors: r.errors + r.timeouts,
          non2xx: r.non2xx,
          total: r.requests.total,
        });
      },
    );
    instance.on('response', () => {
      last = performance.now();
    });
  });
}

async function successCount(db: LocalDatabase, batch: string): Promise<number> {
  const r = (await db.collection('orders').where({ benchBatch: batch, status: 'SUCCESS' }).count()) as {
    total: number;
  };
  return r.total;
}

function medianCpu(runs: Array<{ cpu?: CpuPerRequest }>): CpuPerRequest | undefined {
  const cpus = runs.map((r) => r.cpu);
  if (cpus.length === 0 || cpus.some((c) => c === undefined)) return undefined;
  const of = (k: keyof CpuPerRequest) => median(cpus.map((c) => c![k]));
  return { server: of('server'), instances: of('instances'), emulator: of('emulator'), load: of('load') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function runThroughputBench(opts: ThroughputOptions = {}): Promise<BenchResult[]> {
  const connections = opts.connections ?? 50;
  const requests = opts.requests ?? 1500;
  const rounds = opts.rounds ?? 3;
  const maxSeconds = opts.maxSecondsPerRun ?? 60;
  const workDir = opts.workDir ?? join(root, 'build', 'bench');
  const buildDir = opts.buildDir ?? join(workDir, 'functions');
  if (!existsSync(join(buildDir, 'payNotify', 'index.js'))) await buildFunctions(buildDir);
  const local = await ensureLocalData(join(workDir, 'local-data'));
  const benchEnv = { BENCH_ENV: JSON.stringify(local.env) };
  const hostInstances = opts.hostInstances ?? 4;
  const warmupHost = opts.warmupHost ?? 2500 * hostInstances;
  const warmupBare = opts.warmupBare ?? 2500;

  const children: Child[] = [];
  try {
    const emu = await startChild(['emulator'], {});
    children.push(emu);
    const [host, bare, floor] = await Promise.all([
      startChild(['host', emu.url, buildDir], { ...benchEnv, BENCH_HOST_INSTANCES: String(hostInstances) }),
      startChild(['bare', emu.url], benchEnv),
      startChild(['floor'], benchEnv),
    ]);
    children.push(host, bare, floor);
    const db = openLocalDatabase(emu.url);

    let seq = 0;
    const measure = async (target: Child, n: number, conns = connections) => {
      const batch = `b${++seq}x`;
      const notes = await prepareBatch(db, local, batch, n);
      const before = {
        target: treeCpu(target.proc.pid!),
        emu: treeCpu(emu.proc.pid!),
        load: process.cpuUsage(),
      };
      const run = await load(target.url, notes, conns, maxSeconds);
      const loadUs = process.cpuUsage(before.load);
      const t = perRequest(before.target, treeCpu(target.proc.pid!), run.total);
      const e = perRequest(before.emu, treeCpu(emu.proc.pid!), run.total);
      const cpu: CpuPerRequest | undefined =
        t && e
          ? {
              server: t.self,
              instances: t.children,
              emulator: e.self,
              load: (loadUs.user + loadUs.system) / 1000 / run.total,
            }
          : undefined;
      const applied = await successCount(db, batch);
      return { ...run, applied, notes, cpu };
    };
    // Warm-up: the host starts its instances (cold starts) and each instance's JIT warms up; the bare
    // server warms its one process the same way.
    await measure(host, warmupHost);
    await measure(bare, warmupBare);

    type Measured = Run & { applied: number; cpu?: CpuPerRequest };
    const hostRuns: Measured[] = [];
    const bareRuns: Measured[] = [];
    const floorRuns: Run[] = [];
    for (let r = 0; r < rounds; r++) {
      // ABBA order so that drift within a round favours neither side
      const first = r % 2 === 0 ? 'host' : 'bare';
      for (const side of first === 'host' ? ['host', 'bare'] : ['bare', 'host']) {
        const m = await measure(side === 'host' ? host : bare, requests);
        (side === 'host' ? hostRuns : bareRuns).push(m);
        if (side === 'bare') floorRuns.push(await load(floor.url, m.notes, connections, maxSeconds));
      }
    }
    // Reference: the same comparison with only as many requests in flight as the host has instances,
    // which isolates the cost of the host path from the benefit of 50 concurrent requests in one process.
    const eqHost = await measure(host, Math.ceil(requests / 2), hostInstances);
    const eqBare = await measure(bare, Math.ceil(requests / 2), hostInstances);
    const ratios = hostRuns.map((h, i) => h.rps / bareRuns[i].rps);
    const ratio = median(ratios);
    const hostRps = median(hostRuns.map((r) => r.rps));
    const bareRps = median(bareRuns.map((r) => r.rps));
    const floorRps = median(floorRuns.map((r) => r.rps));
    const measured = [...hostRuns, ...bareRuns, eqHost, eqBare];
    const failures = measured.reduce((n, r) => n + r.errors + r.non2xx, 0);
    const floorFailures = floorRuns.reduce((n, r) => n + r.errors + r.non2xx, 0);
    const notApplied = measured.reduce((n, r) => n + (r.total - r.applied), 0);
    const ok = failures === 0 && notApplied === 0;
    const results: BenchResult[] = [
      {
        name: 'notify throughput (host vs bare node:http)',
        ratio: ok ? ratio : 0,
        target: 0.8,
        detail:
          `${ok ? '' : `FAILED (${failures} errors/non-2xx, ${notApplied} not applied; measured ratio ${ratio.toFixed(2)}) — `}` +
          `host ${hostRps.toFixed(0)} req/s vs bare ${bareRps.toFixed(0)} req/s; median of ${rounds} rounds × ${requests} notifications, ${connections} connections, host pool ≤ ${hostInstances} instances; every order applied, 0 errors`,
      },
      {
        name: `notify throughput, ${hostInstances} in flight (reference)`,
        ratio: eqHost.rps / eqBare.rps,
        target: 0,
        detail: `host ${eqHost.rps.toFixed(0)} req/s vs bare ${eqBare.rps.toFixed(0)} req/s with ${hostInstances} connections = the host's instances; one run × ${eqHost.total}`,
      },
      {
        name: 'notify floor: verify+decrypt only (reference)',
        ratio: hostRps / floorRps,
        target: 0,
        detail: `floor ${floorRps.toFixed(0)} req/s${floorFailures ? ` (${floorFailures} errors)` : ''}; host reaches ${((hostRps / floorRps) * 100).toFixed(0)}% of it, bare ${((bareRps / floorRps) * 100).toFixed(0)}%`,
      },
    ];
    const hostCpu = medianCpu(hostRuns);
    const bareCpu = medianCpu(bareRuns);
    if (hostCpu && bareCpu) {
      const total = (c: CpuPerRequest) => c.server + c.instances + c.emulator + c.load;
      results.push({
        name: 'notify CPU per request, bare / host (reference)',
        ratio: total(bareCpu) / total(hostCpu),
        target: 0,
        detail:
          `ms of CPU per notification, all processes (median of the ${rounds} rounds): ` +
          `host path ${total(hostCpu).toFixed(2)} = host ${hostCpu.server.toFixed(2)} + instances ${hostCpu.instances.toFixed(2)} + emulator ${hostCpu.emulator.toFixed(2)} + load ${hostCpu.load.toFixed(2)}; ` +
          `bare ${total(bareCpu).toFixed(2)} = server ${bareCpu.server.toFixed(2)} + emulator ${bareCpu.emulator.toFixed(2)} + load ${bareCpu.load.toFixed(2)}`,
      });
    }
    return results;
  } finally {
    await Promise.all(children.map((c) => stopChild(c)));
  }
}
