// Notification storm (issue 16 item 5): the WeChat simulator delivers 200 concurrent copies of one
// payment notification to `/pay/notify` of a fresh local stack — the host as `npm start` runs it, with
// no warm payNotify instance — and the row reports how many copies were answered 2xx within WeChat's
// 5 s (target: all of them), the latency spread the simulator measured, and how many were applied
// (must be exactly one). The simulator, not this script, signs and times the copies, as WeChat would.
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack';
import type { BenchResult } from './types';

/** WeChat gives up on a notification answer after 5 s. */
const WECHAT_TIMEOUT_MS = 5000;

interface Attempt {
  status: number;
  durationMs: number;
  kind: string;
  error?: string;
}

interface Delivery {
  state: string;
  attempts: Attempt[];
}

export interface StormOptions {
  copies?: number;
  /** Host options as a test or an experiment wants them; default: what npm start uses. */
  host?: LocalStackOptions['host'];
}

export interface StormFigures {
  copies: number;
  answeredInTime: number;
  applied: number;
  transitions: number;
  p50: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what} → ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`storm bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One storm against a running stack whose payNotify has no instance yet. */
export async function stormOnce(stack: LocalStack, copies: number): Promise<StormFigures> {
  const sim = (method: string, path: string, body?: unknown) =>
    fetch(`${stack.simUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const user = await json<{ openid: string; appid: string }>(
    await sim('POST', '/sim/users', { appid: stack.env.WX_APPID }),
    'POST /sim/users',
  );
  const created = await stack.host.callFunction(
    'createPayment',
    { items: [{ productId: 'coffee-latte', quantity: 1 }] },
    { openid: user.openid, appid: user.appid },
  );
  const result = (created.ok ? created.result : undefined) as
    | { ok: true; data: { orderId: string; payment: Record<string, string> } }
    | { ok: false; error: unknown }
    | undefined;
  if (!result?.ok) throw new Error(`storm bench: createPayment failed: ${JSON.stringify(created)}`);
  const { orderId, payment } = result.data;
  // The scheduled delivery plus copies - 1 duplicates, all sent at once.
  await json(
    await sim('POST', '/sim/faults', { target: 'notify', kind: 'duplicate', count: copies - 1 }),
    'POST /sim/faults',
  );
  const dump = async (collection: string) =>
    json<Array<Record<string, unknown>>>(
      await fetch(`${stack.emuUrl}/emu/dump/${collection}`),
      `GET /emu/dump/${collection}`,
    );
  const versionOf = async () => Number((await dump('orders')).find((o) => o._id === orderId)?.version);
  const versionBefore = await versionOf();
  const payNotifyInvocations = () =>
    stack.host.invocations.recent().filter((r) => r.functionName === 'payNotify').length;
  const invocationsBefore = payNotifyInvocations();
  await json(
    await sim('POST', '/sim/pay', { openid: user.openid, ...payment, outcome: 'success' }),
    'POST /sim/pay',
  );
  const [delivery] = await waitFor(
    async () =>
      json<Delivery[]>(await sim('GET', `/sim/deliveries?outTradeNo=${orderId}`), 'GET /sim/deliveries'),
    (ds) => ds.length === 1 && ds[0].attempts.length >= copies,
    `${copies} answered copies`,
  );
  // The simulator stops waiting at 5 s; the invocations it gave up on still finish (and could apply).
  await waitFor(
    () => Promise.resolve(payNotifyInvocations() - invocationsBefore),
    (n) => n >= copies,
    `${copies} finished payNotify invocations`,
  );
  const storm = delivery.attempts.slice(0, copies);
  const statuses: Record<string, number> = {};
  for (const a of storm) {
    const key = a.status ? String(a.status) : (a.error ?? 'no answer');
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const answeredInTime = storm.filter(
    (a) => a.status >= 200 && a.status < 300 && a.durationMs <= WECHAT_TIMEOUT_MS,
  ).length;
  const latencies = storm.map((a) => a.durationMs).sort((x, y) => x - y);
  const records = (await dump('notifications')).filter((r) => r.outTradeNo === orderId);
  return {
    copies,
    answeredInTime,
    applied: records.filter((r) => r.outcome === 'applied').length,
    // Every change of an order bumps its version: one NOTPAY → SUCCESS transition adds one.
    transitions: (await versionOf()) - versionBefore,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? NaN,
    statuses,
  };
}

export async function runStormBench(opts: StormOptions = {}): Promise<BenchResult[]> {
  const copies = opts.copies ?? 200;
  const stack = await startLocalStack({
    inMemory: true,
    ports: { host: 0, wechatSim: 0, cloudbaseEmu: 0 },
    quiet: true,
    seed: true,
    // The storm meets no warm payNotify instance: every instance it uses starts during the storm.
    warmInstances: 0,
    ...(opts.host ? { host: opts.host } : {}),
  });
  try {
    const f = await stormOnce(stack, copies);
    const slow = stack.host.invocations.recent().filter((r) => r.functionName === 'payNotify');
    const cold = slow.filter((r) => r.cold).length;
    return [
      {
        name: `notification storm: ${copies} copies`,
        ratio: f.applied === 1 && f.transitions === 1 ? f.answeredInTime / copies : 0,
        target: 1,
        detail:
          `${f.answeredInTime}/${copies} answered 2xx within 5 s; latency p50 ${f.p50} ms, p99 ${f.p99} ms, ` +
          `max ${f.max} ms; applied ${f.applied} (order transitions ${f.transitions}); ` +
          `${cold} cold start(s); answers ${JSON.stringify(f.statuses)}`,
      },
    ];
  } finally {
    await stack.close();
  }
}

if (require.main === module) {
  runStormBench()
    .then((rs) => console.log(JSON.stringify(rs, null, 2)))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
