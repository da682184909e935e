// A compact set of the day's local payments (or refunds) keyed by their out number, in typed arrays:
// a million entries take about 40 MB off the JS heap instead of a Map's ~200 MB of strings and objects.
// Keys are kept as a 64-bit hash (two independent 32-bit FNV-1a): the chance that two out numbers of
// one day collide is ~n²/2⁶⁵ (3·10⁻⁸ for a million). A second field hash (transaction / refund id)
// and the amount in fen are kept exactly enough to compare with a bill row without the document.

/**
 * FNV-1a-style hash over UTF-16 code units taken two at a time (one multiply per pair: out numbers
 * and ids are hashed twice per bill row, so this is the reconciler's hottest loop).
 */
export function fnv1a(text: string, basis: number): number {
  let h = basis >>> 0;
  const len = text.length;
  let i = 0;
  for (; i + 1 < len; i += 2)
    h = Math.imul(h ^ (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)), 0x01000193);
  if (i < len) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  // Length in the hash, so "a" and "a\u0000" differ.
  return Math.imul(h ^ len, 0x01000193) >>> 0;
}

const BASIS_A = 0x811c9dc5;
const BASIS_B = 0x050c5d1f;

// The two halves of the last key hashed by hash64 (module state: no allocation per row).
let hashHi = 0;
let hashLo = 0;

/** Two independent 32-bit hashes of `text` in one pass, left in hashHi / hashLo. */
function hash64(text: string): void {
  let a = BASIS_A;
  let b = BASIS_B;
  const len = text.length;
  let i = 0;
  for (; i + 1 < len; i += 2) {
    const c = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x2c9277b5);
  }
  if (i < len) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x2c9277b5);
  }
  hashHi = Math.imul(a ^ len, 0x01000193) >>> 0;
  hashLo = Math.imul(b ^ len, 0x2c9277b5) >>> 0;
}

const USED = 1;
const SEEN = 2;

/**
 * Slots are interleaved in one buffer — 8 × uint32 per slot: hash hi, hash lo, ref hash, flags, the
 * amount as a float64 (uint32 4–5), 2 unused — so a probe touches one cache line, not five arrays.
 */
const STRIDE = 8;

export class KeyIndex {
  private u32: Uint32Array;
  private f64: Float64Array;
  private capacity: number;
  private mask: number;
  size = 0;
  /** How many keys the bill has matched so far. */
  seenCount = 0;

  constructor(expected = 1 << 16) {
    let cap = 1024;
    while (cap < expected * 2) cap *= 2;
    this.capacity = cap;
    this.mask = cap - 1;
    this.u32 = new Uint32Array(cap * STRIDE);
    this.f64 = new Float64Array(this.u32.buffer);
  }

  /** Bytes held (for the bench's memory report). */
  get bytes(): number {
    return this.u32.byteLength;
  }

  /** The slot holding (hi, lo), or the empty slot where it would go. */
  private slotOf(hi: number, lo: number): number {
    // FNV's low bits cluster for keys that differ only in their last digits (sequential out numbers):
    // mix before masking, or linear probing degrades into long runs.
    let h = Math.imul(lo ^ (lo >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    let i = (h ^ (h >>> 16)) & this.mask;
    const u = this.u32;
    for (;;) {
      const b = i * STRIDE;
      if (!(u[b + 3] & USED)) return i;
      if (u[b] === hi && u[b + 1] === lo) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds a key; false when it was already there (a duplicate out number). */
  add(key: string, amountFen: number, refId: string): boolean {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    hash64(key);
    const hi = hashHi;
    const lo = hashLo;
    const i = this.slotOf(hi, lo);
    const b = i * STRIDE;
    if (this.u32[b + 3] & USED) return false;
    this.u32[b] = hi;
    this.u32[b + 1] = lo;
    this.u32[b + 2] = fnv1a(refId, BASIS_A);
    this.u32[b + 3] = USED;
    this.f64[b / 2 + 2] = amountFen;
    this.size++;
    return true;
  }

  /** The slot of `key`, or -1. */
  find(key: string): number {
    hash64(key);
    const i = this.slotOf(hashHi, hashLo);
    return this.u32[i * STRIDE + 3] & USED ? i : -1;
  }

  amountAt(slot: number): number {
    return this.f64[slot * (STRIDE / 2) + 2];
  }

  sameRef(slot: number, refId: string): boolean {
    return this.u32[slot * STRIDE + 2] === fnv1a(refId, BASIS_A);
  }

  /** Marks the slot seen in the bill; false when it was seen before (the bill repeats the key). */
  markSeen(slot: number): boolean {
    const f = slot * STRIDE + 3;
    if (this.u32[f] & SEEN) return false;
    this.u32[f] |= SEEN;
    this.seenCount++;
    return true;
  }

  /** True when every key was seen: the pass looking for unseen ones can be skipped. */
  get allSeen(): boolean {
    return this.seenCount === this.size;
  }

  seen(key: string): boolean {
    const i = this.find(key);
    return i >= 0 && (this.u32[i * STRIDE + 3] & SEEN) !== 0;
  }

  private grow(): void {
    const old = this.u32;
    const oldCap = this.capacity;
    // ×4: a day of a million payments rehashes twice on the way up instead of four times.
    this.capacity = oldCap * 4;
    this.mask = this.capacity - 1;
    this.u32 = new Uint32Array(this.capacity * STRIDE);
    this.f64 = new Float64Array(this.u32.buffer);
    for (let j = 0; j < oldCap; j++) {
      const ob = j * STRIDE;
      if (!(old[ob + 3] & USED)) continue;
      const nb = this.slotOf(old[ob], old[ob + 1]) * STRIDE;
      for (let k = 0; k < STRIDE; k++) this.u32[nb + k] = old[ob + k];
    }
  }
}
