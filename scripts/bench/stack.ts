// The local stack as the invocation benches use it: emulator, WeChat simulator, function host and the
// bare baseline, each in its own process (servers.ts) so that /proc shows each one's CPU; plus, in
// this process, a receiver standing where WeChat Pay's notifications are sent, which keeps each real
// notification the simulator delivers so that a benchmark can hand it to a function later.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { openLocalDatabase, type LocalDatabase } from '../../local/cloudbase/sdk-env';
import { loadCloudbaserc } from '../../local/host/functions-config';
import { instanceEnv } from '../../local/host/instance-env';
import { seedDatabase } from '../../local/seed/seed';
import { ensureLocalData, type LocalData } from '../../local/setup/local-data';
import type { Note } from './notifications';

const root = resolve(__dirname, '..', '..');

export interface Child {
  proc: ChildProcess;
  url: string;
}

/** Node flags from a JSON array in an environment variable (e.g. `BENCH_HOST_NODE_ARGS='["--cpu-prof"]'`). */
export function nodeArgsFromEnv(variable: string): string[] {
  const raw = process.env[variable];
  return raw ? (JSON.parse(raw) as string[]) : [];
}

export function startChild(
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<Child> {
  const proc = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', join(__dirname, 'servers.ts'), ...args],
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

export function stopChild(c: Child | undefined): Promise<void> {
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

/** Where the simulator delivers notifications: each is kept, in order of arrival, per kind. */
export interface NotificationInbox {
  url: string;
  pay: Note[];
  refund: Note[];
  /** Waits until at least `count` notifications of `kind` have arrived (bounded). */
  waitFor(kind: 'pay' | 'refund', count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startInbox(): Promise<NotificationInbox> {
  const inbox = { pay: [] as Note[], refund: [] as Note[] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (k.startsWith('wechatpay-') || k === 'content-type') headers[k] = String(v);
      const kind = req.url?.startsWith('/refund') ? 'refund' : 'pay';
      inbox[kind].push({ body: Buffer.concat(chunks).toString('utf8'), headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    ...inbox,
    async waitFor(kind, count, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (inbox[kind].length < count) {
        if (Date.now() > until)
          throw new Error(`bench: ${count} ${kind} notification(s) expected, ${inbox[kind].length} arrived`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

export interface BenchStack {
  local: LocalData;
  /** The functions' variables: WeChat at the simulator, notifications to the inbox. */
  env: Record<string, string>;
  emu: Child;
  sim: Child;
  host: Child;
  /** The bare baseline: a plain process with the variables a function instance sees (instance-env.ts). */
  bare: Child;
  /**
   * Replaces the bare baseline with a new process, as new as the instance of the function a warm row
   * measures: a baseline that already served other rows would run code V8 has trained on them
   * (node-sdk, node:http) against an instance that has only seen its own function. Its heap is bounded
   * by the function's configured memory, as the instance's is (V8 sizes the young generation from it).
   */
  freshBare(functionName: string): Promise<void>;
  inbox: NotificationInbox;
  db: LocalDatabase;
  close(): Promise<void>;
}

export async function startBenchStack(workDir: string, buildDir: string): Promise<BenchStack> {
  const localDir = join(workDir, 'local-data');
  const local = await ensureLocalData(localDir);
  const children: Child[] = [];
  let inbox: NotificationInbox | undefined;
  const close = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
    await inbox?.close();
  };
  try {
    inbox = await startInbox();
    const [emu, sim] = await Promise.all([startChild(['emulator'], {}), startChild(['sim', localDir], {})]);
    children.push(emu, sim);
    const env: Record<string, string> = {
      ...local.env,
      WXPAY_BASE_URL: sim.url,
      WECHAT_API_BASE_URL: sim.url,
      WXPAY_NOTIFY_URL: `${inbox.url}/pay/notify`,
      WXPAY_REFUND_NOTIFY_URL: `${inbox.url}/refund/notify`,
    };
    const benchEnv = { BENCH_ENV: JSON.stringify(env) };
    // The same SDK does more per request with the platform's variables set (node-sdk reads its context
    // from them on every request): the baseline runs with them too, so that only the code differs.
    const platformEnv = instanceEnv({
      functionName: 'bare',
      envId: 'local',
      configured: env,
      emulatorUrl: emu.url,
    });
    const functions = loadCloudbaserc(join(root, 'cloudbaserc.json')).functions;
    const startBare = (functionName?: string) => {
      const memoryMb = functionName ? functions.get(functionName)?.memoryMb : undefined;
      const heap = memoryMb ? [`--max-old-space-size=${memoryMb}`] : [];
      // BENCH_BARE_NODE_ARGS: node flags, e.g. ["--cpu-prof"] (scripts/bench/profile-warm.ts)
      return startChild(['bare', emu.url], { ...platformEnv, ...benchEnv }, [
        ...heap,
        ...nodeArgsFromEnv('BENCH_BARE_NODE_ARGS'),
      ]);
    };
    const [host, bare] = await Promise.all([
      startChild(['host', emu.url, buildDir], benchEnv, nodeArgsFromEnv('BENCH_HOST_NODE_ARGS')),
      startBare(),
    ]);
    children.push(host, bare);
    await seedDatabase(emu.url);
    const stack: BenchStack = {
      local,
      env,
      emu,
      sim,
      host,
      bare,
      async freshBare(functionName) {
        const old = stack.bare;
        await stopChild(old);
        stack.bare = await startBare(functionName);
        children.splice(children.indexOf(old), 1, stack.bare);
      },
      inbox,
      db: openLocalDatabase(emu.url),
      close,
    };
    return stack;
  } catch (err) {
    await close();
    throw err;
  }
}

export async function postJson<T>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: T; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** A test user at the simulator: the openid a mini-program caller would have. */
export async function newUser(stack: BenchStack): Promise<string> {
  const r = await postJson<{ openid: string }>(`${stack.sim.url}/sim/users`, { appid: stack.env.WX_APPID });
  if (r.status !== 200) throw new Error(`bench: POST /sim/users answered ${r.status}`);
  return r.json.openid;
}

/** createPayment through the host (a warm instance): an order with its prepay at the simulator. */
export async function hostOrder(stack: BenchStack, openid: string): Promise<string> {
  const r = await postJson<{ result?: { data?: { orderId: string } } }>(
    `${stack.host.url}/functions/createPayment`,
    { items: [{ productId: 'coffee-latte', quantity: 1 }] },
    { 'x-wx-openid': openid, 'x-wx-appid': stack.env.WX_APPID },
  );
  const orderId = r.json.result?.data?.orderId;
  if (!orderId) throw new Error(`bench: createPayment answered ${r.status} ${JSON.stringify(r.json)}`);
  return orderId;
}
