// The warm-invocation comparison without the bench's process layout (issue 16): function instances
// (worker-runner.cjs, forked as the host forks them, same flags and variables) driven directly over
// IPC by this process, and the bare handlers (bare-callables.ts) called in this process, alternating
// call by call after a long warm-up, against the same emulator and simulator. Each instance reports
// its own handler CPU (runCpuMs) as in the bench; the bare side is timed the same way here. Several
// build directories can be given (e.g. a build before and after a change): one instance of each,
// measured in the same run.
//   npx tsx scripts/bench/warm-direct.ts orders.get|createPayment <buildDir> [<buildDir> …]
// WARMUP (default 1500 rounds) and CALLS (default 3000 rounds); one round calls every side once.
import { fork, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { RUNNER_PATH } from '../../local/host/instance';
import { instanceEnv } from '../../local/host/instance-env';
import { contextOf } from '../../local/host/invocation-context';
import { seedDatabase } from '../../local/seed/seed';
import { ensureLocalData } from '../../local/setup/local-data';
import { bareCallables } from './bare-callables';
import { postJson, startChild, stopChild } from './stack';
import { median } from './stats';

const root = resolve(__dirname, '..', '..');
const ITEMS = [
  { productId: 'coffee-latte', quantity: 2 },
  { productId: 'cake-cheese', quantity: 1 },
];

interface Done {
  t: string;
  id: string;
  ok: boolean;
  json?: string;
  runCpuMs: number;
}

function startInstance(buildDir: string, name: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = fork(RUNNER_PATH, [], {
    execArgv: ['--max-old-space-size=256'],
    env: { ...env, __WXCLOUD_HOST_BUNDLE: join(buildDir, name, 'index.js') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  return new Promise((res) => child.once('message', () => res(child)));
}

let seq = 0;
function invoke(
  child: ChildProcess,
  name: string,
  event: unknown,
  identity: Record<string, string>,
): Promise<Done> {
  const id = `d${seq++}`;
  return new Promise((res) => {
    const on = (m: Done) => {
      if (m.t !== 'done' || m.id !== id) return;
      child.off('message', on);
      res(m);
    };
    child.on('message', on);
    const context = contextOf(
      { requestId: id, event, identity, source: 'wx_client', region: 'ap-shanghai', envId: 'local' },
      { name, memoryMb: 256, timeoutMs: 20_000 } as Parameters<typeof contextOf>[1],
    );
    child.send({ t: 'invoke', id, event, context, identity, source: 'wx_client' });
  });
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

async function main(): Promise<void> {
  const [row, ...buildDirs] = process.argv.slice(2);
  if ((row !== 'orders.get' && row !== 'createPayment') || buildDirs.length === 0)
    throw new Error('usage: warm-direct.ts orders.get|createPayment <buildDir> [<buildDir> …]');
  const name = row === 'orders.get' ? 'orders' : 'createPayment';
  const warmup = Number(process.env.WARMUP ?? 1500);
  const calls = Number(process.env.CALLS ?? 3000);
  const localDir = join(root, 'build', 'bench', 'direct-data');
  const local = await ensureLocalData(localDir);
  const [emu, sim] = await Promise.all([startChild(['emulator'], {}), startChild(['sim', localDir], {})]);
  const instances: ChildProcess[] = [];
  try {
    await seedDatabase(emu.url);
    const env: Record<string, string> = {
      ...local.env,
      WXPAY_BASE_URL: sim.url,
      WECHAT_API_BASE_URL: sim.url,
      WXPAY_NOTIFY_URL: 'http://127.0.0.1:9/pay/notify',
      WXPAY_REFUND_NOTIFY_URL: 'http://127.0.0.1:9/refund/notify',
    };
    const fnEnv = instanceEnv({ functionName: name, envId: 'local', configured: env, emulatorUrl: emu.url });
    for (const dir of buildDirs) instances.push(await startInstance(resolve(dir), name, fnEnv));
    const sides = instances.length + 1;
    // Nobody starts more than 10 payments a minute: a buyer per 10 calls of each side.
    const buyersNeeded = row === 'createPayment' ? Math.ceil((warmup + calls) / 10) * sides + 1 : 1;
    const buyers: string[] = [];
    for (let i = 0; i < buyersNeeded; i++)
      buyers.push(
        (await postJson<{ openid: string }>(`${sim.url}/sim/users`, { appid: env.WX_APPID })).json.openid,
      );
    const identity = (openid: string) => ({
      WX_OPENID: openid,
      WX_APPID: env.WX_APPID,
      WX_CLIENTIP: '127.0.0.1',
    });
    const orderIds: string[] = [];
    if (row === 'orders.get') {
      const setup = await startInstance(resolve(buildDirs[0]), 'createPayment', fnEnv);
      for (let i = 0; i < 10; i++) {
        const done = await invoke(setup, 'createPayment', { items: ITEMS }, identity(buyers[0]));
        orderIds.push((JSON.parse(done.json!) as { data: { orderId: string } }).data.orderId);
      }
      setup.disconnect();
    }
    const bare = bareCallables(env, openLocalDatabase(emu.url));
    const counters = new Array<number>(sides).fill(0);
    const buyerOf = (side: number) => buyers[1 + side + sides * Math.floor(counters[side]++ / 10)];
    const callSide = async (side: number): Promise<number> => {
      if (side < instances.length) {
        const done =
          row === 'orders.get'
            ? await invoke(
                instances[side],
                name,
                { action: 'get', orderId: orderIds[counters[side]++ % 10] },
                identity(buyers[0]),
              )
            : await invoke(instances[side], name, { items: ITEMS }, identity(buyerOf(side)));
        if (!done.ok) throw new Error(`${buildDirs[side]}: the invocation failed: ${JSON.stringify(done)}`);
        return done.runCpuMs;
      }
      const started = process.cpuUsage();
      if (row === 'orders.get') await bare.ordersGet(buyers[0], { orderId: orderIds[counters[side]++ % 10] });
      else await bare.createPayment(buyerOf(side), { items: ITEMS });
      const cpu = process.cpuUsage(started);
      return (cpu.user + cpu.system) / 1000;
    };
    const samples: number[][] = Array.from({ length: sides }, () => []);
    for (let r = 0; r < warmup + calls; r++)
      for (let k = 0; k < sides; k++) {
        // rotate who goes first, so that no side always follows the same other
        const side = (k + r) % sides;
        const cpu = await callSide(side);
        if (r >= warmup) samples[side].push(cpu);
      }
    const b = samples[sides - 1];
    console.log(
      `${row}: CPU per invocation after ${warmup} warm-up rounds, ${calls} rounds, alternating call by call`,
    );
    console.log(`  bare in this process: median ${median(b).toFixed(3)} ms, mean ${mean(b).toFixed(3)} ms`);
    buildDirs.forEach((dir, i) => {
      const s = samples[i];
      console.log(
        `  instance of ${dir}: median ${median(s).toFixed(3)} ms (bare/instance ${(median(b) / median(s)).toFixed(3)}), mean ${mean(s).toFixed(3)} ms (${(mean(b) / mean(s)).toFixed(3)})`,
      );
    });
    bare.close();
  } finally {
    for (const c of instances) if (c.connected) c.disconnect();
    await Promise.all([stopChild(emu), stopChild(sim)]);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
