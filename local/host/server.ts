// Function host (docs/local-stack.md#function-host): runs build/cloudfunctions' bundles the way CloudBase
// does — `POST /functions/<name>` is `wx.cloud.callFunction`, the httpAccess paths of cloudbaserc.json
// are HTTP triggers — each function in its own pool of single-invocation instances.
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../net/listen';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { functionSdkEnv } from '../cloudbase/sdk-env';
import { cronMatches, parseCron } from './cron';
import {
  loadCloudbaserc,
  matchHttpRoute,
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_S,
  type HostConfig,
} from './functions-config';
import { buildIntegrationEvent, toHttpAnswer } from './http-event';
import { InstancePool } from './instance-pool';
import {
  formatInvocation,
  InvocationLog,
  type InvocationOutcome,
  type InvocationRecord,
} from './invocation-log';
import { InvocationError, platformError, type PlatformErrorCode } from './platform-errors';

/** Handles a request outside the host's own routes; resolves true when it answered. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

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
  maxInstancesPerFunction?: number;
  maxQueuePerFunction?: number;
  idleTimeoutMs?: number;
  extraRoutes?: RouteHandler[];
  /** Extra node flags for function instances, e.g. ['--inspect=0'] or ['--cpu-prof']. */
  workerExecArgv?: string[];
  /** Run the timer triggers of cloudbaserc.json on their schedules (npm start: yes; tests: no). */
  timers?: boolean;
}

export interface CallIdentity {
  openid?: string;
  appid?: string;
  unionid?: string;
  clientIp?: string;
}

export type CallOutcome =
  | { ok: true; status: 200; requestId: string; result: unknown }
  | { ok: false; status: number; requestId: string; error: ReturnType<typeof platformError>['body'] };

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
  close(): Promise<void>;
}

const PLACEHOLDER_SECRETS = {
  // Present so the SDKs take credentials from the environment instead of probing the metadata service.
  TENCENTCLOUD_SECRETID: 'local-placeholder-secret-id',
  TENCENTCLOUD_SECRETKEY: 'local-placeholder-secret-key',
  TENCENTCLOUD_SESSIONTOKEN: 'local-placeholder-session-token',
};

