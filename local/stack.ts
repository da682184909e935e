// The whole offline stack in one call (npm start, end-to-end tests, the demo): the CloudBase emulator,
// the WeChat simulator and the function host with the web console, wired to each other. With port 0
// everywhere the servers bind first and the functions' URL variables are fixed before any invocation.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startCloudbaseEmulator, type CloudbaseEmulator } from './cloudbase/server';
import { createConsole, type ConsoleHandler } from './console/handler';
import { buildIfNeeded, DEFAULT_BUILD_DIR } from './host/build-if-needed';
import { startFunctionHost, type FunctionHost, type FunctionHostOptions } from './host/server';
import { COLLECTIONS, seedDatabase } from './seed/seed';
import {
  DEFAULT_PORTS,
  ensureLocalData,
  updateLocalEnv,
  urlEnv,
  type LocalData,
  type LocalPorts,
} from './setup/local-data';
import { startWechatSimulator, type WechatSimulator, type WechatSimulatorOptions } from './wechat/server';

const root = resolve(__dirname, '..');
/** How many of the latest function invocations the console lists. */
const CONSOLE_INVOCATIONS = 50;

/**
 * WX_SUBSCRIBE_TEMPLATES of the local stack: the simulator's three templates (docs/local-stack.md),
 * filled as a shop would. `.local/env` may override it; an empty value there turns messages off.
 */
export const LOCAL_SUBSCRIBE_TEMPLATES = {
  paid: {
    templateId: 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg',
    page: 'pages/order-detail/order-detail?orderId={orderId}',
    data: { thing1: 'productNames', amount2: 'amount', time3: 'paidAt', character_string4: 'orderId' },
  },
  refunded: {
    templateId: 'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4',
    page: 'pages/order-detail/order-detail?orderId={orderId}',
    data: {
      thing1: 'productNames',
      amount2: 'refundAmount',
      time3: 'refundedAt',
      character_string4: 'orderId',
    },
  },
  shipped: {
    templateId: 'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E',
    page: 'pages/order-detail/order-detail?orderId={orderId}',
    data: { thing1: 'productNames', character_string2: 'trackingNo', time3: 'shippedAt' },
  },
} as const;

/** HOST_BASE64_SHARE: the share (0..1) of HTTP-trigger bodies the host hands over base64-encoded. */
export function base64ShareFromEnv(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 0;
  const share = Number(raw);
  if (!(share >= 0 && share <= 1))
    throw new Error(
      `HOST_BASE64_SHARE=${raw} is not a share: use a number from 0 (never) to 1 (every notification body base64-encoded)`,
    );
  return share;
}

export interface LocalStackOptions {
  /** Keys, env and database files; default `.local`. A temporary directory when inMemory without dataDir. */
  dataDir?: string;
  /** Keep the database in memory (tests); the keys and env still live in dataDir. */
  inMemory?: boolean;
  /** 0 = ephemeral. Defaults: host 3000, wechatSim 3100, cloudbaseEmu 3200. */
  ports?: Partial<LocalPorts>;
  /** Create the collections and the seed catalog (default true). */
  seed?: boolean;
  /** true: always build; false: never; default: build when a bundle is missing or stale. */
  build?: boolean;
  /** Where the function bundles are (default build/cloudfunctions). */
  buildDir?: string;
  cloudbasercPath?: string;
  simulator?: Pick<WechatSimulatorOptions, 'signingMode' | 'timeScale' | 'refundDelayMs' | 'log'>;
  /** No per-invocation log lines and no function output. */
  quiet?: boolean;
  log?: (line: string) => void;
  /** Run timer triggers (reconcile every 5 min) on schedule; default false so tests stay deterministic. */
  timers?: boolean;
  /**
   * Instances of each HTTP-triggered function (payNotify, refundNotify) kept started, as CloudBase's
   * provisioned concurrency does, so WeChat's notifications never wait for a cold start; default 1.
   */
  warmInstances?: number;
  /**
   * Passed to the host (tests of pool behaviour and of function logs, benchmarks). `base64Share`
   * defaults to HOST_BASE64_SHARE (0..1) from the environment, else 0.
   */
  host?: Pick<
    FunctionHostOptions,
    'maxInstancesPerFunction' | 'maxStartingPerFunction' | 'idleTimeoutMs' | 'functionOutput' | 'base64Share'
  >;
}

