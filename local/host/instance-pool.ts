// The instances of one function, as the platform schedules them: calls wait in one queue and each
// takes the first instance that is free — a warm one finishing its call or a new one done loading —
// instead of binding itself to an instance it started. New instances start ahead of demand when the
// queue would take longer to drain than a cold start costs, a few at a time (on a small machine more
// simultaneous cold starts only slow each other and every warm call down), up to a bound; calls queue
// beyond it. Idle instances retire; an invocation that overruns its timeout has its instance killed.
// Longer than 250 lines because the queue, scale-out, kept-warm instances and retirement change one
// shared state and are easier to check read together than split across files.
import { performance } from 'node:perf_hooks';
import type { FunctionSpec } from './functions-config';
import { Instance, type RunOutput } from './instance';
import { contextOf, type CrashPlan, type InvokeRequest, type InvokeResult } from './invocation-context';
import { InvocationError, tagged } from './platform-errors';
import { LoadEstimate, worthStarting } from './scaling';
import { withTimeout } from './with-timeout';

export type { CrashPlan, InvokeRequest, InvokeResult } from './invocation-context';

export interface PoolOptions {
  spec: FunctionSpec;
  bundlePath: string;
  env: () => Record<string, string>;
  maxInstances: number;
  maxQueue: number;
  /** Cold starts in progress at once. */
  maxStarting: number;
  idleTimeoutMs: number;
  onOutput: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Extra node flags for instances (--inspect, --cpu-prof …). */
  execArgv?: string[];
}

interface Waiter {
  /** `cold`: the call waited for this instance to start. */
  resolve: (got: { instance: Instance; cold: boolean }) => void;
  reject: (err: InvocationError) => void;
}

export class InstancePool {
  private readonly all = new Set<Instance>();
  private readonly starting = new Set<Instance>();
  private readonly idle: Instance[] = [];
  private readonly waiters: Waiter[] = [];
  private closed = false;
  private readonly load = new LoadEstimate();
  /** Instances kept started even without calls (keepWarm, the platform's provisioned concurrency). */
  private warm = 0;
  /** The bundle failed to load: instances are no longer kept warm (it would only fail again) until a recycle. */
  private loadFailed = false;

  /** Bumped by recycle(); instances of an older generation are retired when they finish. */
  private generation = 0;
  private readonly generations = new WeakMap<Instance, number>();

  constructor(private readonly opts: PoolOptions) {}

  get bundlePath(): string {
    return this.opts.bundlePath;
  }

