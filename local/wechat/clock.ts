// The simulator's clock: wall time plus an offset that `/sim/clock {advanceSeconds}` moves forward,
// and a scheduler whose delays are divided by `timeScale` so hours of retries fit in a test.
// Business times (expiry, success_time) follow this clock; signature timestamps use the wall clock
// because clients compare them with their own.

interface Job {
  id: number;
  dueAt: number;
  run: () => void;
}

export class SimClock {
  private offsetMs = 0;
  private jobs = new Map<number, Job>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(public timeScale = 1) {
    if (!(timeScale > 0)) throw new Error('timeScale must be > 0');
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves simulated time forward and runs whatever fell due. */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new Error('advanceSeconds must be ≥ 0');
    this.offsetMs += seconds * 1000;
    this.arm();
  }

  setScale(scale: number): void {
    if (!(scale > 0) || !Number.isFinite(scale)) throw new Error('timeScale must be a positive number');
    this.timeScale = scale;
  }

  /** Runs `run` after `delayMs` of WeChat time (i.e. delayMs / timeScale of wall time). */
  schedule(delayMs: number, run: () => void): { cancel(): void; dueAt: number } {
    const id = this.nextId++;
    const dueAt = this.now() + Math.max(0, delayMs) / this.timeScale;
    this.jobs.set(id, { id, dueAt, run });
    this.arm();
    return { cancel: () => this.cancel(id), dueAt };
  }

  private cancel(id: number): void {
    this.jobs.delete(id);
    this.arm();
  }

  cancelAll(): void {
    this.jobs.clear();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.cancelAll();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.jobs.size === 0) return;
    let first = Infinity;
    for (const j of this.jobs.values()) first = Math.min(first, j.dueAt);
    const wait = Math.max(0, Math.min(first - this.now(), 2 ** 31 - 1));
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.now();
    const due = [...this.jobs.values()].filter((j) => j.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    for (const j of due) this.jobs.delete(j.id);
    this.arm();
    for (const j of due) {
      try {
        j.run();
      } catch (err) {
        console.error('[wechat-sim] scheduled job failed:', err);
      }
    }
  }
}
