// `npm start`: the local stack on fixed ports (PORT 3000, WECHAT_SIM_PORT 3100, CLOUDBASE_EMU_PORT
// 3200), data under LOCAL_DATA_DIR (default .local, created on first run and reused after). Prints the
// URLs and a line with `ready` once all three servers answer; Ctrl-C / SIGTERM stops everything.
import { resolve } from 'node:path';
import { startLocalStack, type LocalStack } from '../local/stack';

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name}=${raw} is not a port number; use an integer from 0 to 65535`);
    process.exit(2);
  }
  return n;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

async function waitUntilAnswering(urls: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await Promise.all(urls.map(answers));
    if (ok.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`not answering: ${urls.filter((_, i) => !ok[i]).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = resolve(process.env.LOCAL_DATA_DIR || '.local');
  const buildDir = process.env.FUNCTIONS_BUILD_DIR ? resolve(process.env.FUNCTIONS_BUILD_DIR) : undefined;
  // eslint-disable-next-line prefer-const -- the signal handlers close over it before it is assigned
  let stack: LocalStack | undefined;
  let stopping = false;

  const stop = async (signal: string) => {
    if (stopping) {
      console.log(`[start] ${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`[start] ${signal}: stopping…`);
    await stack?.close();
    console.log('[start] stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  stack = await startLocalStack({
    dataDir,
    ports: {
      host: portFromEnv('PORT', 3000),
      wechatSim: portFromEnv('WECHAT_SIM_PORT', 3100),
      cloudbaseEmu: portFromEnv('CLOUDBASE_EMU_PORT', 3200),
    },
    buildDir,
    seed: true,
    timers: true,
  });
  if (stopping) return;
  await waitUntilAnswering([
    `${stack.hostUrl}/health`,
    `${stack.simUrl}/sim/deliveries`,
    `${stack.emuUrl}/emu/dump/products`,
  ]);
  const names = stack.host.functionNames();
  console.log(
    `  functions  ${names.length ? names.join(', ') : '(none built: add cloudfunctions/<name>/index.ts)'}`,
  );
  console.log(`  console    ${stack.hostUrl}/`);
  console.log(`  functions  ${stack.hostUrl}/functions/<name>   (POST, x-wx-openid header = caller)`);
  console.log(`  simulator  ${stack.simUrl}`);
  console.log(`  emulator   ${stack.emuUrl}   (SDK endpoint ${stack.emuUrl}/admin, env id local)`);
  console.log(`  data       ${dataDir}`);
  console.log(
    `wxcloud-pay local stack ready in ${Date.now() - started} ms — open ${stack.hostUrl}/ (Ctrl-C to stop)`,
  );
}

main().catch((err: unknown) => {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE')
    console.error(
      `[start] a port is already in use (${e.message}); stop the other process or set PORT / WECHAT_SIM_PORT / CLOUDBASE_EMU_PORT`,
    );
  else console.error(`[start] failed: ${e.message}`);
  process.exit(1);
});