  get size(): number {
    return this.all.size;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Instances started (loading, busy or idle), idle ones, and calls waiting. */
  stats(): { instances: number; idle: number; queued: number } {
    return { instances: this.all.size, idle: this.idle.length, queued: this.waiters.length };
  }

  async invoke(req: InvokeRequest, crash?: CrashPlan): Promise<InvokeResult> {
    const { spec } = this.opts;
    const arrived = performance.now();
    // A free warm instance is taken at once, without a promise; otherwise the call waits in the queue.
    const idle = this.closed ? undefined : this.takeIdle();
    const { instance, cold } = idle
      ? { instance: idle, cold: false }
      : await this.acquire().catch((err: unknown) => {
          crash?.missed(); // no instance ran the call, so none was crashed
          throw err;
        });
    const queuedMs = performance.now() - arrived;
    const coldStartMs = cold ? instance.readyMs : undefined;
    const started = performance.now();
    const disarm =
      crash && instance.crashDuring(req.requestId, crash.afterMs ?? Math.random() * this.load.runMs);
    let out: RunOutput;
    try {
      out = await instance.run(
        {
          t: 'invoke',
          id: req.requestId,
          event: req.event,
          context: contextOf(req, spec),
          identity: req.identity,
          source: req.source,
        },
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
      throw tagged(err, { cold, coldStartMs, queuedMs });
    } finally {
      if (disarm && !disarm()) crash.missed();
    }
    const durationMs = performance.now() - started;
    this.load.ran(durationMs);
    this.release(instance);
    return {
      json: out.json,
      cold,
      coldStartMs,
      queuedMs,
      durationMs,
      runMs: out.runMs,
      runCpuMs: out.runCpuMs,
    };
  }

  private acquire(): Promise<{ instance: Instance; cold: boolean }> {
    if (this.closed)
      return Promise.reject(
        new InvocationError('FUNCTION_INVOCATION_FAILED', 'the function host is shutting down'),
      );
    const warm = this.takeIdle();
    if (warm) return Promise.resolve({ instance: warm, cold: false });
    if (this.waiters.length >= this.opts.maxQueue) {
      return Promise.reject(
        new InvocationError(
          'FUNCTION_EXCEED_RESOURCE_LIMIT',
          `${this.opts.spec.name} has ${this.all.size} busy instances and ${this.waiters.length} queued calls; retry later`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.scale();
    });
  }

  private takeIdle(): Instance | undefined {
    while (this.idle.length > 0) {
      const inst = this.idle.pop()!;
      if (!inst.exited) return inst;
    }
    return undefined;
  }

  /** Starts instances while the queue would take longer to drain than starting one more costs. */
  private scale(): void {
    while (!this.closed && !this.loadFailed && this.all.size < Math.min(this.warm, this.opts.maxInstances))
      this.spawn();
    while (
      !this.closed &&
      this.starting.size < this.opts.maxStarting &&
      this.all.size < this.opts.maxInstances &&
      worthStarting({
        queued: this.waiters.length,
        starting: this.starting.size,
        instances: this.all.size,
        estimate: this.load,
      })
    )
      this.spawn();
  }

  private spawn(): void {
    const { spec } = this.opts;
    const inst = new Instance(
      spec,
      this.opts.bundlePath,
      this.opts.env(),
      this.opts.onOutput,
      this.opts.execArgv,
    );
    this.generations.set(inst, this.generation);
    this.all.add(inst);
    this.starting.add(inst);
    inst.child.once('exit', () => {
      this.all.delete(inst);
      this.starting.delete(inst);
      const i = this.idle.indexOf(inst);
      if (i >= 0) this.idle.splice(i, 1);
      if (inst.idleTimer) clearTimeout(inst.idleTimer);
      this.scale();
    });
    withTimeout(inst.ready, Math.max(spec.timeoutMs, 30_000), () => {
      void inst.kill();
      return new InvocationError(
        'FUNCTION_TIME_LIMIT_EXCEEDED',
        `${spec.name} did not finish loading in time; check its top-level code`,
      );
    }).then(
      (readyMs) => {
        this.starting.delete(inst);
        this.loadFailed = false;
        this.load.started(readyMs);
        this.offer(inst, true);
        this.scale();
      },
      (err: unknown) => {
        this.starting.delete(inst);
        this.retire(inst);
        // A bundle that fails to load fails the same way in every new instance: the queued calls get
        // its error now rather than each starting another instance to find out.
        this.loadFailed = true;
        const error = tagged(err, { cold: true, coldStartMs: undefined, queuedMs: undefined });
        for (const w of this.waiters.splice(0)) w.reject(error as InvocationError);
      },
    );
  }

  /** A ready instance takes the oldest queued call, or waits idle. */
  private offer(inst: Instance, fresh = false): void {
    // Started before the last recycle(): it still has the old bundle / environment.
    if (this.closed || inst.exited || this.generations.get(inst) !== this.generation) {
      this.retire(inst);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve({ instance: inst, cold: fresh });
      return;
    }
    // One idle timer per instance, re-armed each time it goes idle (cheaper than a new timer per call);
    // when it fires while the instance is busy again it does nothing.
    if (inst.idleTimer) inst.idleTimer.refresh();
    else {
      inst.idleTimer = setTimeout(() => {
        if (this.idle.includes(inst) && this.all.size > this.warm) this.retire(inst);
      }, this.opts.idleTimeoutMs);
      inst.idleTimer.unref();
    }
    this.idle.push(inst);
  }

  private release(inst: Instance): void {
    this.offer(inst);
    this.scale();
  }

  private retire(inst: Instance): void {
    void inst.kill();
    const i = this.idle.indexOf(inst);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Stops idle instances so the next call starts fresh ones (new code or new environment). */
  recycle(): void {
    this.generation++;
    this.loadFailed = false;
    for (const inst of [...this.idle]) this.retire(inst);
  }

  /** Keeps `count` instances started from now on, replacing any that exit; 0 stops doing so. */
  keepWarm(count: number): void {
    this.warm = count;
    this.scale();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0))
      w.reject(new InvocationError('FUNCTION_INVOCATION_FAILED', 'the function host is shutting down'));
    // Busy and loading instances are killed (their callers get a shutdown error); idle ones are let
    // go gracefully so that exit hooks (coverage, --cpu-prof) still run.
    await Promise.all(
      [...this.all].map((inst) => (inst.pending || this.starting.has(inst) ? inst.kill() : inst.stop())),
    );
  }
}
