// When a function's pool starts another instance. A queued call takes the first instance that is free,
// so a new instance only helps when the queue would take longer to drain through the instances there
// are than a cold start costs; both times are moving averages of what this pool measured. Pure.

/** Weight of the newest measurement; the seeds are pessimistic so a first burst scales out. */
const EWMA = 0.2;
const INITIAL_RUN_MS = 100;
const INITIAL_COLD_MS = 500;

export class LoadEstimate {
  /** Typical invocation, instance ready to answer. */
  runMs = INITIAL_RUN_MS;
  /** Typical cold start, process start to bundle loaded. */
  coldMs = INITIAL_COLD_MS;

  ran(ms: number): void {
    this.runMs += EWMA * (ms - this.runMs);
  }

  started(ms: number): void {
    this.coldMs += EWMA * (ms - this.coldMs);
  }
}

export function worthStarting(s: {
  queued: number;
  /** Instances still loading: each takes one queued call when ready. */
  starting: number;
  /** All instances, loading ones included. */
  instances: number;
  estimate: { runMs: number; coldMs: number };
}): boolean {
  if (s.queued <= s.starting) return false;
  if (s.instances === 0) return true;
  const drainMs = (s.queued / s.instances) * s.estimate.runMs;
  return drainMs > s.estimate.coldMs;
}
