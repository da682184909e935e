// Money is integer fen from the catalog to WeChat and back; these guards keep floats, strings and
// unsafe integers out of every sum.
import { invalidArgument } from './errors';

/** Largest amount one order may carry: WeChat's per-transaction ceiling is far below this. */
export const MAX_ORDER_FEN = 100_000_000; // 1,000,000 yuan

export function isFen(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function isPositiveFen(value: unknown): value is number {
  return isFen(value) && value > 0;
}

export function assertPositiveFen(value: unknown, what: string): number {
  if (!isPositiveFen(value))
    throw invalidArgument(`${what} must be a positive integer number of fen (1 yuan = 100 fen)`);
  return value;
}

/** Sums fen, refusing anything that is not a safe integer (a corrupted document must not become money). */
export function sumFen(values: readonly number[]): number {
  let total = 0;
  for (const v of values) {
    if (!isFen(v)) throw new RangeError('sumFen: every amount must be a non-negative safe integer');
    total += v;
    if (!Number.isSafeInteger(total)) throw new RangeError('sumFen: total exceeds the safe integer range');
  }
  return total;
}

/** "12.34" for logs and descriptions; never parsed back. */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
