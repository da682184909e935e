// Money travels as integer fen; yuan exists only on screen.

/** 1 → "0.01", 12345 → "123.45", -50 → "-0.50". */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`amount must be an integer number of fen, got ${fen}`);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}${Math.floor(abs / 100)}.${cents}`;
}

export function formatPrice(fen: number): string {
  return `¥${formatYuan(fen)}`;
}
