// A user's phone number as WeChat verified it (手机号快速验证), and the one way it is shown to anyone
// but its owner: masked. Pure functions; the number itself never goes into a log or an error.
import { AppError } from './errors';

export interface BoundPhone {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  verifiedAt: Date;
}

/** `13812345678` → `138****5678`; short foreign numbers keep at most their first and last two digits. */
export function maskPhone(purePhoneNumber: string): string {
  const n = purePhoneNumber;
  if (n.length >= 11) return `${n.slice(0, 3)}****${n.slice(-4)}`;
  if (n.length >= 7) return `${n.slice(0, 2)}****${n.slice(-2)}`;
  return '****';
}

const DIGITS = /^\d{4,15}$/;
const COUNTRY = /^[1-9]\d{0,3}$/;
const NUMBER = /^\+?\d{4,20}$/;

/**
 * WeChat's `phone_info` → what is stored. Anything unexpected is WeChat's fault, reported without the
 * value (it may be personal data).
 */
export function phoneFromWechat(body: Record<string, unknown>, verifiedAt: Date): BoundPhone {
  const info = body.phone_info as Record<string, unknown> | undefined;
  const phoneNumber = info?.phoneNumber;
  const purePhoneNumber = info?.purePhoneNumber;
  // WeChat's documentation shows the country code as a number, answers have carried a string: take both.
  const rawCountry = info?.countryCode;
  const countryCode = typeof rawCountry === 'number' ? String(rawCountry) : rawCountry;
  if (
    typeof phoneNumber !== 'string' ||
    typeof purePhoneNumber !== 'string' ||
    typeof countryCode !== 'string' ||
    !NUMBER.test(phoneNumber) ||
    !DIGITS.test(purePhoneNumber) ||
    !COUNTRY.test(countryCode)
  )
    throw new AppError(
      'UPSTREAM_UNAVAILABLE',
      'WeChat answered getPhoneNumber without a well-formed phone_info; ask the user to tap the button again',
    );
  return { phoneNumber, purePhoneNumber, countryCode, verifiedAt };
}
