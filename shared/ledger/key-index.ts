// A compact set of the day's local payments (or refunds) keyed by their out number, in typed arrays:
// a million entries take about 40 MB off the JS heap instead of a Map's ~200 MB of strings and objects.
// Keys are kept as a 64-bit hash (two independent 32-bit FNV-1a): the chance that two out numbers of
// one day collide is ~n²/2⁶⁵ (3·10⁻⁸ for a million). A second field hash (transaction / refund id)
// and the amount in fen are kept exactly enough to compare with a bill row without the document.

/** FNV-1a over UTF-16 code units, with a caller-chosen offset basis. */
export function fnv1a(text: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const BASIS_A = 0x811c9dc5;
const BASIS_B = 0x050c5d1f;

const USED = 1;
const SEEN = 2;

export class KeyIndex {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private amount: Float64Array;
  private ref: Uint32Array;
  private flags: Uint8Array;
  private mask: number;
  size = 0;

  constructor(expected = 1024) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.amount = new Float64Array(cap);
    this.ref = new Uint32Array(cap);
    this.flags = new Uint8Array(cap);
    this.mask = cap - 1;
  }

  /** Bytes held (for the bench's memory report). */
  get bytes(): number {
    return this.flags.length * (4 + 4 + 8 + 4 + 1);
  }

  private slotOf(hi: number, lo: number): number {
    let i = lo & this.mask;
    for (;;) {
      if (!(this.flags[i] & USED)) return i;
      if (this.hi[i] === hi && this.lo[i] === lo) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds a key; false when it was already there (a duplicate out number). */
  add(key: string, amountFen: number, refId: string): boolean {
    if ((this.size + 1) * 2 > this.flags.length) this.grow();
    const hi = fnv1a(key, BASIS_A);
    const lo = fnv1a(key, BASIS_B);
    const i = this.slotOf(hi, lo);
    if (this.flags[i] & USED) return false;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.amount[i] = amountFen;
    this.ref[i] = fnv1a(refId, BASIS_A);
    this.flags[i] = USED;
    this.size++;
    return true;
  }

  /** The slot of `key`, or -1. */
  find(key: string): number {
    const i = this.slotOf(fnv1a(key, BASIS_A), fnv1a(key, BASIS_B));
    return this.flags[i] & USED ? i : -1;
  }

  amountAt(slot: number): number {
    return this.amount[slot];
  }

  sameRef(slot: number, refId: string): boolean {
    return this.ref[slot] === fnv1a(refId, BASIS_A);
  }

  /** Marks the slot seen in the bill; false when it was seen before (the bill repeats the key). */
  markSeen(slot: number): boolean {
    if (this.flags[slot] & SEEN) return false;
    this.flags[slot] |= SEEN;
    return true;
  }

  seen(key: string): boolean {
    const i = this.find(key);
    return i >= 0 && (this.flags[i] & SEEN) !== 0;
  }

  private grow(): void {
    const old = { hi: this.hi, lo: this.lo, amount: this.amount, ref: this.ref, flags: this.flags };
    const cap = old.flags.length * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.amount = new Float64Array(cap);
    this.ref = new Uint32Array(cap);
    this.flags = new Uint8Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < old.flags.length; j++) {
      if (!(old.flags[j] & USED)) continue;
      const i = this.slotOf(old.hi[j], old.lo[j]);
      this.hi[i] = old.hi[j];
      this.lo[i] = old.lo[j];
      this.amount[i] = old.amount[j];
      this.ref[i] = old.ref[j];
      this.flags[i] = old.flags[j];
    }
  }
}
