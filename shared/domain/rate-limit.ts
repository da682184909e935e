// Per-user limits on the calls that spend WeChat Pay's per-merchant quota (docs/numbers.md#per-user-limits),
// as pure rules: which window a moment falls in, and what one more call does to a stored counter.
// The counter lives in the database (shared/db/rate-limits.ts) so that every instance sees the same count.

export interface WindowLimit {
  /** Calls allowed in one window. */
  limit: number;
  windowMs: number;
}

/** Every per-user limit, in one place. Reconcile (the timer) goes through none of them. */
export const RATE_LIMITS = {
  /** New prepays per openid (a keyed retry that reuses a live prepay costs nothing). Admins included. */
  prepay: { limit: 10, windowMs: 60_000 },
  /** Refund requests per owner that reach WeChat (admins are not limited: shared/usecases/rate-limit.ts). */
  refund: { limit: 5, windowMs: 60_000 },
} as const satisfies Record<string, WindowLimit>;

export type LimitedAction = keyof typeof RATE_LIMITS;

/**
 * orders.get asks WeChat about one order (its trade, its PROCESSING refunds) at most once in this
 * interval, whoever asks; inside it the stored order is the answer.
 */
export const ORDER_QUERY_INTERVAL_MS = 5_000;

/** The stored counter of one (action, openid): calls counted in the window starting at `windowStartMs`. */
export interface WindowCounter {
  windowStartMs: number;
  count: number;
}

/** Windows are aligned to multiples of their length, so instances whose clocks agree pick the same one. */
export function windowStartOf(limit: WindowLimit, nowMs: number): number {
  return Math.floor(nowMs / limit.windowMs) * limit.windowMs;
}

/** Whole seconds (at least 1) until a window that started at `windowStartMs` ends. */
export function secondsUntilWindowEnds(limit: WindowLimit, windowStartMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((windowStartMs + limit.windowMs - nowMs) / 1000));
}

function isCounter(c: Partial<WindowCounter> | undefined): c is WindowCounter {
  return (
    c !== undefined &&
    typeof c.windowStartMs === 'number' &&
    Number.isFinite(c.windowStartMs) &&
    typeof c.count === 'number' &&
    Number.isFinite(c.count)
  );
}

/**
 * What one more call does, given the stored counter (undefined: none yet):
 * - `insert`: the first call of this user ever (or since the document was removed);
 * - `reset`: the stored window is over (or the document is unreadable): start the current one at 1;
 * - `count`: the stored window is current and has room: add one, conditional on still having room;
 * - `limited`: the stored window is current and full.
 * A window that starts later than ours (another instance's clock is ahead) is still current.
 */
export type ChargeDecision =
  | { kind: 'insert'; counter: WindowCounter }
  | { kind: 'reset'; from: Partial<WindowCounter>; counter: WindowCounter }
  | { kind: 'count'; windowStartMs: number }
  | { kind: 'limited'; retryAfterSeconds: number };

export function decideCharge(
  stored: Partial<WindowCounter> | undefined,
  limit: WindowLimit,
  nowMs: number,
): ChargeDecision {
  const current = { windowStartMs: windowStartOf(limit, nowMs), count: 1 };
  if (stored === undefined) return { kind: 'insert', counter: current };
  if (!isCounter(stored) || stored.windowStartMs + limit.windowMs <= nowMs)
    return { kind: 'reset', from: stored, counter: current };
  if (stored.count < limit.limit) return { kind: 'count', windowStartMs: stored.windowStartMs };
  return {
    kind: 'limited',
    retryAfterSeconds: secondsUntilWindowEnds(limit, stored.windowStartMs, nowMs),
  };
}
