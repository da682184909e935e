// What happened to recent invocations, kept in memory for the web console (and tests): one record per
// invocation, never the request or response body — those may carry secrets.
import { EventEmitter } from 'node:events';

export type InvocationOutcome = 'ok' | 'error' | 'timeout' | 'memory' | 'rejected';

export interface InvocationRecord {
  requestId: string;
  functionName: string;
  trigger: 'callFunction' | 'http' | 'timer';
  /** ISO time the call arrived. */
  at: string;
  cold: boolean;
  /** Process start to bundle loaded, when this call started a new instance. */
  coldStartMs?: number;
  /** Arrival to answer, queueing and cold start included. */
  durationMs: number;
  outcome: InvocationOutcome;
  /** HTTP status the host answered with. */
  status: number;
  openid?: string;
  errorMessage?: string;
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
  return `[host] ${r.functionName} ${r.requestId} ${start} ${r.durationMs.toFixed(1)} ms ${r.outcome} ${r.status}${err}`;
}
