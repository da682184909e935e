// One function instance: a separate Node process (worker-runner.cjs) that loads the bundle once and
// then handles one invocation at a time, told what to do over IPC. Its death during an invocation
// becomes the platform's error for that invocation (memory limit, crash, a crash fault).
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FunctionSpec } from './functions-config';
import { InvocationError } from './platform-errors';

export const RUNNER_PATH = join(__dirname, 'worker-runner.cjs');

interface ErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

type WorkerMessage =
  | { t: 'ready'; loadMs: number }
  | { t: 'load-error'; error: ErrorInfo }
  | ({ t: 'done'; id: string; ok: true; json: string } & RunTimes)
  | ({ t: 'done'; id: string; ok: false; error: ErrorInfo; fatal?: boolean } & RunTimes);

/** The function's own time inside the instance, handler called to result (no host → instance hop). */
export interface RunTimes {
  runMs: number;
  /** CPU of the instance process (all its threads) over the same span. */
  runCpuMs: number;
}

export interface RunOutput extends RunTimes {
  /** The JSON text of what the function returned. */
  json: string;
}

interface Pending {
  id: string;
  resolve: (out: RunOutput) => void;
  reject: (err: InvocationError) => void;
}

export class Instance {
  readonly child: ChildProcess;
  readonly ready: Promise<number>;
  readonly startedAt = performance.now();
  pending: Pending | null = null;
  idleTimer: NodeJS.Timeout | null = null;
  exited = false;
  /** Process start to bundle loaded, once ready. */
  readyMs?: number;
  /** Killed on purpose by a crash fault (POST /host/faults), not by its own code. */
  killedByFault = false;
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
          this.readyMs = performance.now() - this.startedAt;
          resolve(this.readyMs);
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
      if (msg.ok) p.resolve({ json: msg.json, runMs: msg.runMs, runCpuMs: msg.runCpuMs });
      else
        p.reject(
          new InvocationError('FUNCTION_INVOCATION_FAILED', `${msg.error.name}: ${msg.error.message}`, {
            crashed: msg.fatal === true,
          }),
        );
    });
    this.child.once('exit', () => {
      this.exited = true;
      if (this.deadline) clearTimeout(this.deadline);
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
    if (this.killedByFault)
      return new InvocationError(
        'FUNCTION_INVOCATION_FAILED',
        `the instance of ${this.spec.name} was killed (SIGKILL) during the invocation by a crash fault (POST /host/faults); the next call starts a new instance`,
        { crashed: true },
      );
    if (/heap out of memory|Allocation failed/i.test(this.stderrTail)) {
      return new InvocationError(
        'FUNCTION_MEMORY_LIMIT_EXCEEDED',
        `${this.spec.name} exceeded its memory limit of ${this.spec.memoryMb} MB (memorySize in cloudbaserc.json) and its instance was stopped`,
      );
    }
    return new InvocationError(
      'FUNCTION_INVOCATION_FAILED',
      `the instance of ${this.spec.name} exited during the invocation (${signalCode ? `signal ${signalCode}` : `exit code ${exitCode}`}); see its log output`,
      { crashed: true },
    );
  }

  /**
   * Runs one invocation; after `timeoutMs` it is rejected with `onOverrun()`'s error (which should kill
   * the instance: its code may still be running).
   */
  run(
    msg: { id: string; [field: string]: unknown },
    timeoutMs: number,
    onOverrun: () => InvocationError,
  ): Promise<RunOutput> {
    return new Promise<RunOutput>((resolve, reject) => {
      // An instance that crashed right after its last answer may still be in the pool for a moment.
      if (this.exited || this.doomed || !this.child.connected) return reject(this.exitError());
      this.pending = { id: msg.id, resolve, reject };
      this.overrun = onOverrun;
      this.armDeadline(timeoutMs);
      msg.t = 'invoke';
      this.child.send(msg);
    });
  }

  // One timer per instance, re-armed (refresh) at the start of each call rather than a new timer per
  // call: creating and clearing a timer each time costs the host a libuv reschedule per invocation. It
  // may fire after the call has ended; then nothing is pending and it does nothing.
  private deadline: NodeJS.Timeout | null = null;
  private deadlineMs = 0;
  private overrun: (() => InvocationError) | null = null;

  private armDeadline(timeoutMs: number): void {
    if (this.deadline && this.deadlineMs === timeoutMs) {
      this.deadline.refresh();
      return;
    }
    if (this.deadline) clearTimeout(this.deadline);
    this.deadlineMs = timeoutMs;
    this.deadline = setTimeout(() => {
      // Re-armed when the pending call started, so a pending call here has run for timeoutMs.
      const p = this.pending;
      if (p && this.overrun) p.reject(this.overrun());
    }, timeoutMs);
    this.deadline.unref();
  }

  /**
   * A crash fault: SIGKILL `afterMs` into invocation `id`, if it is still running then. The returned
   * function disarms it and tells whether the kill happened.
   */
  crashDuring(id: string, afterMs: number): () => boolean {
    let fired = false;
    const timer = setTimeout(() => {
      if (this.pending?.id !== id) return;
      fired = true;
      this.killedByFault = true;
      void this.kill('SIGKILL');
    }, afterMs);
    return () => {
      clearTimeout(timer);
      return fired;
    };
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
