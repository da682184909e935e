// What happened to recent invocations, kept in memory for the web console (and tests): one record per
// invocation, never the request or response body — those may carry secrets.
import { EventEmitter } from 'node:events';

/** `crash`: the instance died during the call (its own crash or a crash fault); it is replaced. */
export type InvocationOutcome = 'ok' | 'error' | 'timeout' | 'memory' | 'rejected' | 'crash';

export type Trigger = 'callFunction' | 'http' | 'timer';

export interface InvocationRecord {
  requestId: string;
  functionName: string;
  trigger: Trigger;
  /** ISO time the call arrived. */
  at: string;
  cold: boolean;
  /** Process start to bundle loaded, when this call started a new instance. */
  coldStartMs?: number;
  /** Arrival to answer, queueing and cold start included. */
  durationMs: number;
  /** Arrival to an instance ready for the call (a free instance, or a new one loaded). */
  queuedMs?: number;
  /** Successful calls: the function's own wall time inside the instance, handler called to result. */
  runMs?: number;
  /** Successful calls: the instance's CPU over the same span. */
  runCpuMs?: number;
  outcome: InvocationOutcome;
  /** HTTP status the host answered with. */
  status: number;
  openid?: string;
  errorMessage?: string;
  /** HTTP triggers: the body was handed over base64-encoded (`isBase64Encoded: true`). */
  base64Body?: boolean;
}

export class InvocationLog extends EventEmitter {
  private readonly ring: InvocationRecord[] = [];

  constructor(private readonly capacity = 500) {
    super();
  }

  add(record: InvocationRecord): void {
    this.ring.push(record);
    if (this.ring.length > this.capacity) this.ring.shift();
    this.emit('invocation', record);
  }

  /** Newest last. */
  recent(limit = this.capacity): InvocationRecord[] {
    return this.ring.slice(-limit);
  }
}

export function formatInvocation(r: InvocationRecord): string {
  const start = r.cold
    ? `cold start ${r.coldStartMs === undefined ? '?' : Math.round(r.coldStartMs)} ms`
    : 'warm';
  const err = r.errorMessage ? ` — ${r.errorMessage}` : '';
  // Waiting shows only when it is a visible share of the call.
  const queued = r.queuedMs !== undefined && r.queuedMs >= 10 ? ` (queued ${Math.round(r.queuedMs)} ms)` : '';
  return `[host] ${r.functionName} ${r.requestId} ${start} ${r.durationMs.toFixed(1)} ms ${r.outcome} ${r.status}${queued}${err}`;
}
