// Bill amounts are yuan written as decimal text ("0.01", "1234567.89"). They become integer fen by
// string arithmetic: a float never touches money (0.29 * 100 is 28.999999999999996).

const YUAN = /^(-?)(0|[1-9]\d{0,12})(?:\.(\d{1,2}))?$/;

/** "1234567.89" → 123456789; undefined when the text is not yuan with at most two decimals. */
export function yuanToFen(text: string): number | undefined {
  const m = YUAN.exec(text);
  if (!m) return undefined;
  const frac = m[3] === undefined ? 0 : m[3].length === 1 ? Number(m[3]) * 10 : Number(m[3]);
  const fen = Number(m[2]) * 100 + frac;
  return m[1] === '-' && fen !== 0 ? -fen : fen;
}

/** 123456789 → "1234567.89": how WeChat writes fen back as yuan. */
export function fenToYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError('fenToYuan: fen must be a safe integer');
  const abs = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Counts in summary rows: WeChat writes "20" in the trade bill and "20.0" in the fund-flow bill. */
export function parseCount(text: string): number | undefined {
  const m = /^(0|[1-9]\d{0,12})(?:\.0+)?$/.exec(text);
  return m ? Number(m[1]) : undefined;
}
