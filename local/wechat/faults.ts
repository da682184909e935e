// Faults injected on demand through `POST /sim/faults`: each one affects the next `count` calls of
// its target, then disappears.

export const API_TARGETS = [
  'jsapi',
  'query',
  'close',
  'refund',
  'refundQuery',
  'certificates',
  'jscode2session',
  'unifiedorder',
  'orderquery',
  'closeorder',
  'v2refund',
  'refundquery',
  'tradebill',
  'fundflowbill',
  'billdownload',
  'downloadbill',
  'shipping',
  'phone',
  'subscribe',
] as const;
export type ApiTarget = (typeof API_TARGETS)[number];
export type FaultTarget = ApiTarget | 'notify';

/**
 * `timeout`: no answer (or, with delayMs, a late one: the request is processed after the caller gave
 * up). `lostResponse`: the request is processed at once and its answer never arrives — WeChat did it,
 * the caller cannot know. `notEnough`: refunds only, the merchant balance is short.
 */
export const API_FAULT_KINDS = [
  'timeout',
  'lostResponse',
  '5xx',
  'rateLimit',
  'notEnough',
  'tamper',
] as const;
export const NOTIFY_FAULT_KINDS = ['drop', 'duplicate', 'delay', 'reorder', 'signtest'] as const;
export type FaultKind = (typeof API_FAULT_KINDS)[number] | (typeof NOTIFY_FAULT_KINDS)[number];

export interface Fault {
  id: number;
  target: FaultTarget;
  kind: FaultKind;
  /** Calls still affected; for `duplicate`, the number of extra copies of one notification. */
  remaining: number;
  count: number;
  delayMs?: number;
}

export interface FaultRequest {
  target?: unknown;
  kind?: unknown;
  count?: unknown;
  delayMs?: unknown;
}

export class FaultRegistry {
  private faults: Fault[] = [];
  private nextId = 1;

  /** Validates and records a fault; throws with a readable message when the request makes no sense. */
  add(req: FaultRequest): Fault {
    const target = req.target;
    const kind = req.kind;
    const isNotify = target === 'notify';
    if (!isNotify && !(API_TARGETS as readonly unknown[]).includes(target)) {
      throw new Error(
        `unknown fault target ${JSON.stringify(target)}; use one of ${[...API_TARGETS, 'notify'].join(', ')}`,
      );
    }
    const kinds: readonly string[] = isNotify ? NOTIFY_FAULT_KINDS : API_FAULT_KINDS;
    if (typeof kind !== 'string' || !kinds.includes(kind)) {
      throw new Error(`fault kind for ${String(target)} must be one of ${kinds.join(', ')}`);
    }
    if (kind === 'notEnough' && target !== 'refund' && target !== 'v2refund')
      throw new Error('notEnough applies to refund and v2refund only');
    // tamper: the bill file arrives altered (valid gzip, wrong content), so only its hash can tell.
    if (kind === 'tamper' && target !== 'billdownload')
      throw new Error('tamper applies to billdownload only');
    const count = req.count === undefined ? (kind === 'duplicate' ? 2 : 1) : req.count;
    if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 1000)
      throw new Error('count must be an integer 1–1000');
    if (
      req.delayMs !== undefined &&
      (!Number.isInteger(req.delayMs) || (req.delayMs as number) < 0 || (req.delayMs as number) > 600_000)
    ) {
      throw new Error('delayMs must be an integer 0–600000');
    }
    if (kind === 'delay' && req.delayMs === undefined) throw new Error('delay needs delayMs');
    const fault: Fault = {
      id: this.nextId++,
      target: target as FaultTarget,
      kind: kind as FaultKind,
      count: count as number,
      remaining: kind === 'duplicate' ? 1 : (count as number),
      ...(req.delayMs !== undefined ? { delayMs: req.delayMs as number } : {}),
    };
    this.faults.push(fault);
    return fault;
  }

  /** Consumes one use of the first fault for `target` (optionally of given kinds). */
  take(target: FaultTarget, kinds?: readonly FaultKind[]): Fault | undefined {
    const fault = this.faults.find((f) => f.target === target && (!kinds || kinds.includes(f.kind)));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return { ...fault };
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  clear(): void {
    this.faults = [];
  }
}
