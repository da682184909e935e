// The local function host (docs/local-stack.md#function-host): runs the built bundles in build/cloudfunctions the way CloudBase does —
// `POST /functions/<name>` is `wx.cloud.callFunction`, the httpAccess paths of cloudbaserc.json are
// HTTP triggers, timers fire on their schedules — each function in its own pool of single-invocation
// instances. This file wires the pieces: pools.ts (which functions, their pools), invoke.ts (one
// invocation), routes.ts (the HTTP routes), cron.ts (the timer ticker), faults.ts (crash faults).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { availableParallelism } from 'node:os';
import { BodyTooLarge, sendJson } from '../net/http';
import { listen } from '../net/listen';
import { startTicker } from './cron';
import { CrashFaults } from './faults';
import { loadCloudbaserc } from './functions-config';
import { instanceEnv, type CallIdentity } from './instance-env';
import { InvocationLog } from './invocation-log';
import { callFunctionEvent, createInvoker, type Invoked } from './invoke';
import { platformError, type PlatformErrorBody } from './platform-errors';
import { FunctionPools } from './pools';
import { hostRoutes, notFound, type RouteHandler } from './routes';

export { MAX_BODY_BYTES, type RouteHandler } from './routes';
export type { CallIdentity } from './instance-env';

export interface FunctionHostOptions {
  port?: number;
  host?: string;
  /** Folder holding `<name>/index.js` bundles (build/cloudfunctions). */
  buildDir: string;
  cloudbasercPath: string;
  /** The functions' variables (`.local/env`); a getter is read each time an instance starts. */
  env: Record<string, string> | (() => Record<string, string>);
  /** The CloudBase emulator the functions' SDKs should reach; absent = functions without a database. */
  emulatorUrl?: string | (() => string | undefined);
  /** Environment id the functions see (TCB_ENV / SCF_NAMESPACE). */
  envId?: string;
  /** One line per invocation; default console.log. */
  log?: (line: string) => void;
  /** The functions' own console output; default: `log` with a `[name]` prefix. */
  functionOutput?: (functionName: string, line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * Bound of each function's pool; calls queue beyond it. Default: two per CPU, 4 to 32. Locally every
   * instance shares the same CPUs, so more instances than that only slow each other down (a 200-copy
   * notification storm on 2 busy cores: median invocation 330 ms with 14 instances, 29 ms with 4).
   */
  maxInstancesPerFunction?: number;
  maxQueuePerFunction?: number;
  /** Cold starts in progress at once per function (default: the CPU count, at most 4). */
  maxStartingPerFunction?: number;
  idleTimeoutMs?: number;
  extraRoutes?: RouteHandler[];
  /** Extra node flags for function instances, e.g. ['--inspect=0'] or ['--cpu-prof']. */
  workerExecArgv?: string[];
  /** Run the timer triggers of cloudbaserc.json on their schedules (npm start: yes; tests: no). */
  timers?: boolean;
  /**
   * Share (0..1, default 0) of HTTP-trigger requests whose body the host hands over base64-encoded
   * (`isBase64Encoded: true`), as CloudBase's HTTP access does for some content types.
   */
  base64Share?: number;
  /** HTTP-trigger answers slower than this are called out in the log (default 5000: WeChat Pay's timeout). */
  lateAnswerMs?: number;
}

export type CallOutcome =
  | { ok: true; status: 200; requestId: string; result: unknown }
  | { ok: false; status: number; requestId: string; error: PlatformErrorBody };

export interface FunctionHost {
  url: string;
  port: number;
  invocations: InvocationLog;
  /** Names of the functions with a built bundle. */
  functionNames(): string[];
  /** callFunction without HTTP (the console's server side, tests). */
  callFunction(name: string, data: Record<string, unknown>, identity?: CallIdentity): Promise<CallOutcome>;
  /** Fires a timer trigger now, as its schedule would (reconcile from the console or a test). */
  runTimer(functionName: string, triggerName?: string): Promise<CallOutcome>;
  /** Adds a route handler tried before the host's placeholder `/` page. */
  mount(handler: RouteHandler): void;
  /** Stops idle instances so that the next calls load fresh bundles / environment. */
  recycle(): void;
  /**
   * Keeps `count` instances of every HTTP-triggered function (the notification endpoints) started from
   * now on, replaced when they exit or are recycled — CloudBase's provisioned concurrency — so that a
   * notification storm does not wait for cold starts. Call it once the functions' variables are final.
   */
  keepWarm(count: number): void;
  close(): Promise<void>;
}

export async function startFunctionHost(opts: FunctionHostOptions): Promise<FunctionHost> {
  const config = loadCloudbaserc(opts.cloudbasercPath);
  const envId = opts.envId ?? 'local';
  const log = opts.log ?? ((line: string) => console.log(line));
  const functionOutput = opts.functionOutput ?? ((name: string, line: string) => log(`[${name}] ${line}`));
  const getEnv = typeof opts.env === 'function' ? opts.env : () => opts.env as Record<string, string>;
  const getEmulatorUrl =
    typeof opts.emulatorUrl === 'function' ? opts.emulatorUrl : () => opts.emulatorUrl as string | undefined;
  const base64Share = opts.base64Share ?? 0;
  if (!(base64Share >= 0 && base64Share <= 1))
    throw new RangeError(
      `base64Share must be a number from 0 to 1 (the share of HTTP-trigger bodies sent base64-encoded); got ${base64Share}`,
    );

  const cpus = availableParallelism();
  const invocations = new InvocationLog();
  const faults = new CrashFaults();
  const pools = new FunctionPools({
    buildDir: opts.buildDir,
    config,
    limits: {
      maxInstances: opts.maxInstancesPerFunction ?? Math.min(32, Math.max(4, 2 * cpus)),
      maxQueue: opts.maxQueuePerFunction ?? 1000,
      maxStarting: opts.maxStartingPerFunction ?? Math.min(4, cpus),
      idleTimeoutMs: opts.idleTimeoutMs ?? 5 * 60_000,
      execArgv: opts.workerExecArgv,
    },
    env: (name) =>
      instanceEnv({ functionName: name, envId, configured: getEnv(), emulatorUrl: getEmulatorUrl() }),
    onOutput: functionOutput,
  });
  const invoke = createInvoker({
    pools,
    faults,
    invocations,
    log,
    envId,
    answerWithinMs: opts.lateAnswerMs,
  });

  /** A timer trigger's invocation: the platform's timer event, no caller identity. */
  const runTimer = (name: string, triggerName: string, at = new Date()) =>
    invoke(
      name,
      'timer',
      {
        Type: 'Timer',
        TriggerName: triggerName,
        Time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        Message: '',
      },
      {},
      { arrivedAt: at },
    ).then(outcomeOf);
  const stopTicker = opts.timers
    ? startTicker(
        [...config.functions.values()].flatMap((f) => f.timers),
        (t, at) => void runTimer(t.functionName, t.triggerName, at),
      )
    : undefined;

  const mounted: RouteHandler[] = [...(opts.extraRoutes ?? [])];
  const routes = hostRoutes({
    httpRoutes: config.httpRoutes,
    invoke,
    functionNames: () => pools.names(),
    instances: () => pools.stats(),
    faults,
    mounted,
    base64Share,
    envId,
  });

  const server = createServer((req, res) => {
    const handled = (async () => {
      for (const route of routes) if (await route.handle(req, res)) return;
      notFound(req, res, config.httpRoutes);
    })();
    handled.catch((err: unknown) => {
      if (err instanceof BodyTooLarge) {
        const e = platformError('FUNCTION_PARAM_INVALID', `${err.message}; send less data`, randomUUID());
        return sendJson(res, 413, e.body);
      }
      log(`[host] internal error on ${req.method} ${req.url?.split('?')[0]}: ${(err as Error).message}`);
      if (!res.headersSent)
        sendJson(res, 500, {
          code: 'HOST_ERROR',
          message: 'the function host failed to handle this request; see its log',
        });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  const { port, url } = await listen(server, opts.port, opts.host);
  let closing = false;

  return {
    url,
    port,
    invocations,
    functionNames: () => pools.names(),
    callFunction: (name, data, identity = {}) =>
      invoke(name, 'callFunction', callFunctionEvent(data, identity), identity).then(outcomeOf),
    runTimer(functionName, triggerName) {
      const spec = config.functions.get(functionName);
      return runTimer(functionName, triggerName ?? spec?.timers[0]?.triggerName ?? 'manual');
    },
    mount(handler) {
      mounted.push(handler);
    },
    recycle() {
      pools.recycle();
    },
    keepWarm(count) {
      if (!Number.isInteger(count) || count < 0)
        throw new RangeError(`keepWarm(count): count must be an integer ≥ 0; got ${count}`);
      pools.keepWarm([...new Set(config.httpRoutes.map((r) => r.name))], count);
    },
    async close() {
      if (closing) return;
      closing = true;
      stopTicker?.();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await pools.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

function outcomeOf(out: Invoked): CallOutcome {
  if (out.ok) return { ok: true, status: 200, requestId: out.requestId, result: JSON.parse(out.json) };
  return { ok: false, status: out.status, requestId: out.requestId, error: out.error };
}
