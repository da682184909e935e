// The instances of one function: separate Node processes (worker-runner.cjs), each handling one
// invocation at a time. The pool reuses warm instances, grows under concurrency up to a bound, queues
// beyond it, retires instances left idle, and kills an instance whose invocation overruns its timeout.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FunctionSpec } from './functions-config';
import { InvocationError } from './platform-errors';

export const RUNNER_PATH = join(__dirname, 'worker-runner.cjs');

/** What the platform passes as `context` (SCF Node runtime fields; functions mostly read request_id). */
export interface InvocationContext {
  request_id: string;
  function_name: string;
  function_version: string;
  namespace: string;
  memory_limit_in_mb: number;
  time_limit_in_ms: number;
  tencentcloud_region: string;
  /** `KEY=value;` pairs of the context variables (identity, env id), as the platform's `environ`. */
  environ: string;
}

export interface InvokeRequest {
  requestId: string;
  event: unknown;
  /** WX_OPENID, WX_APPID, WX_UNIONID, WX_CLIENTIP … set in the instance for this invocation only. */
  identity: Record<string, string>;
  /** TCB_SOURCE of this invocation, e.g. `wx_client` for callFunction. */
  source: string;
  region: string;
  envId: string;
}

export interface InvokeResult {
  /** The JSON text of what the function returned. */
  json: string;
  cold: boolean;
  /** Process start to bundle loaded, for cold starts. */
  coldStartMs?: number;
  /** The invocation itself (after the instance was ready). */
  durationMs: number;
}

interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

type WorkerMessage =
  | { t: 'ready'; loadMs: number }
  | { t: 'load-error'; error: ErrorInfo }
  | { t: 'done'; id: string; ok: true; json: string }
  | { t: 'done'; id: string; ok: false; error: ErrorInfo; fatal?: boolean };

interface Pending {
  id: string;
  resolve: (json: string) => void;
  reject: (err: InvocationError) => void;
}

class Instance {
  readonly child: ChildProcess;
  readonly ready: Promise<number>;
  readonly startedAt = performance.now();
  pending: Pending | null = null;
  idleTimer: NodeJS.Timeout | null = null;
  exited = false;
  /** The instance reported a crash; it exits soon and must not take another call. */
  doomed = false;
  private stderrTail = '';

