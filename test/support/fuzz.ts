// Deterministic randomness for the fuzz tests: a failure reproduces from the seed it prints.

/** mulberry32: a small PRNG with a 32-bit seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One element of `list`, chosen by `r`. */
export const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)];
