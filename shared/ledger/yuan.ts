// Bill amounts are yuan written as decimal text ("0.01", "1234567.89"). They become integer fen by
// string arithmetic: a float never touches money (0.29 * 100 is 28.999999999999996).

/**
 * "1234567.89" → 123456789; undefined when the text is not yuan with at most two decimals
 * (`-?(0|[1-9]\d{0,12})(\.\d{1,2})?`). Scans char codes: it runs for every amount of a
 * million-row bill, where a regular expression per field was the parser's largest cost.
 */
export function yuanToFen(text: string): number | undefined {
  return yuanToFenAt(text, 0, text.length);
}

/** yuanToFen over `text[from, to)`, without cutting the substring out first. */
export function yuanToFenAt(text: string, from: number, to: number): number | undefined {
  let i = from;
  let negative = false;
  if (i < to && text.charCodeAt(i) === 45 /* - */) {
    negative = true;
    i++;
  }
  const intStart = i;
  let whole = 0;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    whole = whole * 10 + (c - 48);
    i++;
  }
  const intDigits = i - intStart;
  if (intDigits === 0 || intDigits > 13) return undefined;
  if (intDigits > 1 && text.charCodeAt(intStart) === 48) return undefined; // no leading zeros
  let frac = 0;
  if (i < to) {
    if (text.charCodeAt(i) !== 46 /* . */) return undefined;
    const digits = to - i - 1;
    if (digits < 1 || digits > 2) return undefined;
    for (let j = i + 1; j < to; j++) {
      const c = text.charCodeAt(j);
      if (c < 48 || c > 57) return undefined;
      frac = frac * 10 + (c - 48);
    }
    if (digits === 1) frac *= 10;
  }
  const fen = whole * 100 + frac;
  return negative && fen !== 0 ? -fen : fen;
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