export interface LocalStack {
  hostUrl: string;
  simUrl: string;
  emuUrl: string;
  /** The functions' variables, URLs pointing at this stack. */
  env: Record<string, string>;
  localData: LocalData;
  ports: LocalPorts;
  host: FunctionHost;
  emulator: CloudbaseEmulator;
  simulator: WechatSimulator;
  close(): Promise<void>;
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const log = opts.quiet ? () => undefined : (opts.log ?? ((line: string) => console.log(line)));
  const ownTempDir =
    opts.dataDir === undefined && opts.inMemory ? mkdtempSync(join(tmpdir(), 'wxcloud-stack-')) : undefined;
  const dataDir = resolve(opts.dataDir ?? ownTempDir ?? join(root, '.local'));
  const ports: LocalPorts = { ...DEFAULT_PORTS, ...opts.ports };
  const firstRun = !existsSync(join(dataDir, 'env'));
  const localData = await ensureLocalData(dataDir, { ports });
  if (firstRun)
    log(
      `[stack] created ${dataDir}: merchant and WeChat Pay keys, certificates, function env (never commit it)`,
    );
  const buildDir = opts.buildDir ?? DEFAULT_BUILD_DIR;
  // wxMessage checks WeChat's message-push signature with this Token; the simulator signs with it.
  localData.env.WX_MESSAGE_TOKEN ||= randomBytes(12).toString('hex');
  // Subscription messages go to the simulator's templates unless .local/env says otherwise.
  localData.env.WX_SUBSCRIBE_TEMPLATES ??= JSON.stringify(LOCAL_SUBSCRIBE_TEMPLATES);

  if (opts.buildDir === undefined && opts.build !== false) {
    const built = await buildIfNeeded(opts.build === true);
    if (built.length > 0) log(`[stack] built ${built.length} function(s): ${built.join(', ')}`);
  }

  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const fn of closers.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`[stack] error while stopping: ${(err as Error).message}`);
      }
    }
    if (ownTempDir) rmSync(ownTempDir, { recursive: true, force: true });
  };

  try {
    const emulator = await startCloudbaseEmulator({
      port: ports.cloudbaseEmu,
      dataDir: opts.inMemory ? undefined : join(dataDir, 'database'),
      collections: [...COLLECTIONS],
    });
    closers.push(() => emulator.close());
    const simulator = await startWechatSimulator({ port: ports.wechatSim, localData, ...opts.simulator });
    closers.push(() => simulator.close());
    // 云调用 (cloud.openapi.*) from the functions goes through the emulator to the simulator.
    emulator.connectWechat({ url: simulator.url, appid: localData.env.WX_APPID });
    let emuUrl = emulator.url;
    const host = await startFunctionHost({
      port: ports.host,
      buildDir,
      cloudbasercPath: opts.cloudbasercPath ?? join(root, 'cloudbaserc.json'),
      // Getters: read when an instance starts, i.e. after the URLs below are final.
      env: () => localData.env,
      emulatorUrl: () => emuUrl,
      log,
      functionOutput: opts.quiet ? () => undefined : undefined,
      timers: opts.timers ?? false,
      base64Share: base64ShareFromEnv(process.env.HOST_BASE64_SHARE),
      ...opts.host,
    });
    closers.push(() => host.close());

    const bound: LocalPorts = { host: host.port, wechatSim: simulator.port, cloudbaseEmu: emulator.port };
    const urls = urlEnv(bound);
    Object.assign(localData.env, urls);
    // The env file describes the running stack (people copy values from it, run a bundle by hand with
    // it), so it follows the ports actually bound rather than those of the first run.
    if (Object.entries(urls).some(([k, v]) => localData.fileEnv[k] !== v))
      updateLocalEnv(localData.dir, urls);
    emuUrl = emulator.url;
    simulator.setMessagePush({ url: `${host.url}/wx/message`, token: localData.env.WX_MESSAGE_TOKEN });
    // Only now: warm instances read the functions' variables when they start.
    host.keepWarm(opts.warmInstances ?? 1);

    const consoleHandler: ConsoleHandler = createConsole({
      simUrl: simulator.url,
      emuUrl: emulator.url,
      invocations: () => host.invocations.recent(CONSOLE_INVOCATIONS),
    });
    host.mount((req, res) => consoleHandler.handle(req, res));
    closers.push(() => consoleHandler.close());

    if (opts.seed !== false) {
      const report = await seedDatabase(emulator.url);
      if (report.productsCreated.length > 0)
        log(`[stack] seeded ${report.productsCreated.length} product(s)`);
    }

    return {
      hostUrl: host.url,
      simUrl: simulator.url,
      emuUrl: emulator.url,
      env: localData.env,
      localData,
      ports: bound,
      host,
      emulator,
      simulator,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