const FORWARDED_PROCESS_ENV = ['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'TZ', 'SYSTEMROOT'];

export async function startFunctionHost(opts: FunctionHostOptions): Promise<FunctionHost> {
  const config: HostConfig = loadCloudbaserc(opts.cloudbasercPath);
  const buildDir = resolve(opts.buildDir);
  const envId = opts.envId ?? 'local';
  const region = 'ap-shanghai';
  const log = opts.log ?? ((line: string) => console.log(line));
  const functionOutput = opts.functionOutput ?? ((name: string, line: string) => log(`[${name}] ${line}`));
  const getEnv = typeof opts.env === 'function' ? opts.env : () => opts.env as Record<string, string>;
  const getEmulatorUrl =
    typeof opts.emulatorUrl === 'function' ? opts.emulatorUrl : () => opts.emulatorUrl as string | undefined;
  const routes: RouteHandler[] = [...(opts.extraRoutes ?? [])];
  const invocations = new InvocationLog();
  const pools = new Map<string, InstancePool>();
  let closing = false;

  function instanceEnv(name: string): Record<string, string> {
    const base: Record<string, string> = {};
    for (const k of FORWARDED_PROCESS_ENV) if (process.env[k] !== undefined) base[k] = process.env[k]!;
    const emulatorUrl = getEmulatorUrl();
    return {
      ...base,
      TENCENTCLOUD: 'true',
      TENCENTCLOUD_REGION: region,
      SCF_NAMESPACE: envId,
      TCB_ENV: envId,
      SCF_FUNCTIONNAME: name,
      SCF_FUNCTIONVERSION: '$LATEST',
      ...PLACEHOLDER_SECRETS,
      ...getEnv(),
      ...(emulatorUrl ? functionSdkEnv(emulatorUrl) : {}),
    };
  }

  function bundlePath(name: string): string | undefined {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,59}$/.test(name)) return undefined;
    const p = join(buildDir, name, 'index.js');
    // A function with live instances was found before; skip the file-system check on the hot path.
    if (pools.get(name)?.size) return p;
    return existsSync(p) ? p : undefined;
  }

  function poolFor(name: string, path: string): InstancePool {
    let pool = pools.get(name);
    if (!pool) {
      const spec = config.functions.get(name) ?? {
        name,
        timeoutMs: DEFAULT_TIMEOUT_S * 1000,
        memoryMb: DEFAULT_MEMORY_MB,
        timers: [],
      };
      pool = new InstancePool({
        spec,
        bundlePath: path,
        env: () => instanceEnv(name),
        maxInstances: opts.maxInstancesPerFunction ?? 32,
        maxQueue: opts.maxQueuePerFunction ?? 1000,
        idleTimeoutMs: opts.idleTimeoutMs ?? 5 * 60_000,
        onOutput: (line, stream) => functionOutput(name, line, stream),
        execArgv: opts.workerExecArgv,
      });
      pools.set(name, pool);
    }
    return pool;
  }

  function record(
    r: Omit<InvocationRecord, 'at' | 'durationMs'> & { startedAt: number; arrivedAt: Date },
  ): void {
    const { startedAt, arrivedAt, ...rest } = r;
    const full: InvocationRecord = {
      ...rest,
      at: arrivedAt.toISOString(),
      durationMs: performance.now() - startedAt,
    };
    invocations.add(full);
    log(formatInvocation(full));
  }

  function outcomeOf(code: PlatformErrorCode): InvocationOutcome {
    if (code === 'FUNCTION_TIME_LIMIT_EXCEEDED') return 'timeout';
    if (code === 'FUNCTION_MEMORY_LIMIT_EXCEEDED') return 'memory';
    if (code === 'FUNCTION_EXCEED_RESOURCE_LIMIT') return 'rejected';
    return 'error';
  }

  function identityEnv(id: CallIdentity): Record<string, string> {
    const out: Record<string, string> = {};
    if (id.openid) out.WX_OPENID = id.openid;
    if (id.appid) out.WX_APPID = id.appid;
    if (id.unionid) out.WX_UNIONID = id.unionid;
    if (id.openid && id.clientIp) out.WX_CLIENTIP = id.clientIp;
    return out;
  }

  /** callFunction: returns the JSON text of `{ result, requestId }`, or the platform's error answer. */
  async function runCallFunction(
    name: string,
    data: Record<string, unknown>,
    identity: CallIdentity,
  ): Promise<{ status: number; json: string; requestId: string }> {
    const requestId = randomUUID();
    const arrivedAt = new Date();
    const startedAt = performance.now();
    const path = bundlePath(name);
    if (!path) {
      const e = platformError(
        'FUNCTION_NOT_FOUND',
        `no cloud function named "${name}": expected ${join(buildDir, name, 'index.js')} — add cloudfunctions/${name}/index.ts and run npm run build`,
        requestId,
      );
      return { status: e.status, json: JSON.stringify(e.body), requestId };
    }
    // The platform decides userInfo; whatever the caller put there is replaced.
    const event: Record<string, unknown> = { ...data };
    delete event.userInfo;
    if (identity.openid) event.userInfo = { appId: identity.appid ?? '', openId: identity.openid };
    try {
      const r = await poolFor(name, path).invoke({
        requestId,
        event,
        identity: identityEnv(identity),
        source: 'wx_client',
        region,
        envId,
      });
      record({
        requestId,
        functionName: name,
        trigger: 'callFunction',
        arrivedAt,
        startedAt,
        cold: r.cold,
        coldStartMs: r.coldStartMs,
        outcome: 'ok',
        status: 200,
        openid: identity.openid,
      });
      return { status: 200, json: `{"result":${r.json},"requestId":"${requestId}"}`, requestId };
    } catch (err) {
      const ie =
        err instanceof InvocationError
          ? err
          : new InvocationError('FUNCTION_INVOCATION_FAILED', (err as Error).message);
      const e = platformError(ie.code, ie.message, requestId);
      record({
        requestId,
        functionName: name,
        trigger: 'callFunction',
        arrivedAt,
        startedAt,
        cold: ie.cold ?? false,
        coldStartMs: ie.coldStartMs,
        outcome: outcomeOf(ie.code),
        status: e.status,
        openid: identity.openid,
        errorMessage: firstLine(ie.message),
      });
      return { status: e.status, json: JSON.stringify(e.body), requestId };
    }
  }

  /** A timer trigger's invocation: the platform's timer event, no caller identity. */
  async function runTimerTrigger(name: string, triggerName: string, at = new Date()): Promise<CallOutcome> {
    const requestId = randomUUID();
    const startedAt = performance.now();
    const path = bundlePath(name);
    if (!path) {
      const e = platformError(
        'FUNCTION_NOT_FOUND',
        `timer ${triggerName} targets "${name}", which is not built — run npm run build`,
        requestId,
      );
      return { ok: false, status: e.status, requestId, error: e.body };
    }
    const event = {
      Type: 'Timer',
      TriggerName: triggerName,
      Time: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Message: '',
    };
    try {
      const r = await poolFor(name, path).invoke({
        requestId,
        event,
        identity: {},
        source: 'scf',
        region,
        envId,
      });
      record({
        requestId,
        functionName: name,
        trigger: 'timer',
        arrivedAt: at,
        startedAt,
        cold: r.cold,
        coldStartMs: r.coldStartMs,
        outcome: 'ok',
        status: 200,
      });
      return { ok: true, status: 200, requestId, result: JSON.parse(r.json) };
    } catch (err) {
      const ie =
        err instanceof InvocationError
          ? err
          : new InvocationError('FUNCTION_INVOCATION_FAILED', (err as Error).message);
      const e = platformError(ie.code, ie.message, requestId);
      record({
        requestId,
        functionName: name,
        trigger: 'timer',
        arrivedAt: at,
        startedAt,
        cold: ie.cold ?? false,
        coldStartMs: ie.coldStartMs,
        outcome: outcomeOf(ie.code),
        status: e.status,
        errorMessage: firstLine(ie.message),
      });
      return { ok: false, status: e.status, requestId, error: e.body };
    }
  }

  const schedules = [...config.functions.values()].flatMap((f) =>
    f.timers.map((t) => ({ ...t, schedule: parseCron(t.config) })),
  );
  let lastTick = Math.floor(Date.now() / 1000);
  const timerInterval = opts.timers
    ? setInterval(() => {
        // Every second that passed since the last tick is checked once, so a late tick skips nothing.
        const now = Math.floor(Date.now() / 1000);
        for (let sec = lastTick + 1; sec <= now && sec - lastTick <= 60; sec++) {
          const at = new Date(sec * 1000);
          for (const t of schedules)
            if (cronMatches(t.schedule, at)) void runTimerTrigger(t.functionName, t.triggerName, at);
        }
        lastTick = now;
      }, 250)
    : undefined;
  timerInterval?.unref();

  async function handleCallFunction(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const body = await readBody(req);
    let data: unknown = {};
    if (body.length > 0) {
      try {
        data = JSON.parse(body.toString('utf8'));
      } catch (err) {
        const e = platformError(
          'FUNCTION_PARAM_INVALID',
          `the request body is not valid JSON (${(err as Error).message}); send the callFunction data as a JSON object`,
          randomUUID(),
        );
        return sendJson(res, e.status, JSON.stringify(e.body));
      }
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      const e = platformError(
        'FUNCTION_PARAM_INVALID',
        'the request body must be a JSON object (the data of wx.cloud.callFunction)',
        randomUUID(),
      );
      return sendJson(res, e.status, JSON.stringify(e.body));
    }
    const h = req.headers;
    const identity: CallIdentity = {
      openid: headerValue(h['x-wx-openid']),
      appid: headerValue(h['x-wx-appid']),
      unionid: headerValue(h['x-wx-unionid']),
      clientIp: headerValue(h['x-wx-clientip']) ?? req.socket.remoteAddress,
    };
    const out = await runCallFunction(name, data as Record<string, unknown>, identity);
    sendJson(res, out.status, out.json);
  }

  async function handleHttpTrigger(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
    const requestId = randomUUID();
    const arrivedAt = new Date();
    const startedAt = performance.now();
    const body = await readBody(req);
    const path = bundlePath(name);
    if (!path) {
      const e = platformError(
        'FUNCTION_NOT_FOUND',
        `the HTTP path ${req.url} is bound to function "${name}", which is not built — run npm run build`,
        requestId,
      );
      return sendJson(
        res,
        e.status,
        JSON.stringify({ code: e.body.code, message: e.body.message, requestId }),
      );
    }
    const event = buildIntegrationEvent({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body,
      requestId,
      envId,
    });
    try {
      const r = await poolFor(name, path).invoke({
        requestId,
        event,
        identity: {},
        source: 'wx_http',
        region,
        envId,
      });
      const answer = toHttpAnswer(JSON.parse(r.json));
      record({
        requestId,
        functionName: name,
        trigger: 'http',
        arrivedAt,
        startedAt,
        cold: r.cold,
        coldStartMs: r.coldStartMs,
        outcome: 'ok',
        status: answer.statusCode,
      });
      res.writeHead(answer.statusCode, { ...answer.headers, 'content-length': answer.body.length });
      res.end(answer.body);
    } catch (err) {
      const ie =
        err instanceof InvocationError
          ? err
          : new InvocationError('FUNCTION_INVOCATION_FAILED', (err as Error).message);
      const e = platformError(ie.code, ie.message, requestId);
      // The HTTP access service answers a failed function with a 5xx and a code/message body.
      const status = e.status >= 500 ? e.status : 502;
      record({
        requestId,
        functionName: name,
        trigger: 'http',
        arrivedAt,
        startedAt,
        cold: ie.cold ?? false,
        coldStartMs: ie.coldStartMs,
        outcome: outcomeOf(ie.code),
        status,
        errorMessage: firstLine(ie.message),
      });
      sendJson(res, status, JSON.stringify({ code: e.body.code, message: e.body.message, requestId }));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q >= 0 ? url.slice(0, q) : url;
    if (pathname.startsWith('/functions/')) {
      const name = decodeURIComponent(pathname.slice('/functions/'.length));
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST');
        return sendJson(
          res,
          405,
          JSON.stringify({
            code: 'METHOD_NOT_ALLOWED',
            message: `use POST /functions/${name} with the callFunction data as a JSON body`,
          }),
        );
      }
      return handleCallFunction(req, res, name);
    }
    const route = matchHttpRoute(config.httpRoutes, pathname);
    if (route && route.path !== '/') return handleHttpTrigger(req, res, route.name);
    if (pathname === '/health')
      return sendJson(res, 200, JSON.stringify({ ok: true, functions: functionNames() }));
    for (const handler of routes) if (await handler(req, res)) return;
    if (route) return handleHttpTrigger(req, res, route.name);
    if (pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      const names = functionNames();
      const html = `<!doctype html><meta charset="utf-8"><title>wxcloud-pay local host</title><h1>wxcloud-pay function host</h1><p>${names.length} function(s): ${names.map((n) => `<code>${n}</code>`).join(', ') || 'none built — run npm run build'}</p><p>Call one with <code>POST /functions/&lt;name&gt;</code>.</p>`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(html);
    }
    sendJson(
      res,
      404,
      JSON.stringify({
        code: 'NOT_FOUND',
        message: `nothing at ${req.method} ${pathname}: functions are at POST /functions/<name>, HTTP triggers at ${config.httpRoutes.map((r) => r.path).join(', ') || '(none configured)'}`,
      }),
    );
  }

  function functionNames(): string[] {
    const names = new Set<string>(config.functions.keys());
    try {
      for (const entry of readdirSync(buildDir)) names.add(entry);
    } catch {
      // no build yet
    }
    return [...names].filter((n) => bundlePath(n) !== undefined).sort();
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof BodyTooLarge) {
        const e = platformError('FUNCTION_PARAM_INVALID', `${err.message}; send less data`, randomUUID());
        return sendJson(res, 413, JSON.stringify(e.body));
      }
      log(`[host] internal error on ${req.method} ${req.url?.split('?')[0]}: ${(err as Error).message}`);
      if (!res.headersSent)
        sendJson(
          res,
          500,
          JSON.stringify({
            code: 'HOST_ERROR',
            message: 'the function host failed to handle this request; see its log',
          }),
        );
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  const { port, url } = await listen(server, opts.port, opts.host);

  return {
    url,
    port,
    invocations,
    functionNames,
    async callFunction(name, data, identity = {}) {
      const out = await runCallFunction(name, data, identity);
      const parsed = JSON.parse(out.json) as { result?: unknown; requestId: string };
      if (out.status === 200)
        return { ok: true, status: 200, requestId: out.requestId, result: parsed.result };
      return {
        ok: false,
        status: out.status,
        requestId: out.requestId,
        error: parsed as ReturnType<typeof platformError>['body'],
      };
    },
    runTimer(functionName, triggerName) {
      const spec = config.functions.get(functionName);
      const name = triggerName ?? spec?.timers[0]?.triggerName ?? 'manual';
      return runTimerTrigger(functionName, name);
    },
    mount(handler) {
      routes.push(handler);
    },
    recycle() {
      for (const pool of pools.values()) pool.recycle();
    },
    async close() {
      if (closing) return;
      closing = true;
      if (timerInterval) clearInterval(timerInterval);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.all([...pools.values()].map((p) => p.close()));
      server.closeAllConnections();
      await closed;
    },
  };
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0].slice(0, 200);
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}

/** Larger bodies are refused: no callFunction payload or notification comes near this. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`the request body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
  });
  res.end(json);
}
