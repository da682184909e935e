// Merchant-side identifiers. WeChat requires out_trade_no / out_refund_no of 6–32 characters of
// [A-Za-z0-9_-], unique per merchant. They are generated from
// crypto.randomBytes so they cannot be guessed from one another, with a time prefix so that they
// sort roughly by creation in the merchant platform.
import { randomBytes } from 'node:crypto';

export const MERCHANT_NO_PATTERN = /^[A-Za-z0-9_-]{6,32}$/;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomSuffix(length: number): string {
  // Rejection sampling keeps the distribution uniform (256 is not a multiple of 36).
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 252) out += ALPHABET[b % 36];
      if (out.length === length) break;
    }
  }
  return out;
}

function stamp(now: Date): string {
  const iso = now.toISOString(); // 2026-11-25T12:03:42.123Z
  return (
    iso.slice(2, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19)
  );
}

/** `T` + yyMMddHHmmss + 14 random characters = 27 characters. */
export function newOutTradeNo(now = new Date()): string {
  return `T${stamp(now)}${randomSuffix(14)}`;
}

/** `R` + yyMMddHHmmss + 14 random characters = 27 characters. */
export function newOutRefundNo(now = new Date()): string {
  return `R${stamp(now)}${randomSuffix(14)}`;
}

export function isMerchantNo(value: unknown): value is string {
  return typeof value === 'string' && MERCHANT_NO_PATTERN.test(value);
}
