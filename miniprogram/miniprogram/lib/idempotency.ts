// Idempotency keys for createPayment: one per checkout, reused by every retry of that checkout, so a
// retry after a lost response finds the order the first attempt created instead of making another.

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** `ck_` + 24 base-36 characters (≈124 bits); fits `[A-Za-z0-9_-]{8,64}`. */
export function newIdempotencyKey(random: () => number = Math.random): string {
  let out = 'ck_';
  for (let i = 0; i < 24; i++) out += ALPHABET[Math.floor(random() * ALPHABET.length) % ALPHABET.length];
  return out;
}