  constructor(
    readonly spec: FunctionSpec,
    bundlePath: string,
    env: Record<string, string>,
    onOutput: (line: string, stream: 'stdout' | 'stderr') => void,
    execArgv: string[] = [],
  ) {
    this.child = fork(RUNNER_PATH, [], {
      execPath: process.execPath,
      // The configured memorySize bounds the heap the way the platform bounds the instance.
      execArgv: [`--max-old-space-size=${spec.memoryMb}`, ...execArgv],
      env: { ...env, __WXCLOUD_HOST_BUNDLE: bundlePath },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    pipeLines(this.child.stdout, (line) => onOutput(line, 'stdout'));
    pipeLines(this.child.stderr, (line) => {
      this.stderrTail = (this.stderrTail + line + '\n').slice(-2000);
      onOutput(line, 'stderr');
    });
    this.ready = new Promise<number>((resolve, reject) => {
      const onMessage = (msg: WorkerMessage) => {
        if (msg.t === 'ready') {
          this.child.off('message', onMessage);
          resolve(performance.now() - this.startedAt);
        } else if (msg.t === 'load-error') {
          this.child.off('message', onMessage);
          reject(
            new InvocationError(
              'FUNCTION_INVOCATION_FAILED',
              `${spec.name} failed to load: ${msg.error.name}: ${msg.error.message}`,
            ),
          );
        }
      };
      this.child.on('message', onMessage);
      this.child.once('exit', () => reject(this.exitError()));
    });
    this.ready.catch(() => undefined);
    this.child.on('message', (msg: WorkerMessage) => {
      if (msg.t !== 'done' || !this.pending || this.pending.id !== msg.id) return;
      const p = this.pending;
      this.pending = null;
      if (!msg.ok && msg.fatal) this.doomed = true;
      if (msg.ok) p.resolve(msg.json);
      else
        p.reject(
          new InvocationError('FUNCTION_INVOCATION_FAILED', `${msg.error.name}: ${msg.error.message}`),
        );
    });
    this.child.once('exit', () => {
      this.exited = true;
      if (!this.pending) return;
      const p = this.pending;
      this.pending = null;
      // The last stderr lines (V8's out-of-memory report) may arrive just after 'exit'.
      const settle = () => p.reject(this.exitError());
      const timer = setTimeout(settle, 200);
      this.child.once('close', () => {
        clearTimeout(timer);
        settle();
      });
    });
    // A failed fork (e.g. EAGAIN) surfaces as 'error' and, when the process never started, no 'exit'.
    this.child.on('error', () => {
      if (this.child.exitCode === null && this.child.pid === undefined) this.child.emit('exit', null, null);
    });
  }

  private exitError(): InvocationError {
    const { exitCode, signalCode } = this.child;
    if (/heap out of memory|Allocation failed/i.test(this.stderrTail)) {
      return new InvocationError(
        'FUNCTION_MEMORY_LIMIT_EXCEEDED',
        `${this.spec.name} exceeded its memory limit of ${this.spec.memoryMb} MB (memorySize in cloudbaserc.json) and its instance was stopped`,
      );
    }
    return new InvocationError(
      'FUNCTION_INVOCATION_FAILED',
      `the instance of ${this.spec.name} exited during the invocation (${signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`}); see its log output`,
    );
  }

  run(msg: { id: string; [field: string]: unknown }): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      // An instance that crashed right after its last answer may still be in the pool for a moment.
      if (this.exited || this.doomed || !this.child.connected) return reject(this.exitError());
      this.pending = { id: msg.id, resolve, reject };
      this.child.send({ t: 'invoke', ...msg });
    });
  }

  /** Lets the instance exit on its own (it exits when the IPC channel closes), then kills it. */
  stop(graceMs = 1000): Promise<void> {
    if (this.exited || this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.resolve();
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    return exited.finally(() => clearTimeout(timer));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exited || this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(signal);
    });
  }
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
    rest = '';
  });
}

export interface PoolOptions {
  spec: FunctionSpec;
  bundlePath: string;
  env: () => Record<string, string>;
  maxInstances: number;
  maxQueue: number;
  idleTimeoutMs: number;
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Extra node flags for instances (--inspect, --cpu-prof …). */
  execArgv?: string[];
}

interface Waiter {
  resolve: (got: { instance: Instance; cold: boolean }) => void;
  reject: (err: InvocationError) => void;
}

export class InstancePool {
  private readonly all = new Set<Instance>();
  private readonly idle: Instance[] = [];
  private readonly waiters: Waiter[] = [];
  private closed = false;

  /** Bumped by recycle(); busy instances of an older generation are retired when they finish. */
  private generation = 0;
  private readonly generations = new WeakMap<Instance, number>();

  constructor(private readonly opts: PoolOptions) {}

  get size(): number {
    return this.all.size;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  async invoke(req: InvokeRequest): Promise<InvokeResult> {
    const { spec } = this.opts;
    const { instance, cold } = await this.acquire();
    let coldStartMs: number | undefined;
    try {
      const readyMs = await withTimeout(instance.ready, Math.max(spec.timeoutMs, 30_000), () => {
        void instance.kill();
        return new InvocationError(
          'FUNCTION_TIME_LIMIT_EXCEEDED',
          `${spec.name} did not finish loading in time; check its top-level code`,
        );
      });
      if (cold) coldStartMs = readyMs;
    } catch (err) {
      this.retire(instance);
      throw tagged(err, cold, undefined);
    }
    const context: InvocationContext = {
      request_id: req.requestId,
      function_name: spec.name,
      function_version: '$LATEST',
      namespace: req.envId,
      memory_limit_in_mb: spec.memoryMb,
      time_limit_in_ms: spec.timeoutMs,
      tencentcloud_region: req.region,
      environ: Object.entries({
        ...req.identity,
        TCB_ENV: req.envId,
        SCF_NAMESPACE: req.envId,
        TCB_SOURCE: req.source,
      })
        .map(([k, v]) => `${k}=${v};`)
        .join(''),
    };
    const started = performance.now();
    let json: string;
    try {
      json = await withTimeout(
        instance.run({
          id: req.requestId,
          event: req.event,
          context,
          identity: req.identity,
          source: req.source,
        }),
        spec.timeoutMs,
        () => {
          // An overrun instance is killed, never reused: its code may still be running.
          void instance.kill();
          return new InvocationError(
            'FUNCTION_TIME_LIMIT_EXCEEDED',
            `Invoking task timed out after ${spec.timeoutMs / 1000} seconds (timeout of ${spec.name} in cloudbaserc.json)`,
          );
        },
      );
    } catch (err) {
      if (
        instance.doomed ||
        instance.exited ||
        instance.pending ||
        (err as InvocationError).code !== 'FUNCTION_INVOCATION_FAILED'
      )
        this.retire(instance);
      else this.release(instance);
      throw tagged(err, cold, coldStartMs);
    }
    const durationMs = performance.now() - started;
    this.release(instance);
    return { json, cold, coldStartMs, durationMs };
  }

  private acquire(): Promise<{ instance: Instance; cold: boolean }> {
    if (this.closed)
      return Promise.reject(
        new InvocationError('FUNCTION_INVOCATION_FAILED', 'the function host is shutting down'),
      );
    const warm = this.takeIdle();
    if (warm) return Promise.resolve({ instance: warm, cold: false });
    if (this.all.size < this.opts.maxInstances)
      return Promise.resolve({ instance: this.spawn(), cold: true });
    if (this.waiters.length >= this.opts.maxQueue) {
      return Promise.reject(
        new InvocationError(
          'FUNCTION_EXCEED_RESOURCE_LIMIT',
          `${this.opts.spec.name} has ${this.opts.maxInstances} busy instances and ${this.waiters.length} queued calls; retry later`,
        ),
      );
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private takeIdle(): Instance | undefined {
    while (this.idle.length > 0) {
      const inst = this.idle.pop()!;
      if (inst.idleTimer) clearTimeout(inst.idleTimer);
      inst.idleTimer = null;
      if (!inst.exited) return inst;
    }
    return undefined;
  }

  private spawn(): Instance {
    const inst = new Instance(
      this.opts.spec,
      this.opts.bundlePath,
      this.opts.env(),
      this.opts.onOutput,
      this.opts.execArgv,
    );
    this.generations.set(inst, this.generation);
    this.all.add(inst);
    inst.child.once('exit', () => {
      this.all.delete(inst);
      const i = this.idle.indexOf(inst);
      if (i >= 0) this.idle.splice(i, 1);
      if (inst.idleTimer) clearTimeout(inst.idleTimer);
      this.drain();
    });
    return inst;
  }

  private release(inst: Instance): void {
    // Started before the last recycle(): it still has the old bundle / environment.
    if (this.closed || inst.exited || this.generations.get(inst) !== this.generation) {
      this.retire(inst);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ instance: inst, cold: false });
      return;
    }
    inst.idleTimer = setTimeout(() => this.retire(inst), this.opts.idleTimeoutMs);
    inst.idleTimer.unref();
    this.idle.push(inst);
  }

  private retire(inst: Instance): void {
    void inst.kill();
    const i = this.idle.indexOf(inst);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Hands freed capacity to queued calls (an instance exited, so a new one may start). */
  private drain(): void {
    while (!this.closed && this.waiters.length > 0 && this.all.size < this.opts.maxInstances) {
      this.waiters.shift()!.resolve({ instance: this.spawn(), cold: true });
    }
  }

  /** Stops idle instances so the next call starts fresh ones (new code or new environment). */
  recycle(): void {
    this.generation++;
    for (const inst of [...this.idle]) this.retire(inst);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0))
      w.reject(new InvocationError('FUNCTION_INVOCATION_FAILED', 'the function host is shutting down'));
    // Busy instances are killed (their callers were answered above or get a shutdown error); idle ones
    // are let go gracefully so that exit hooks (coverage, --cpu-prof) still run.
    await Promise.all([...this.all].map((inst) => (inst.pending ? inst.kill() : inst.stop())));
  }
}

function tagged(err: unknown, cold: boolean, coldStartMs: number | undefined): unknown {
  if (err instanceof InvocationError) {
    err.cold = cold;
    err.coldStartMs = coldStartMs;
  }
  return err;
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
