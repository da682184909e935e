// The `reconciliations` document (one per China-time day) and the pure rules around it: the day's
// bounds, how a rerun merges with the previous result, and the status.

export type DiscrepancyKind =
  'missing-local' | 'missing-in-bill' | 'amount-mismatch' | 'state-mismatch' | 'repaired';

export interface Discrepancy {
  kind: DiscrepancyKind;
  outTradeNo?: string;
  outRefundNo?: string;
  local?: Record<string, unknown>;
  wechat?: Record<string, unknown>;
}

export interface LedgerTotals {
  payments: number;
  paymentFen: number;
  refunds: number;
  refundFen: number;
}

export type ReconciliationStatus = 'matched' | 'discrepancies' | 'unavailable';

export interface ReconciliationDoc {
  /** YYYY-MM-DD, China time. */
  _id: string;
  status: ReconciliationStatus;
  runAt: Date;
  local: LedgerTotals;
  wechat: LedgerTotals;
  discrepancies: Discrepancy[];
  /** Why the bill could not be compared (status unavailable): WeChat's code and message, or the hash check's. */
  unavailable?: { code: string; message: string };
  /** Discrepancies beyond MAX_DISCREPANCIES that were counted but not listed. */
  omitted?: number;
}

/** A day with this many differences is a systemic problem; the list stays readable and the document small. */
export const MAX_DISCREPANCIES = 1000;

export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const CST_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** [start, end) of a China-time day as instants; undefined when `date` is not a real YYYY-MM-DD. */
export function dayBounds(date: string): { from: Date; to: Date } | undefined {
  if (!DATE_PATTERN.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) return undefined;
  return { from: new Date(ms - CST_MS), to: new Date(ms - CST_MS + DAY_MS) };
}

/** The China-time day before the one `now` falls in (what the 10:30 timer reconciles). */
export function previousCstDay(now: Date): string {
  return new Date(now.getTime() + CST_MS - DAY_MS).toISOString().slice(0, 10);
}

/** `yyyy-MM-dd HH:mm:ss` in China time (the bill's clock) → instant. */
export function parseBillTime(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}+08:00`);
}

export const emptyTotals = (): LedgerTotals => ({ payments: 0, paymentFen: 0, refunds: 0, refundFen: 0 });

function sortKey(d: Discrepancy): string {
  return `${d.kind}\u0000${d.outTradeNo ?? ''}\u0000${d.outRefundNo ?? ''}\u0000${JSON.stringify(d.wechat ?? {})}`;
}

/**
 * This run's findings plus the `repaired` entries of earlier runs (a repair is history: the next run
 * sees a matching order and must not forget that it was repaired). Sorted, so equal runs store equal lists.
 */
export function mergeWithPrevious(
  found: Discrepancy[],
  previous: ReconciliationDoc | undefined,
): Discrepancy[] {
  const repairedNow = new Set(found.filter((d) => d.kind === 'repaired').map((d) => d.outTradeNo));
  const kept = (previous?.discrepancies ?? []).filter(
    (d) => d.kind === 'repaired' && !repairedNow.has(d.outTradeNo),
  );
  return [...kept, ...found].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

export function statusOf(discrepancies: readonly Discrepancy[]): ReconciliationStatus {
  return discrepancies.length === 0 ? 'matched' : 'discrepancies';
}
