// 手机号快速验证: the code `<button open-type="getPhoneNumber">` hands the mini-program, and WeChat's
// exchange of it for the user's number (`POST /wxa/business/getuserphonenumber`). Codes are issued
// through the control API (the user tapping 允许), are good for one exchange within 5 minutes, and
// belong to the mini-program of the user they were issued for.
import { createHash, randomBytes } from 'node:crypto';
import type { SimClock } from './clock';

export const PHONE_CODE_LIFETIME_MS = 5 * 60_000;

export class PhoneCodeError extends Error {
  constructor(
    readonly errcode: number,
    message: string,
  ) {
    super(message);
  }
}

interface PhoneCode {
  appid: string;
  openid: string;
  purePhoneNumber: string;
  countryCode: string;
  expiresAt: number;
  used: boolean;
}

/** Mainland numbers: 1, then 3–9, then 9 digits. Other countries: 4–15 digits. */
const MAINLAND = /^1[3-9]\d{9}$/;
const FOREIGN = /^\d{4,15}$/;

/** A stable mainland number for a test user who did not choose one. */
export function defaultPhoneNumber(openid: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(openid).digest('hex').slice(0, 12)}`) % 100_000_000n;
  return `138${digits.toString().padStart(8, '0')}`;
}

export class PhoneCodes {
  private codes = new Map<string, PhoneCode>();

  constructor(private readonly clock: SimClock) {}

  /** The user allowed the mini-program their number: a code for `openid` of `appid`. */
  issue(
    appid: string,
    openid: string,
    phone: { purePhoneNumber?: string; countryCode?: string },
  ): { code: string; expiresAt: number } {
    const countryCode = phone.countryCode ?? '86';
    if (!/^[1-9]\d{0,3}$/.test(countryCode))
      throw new PhoneCodeError(400, 'countryCode must be 1–4 digits without + (86 for mainland China)');
    const purePhoneNumber = phone.purePhoneNumber ?? defaultPhoneNumber(openid);
    if (!(countryCode === '86' ? MAINLAND : FOREIGN).test(purePhoneNumber))
      throw new PhoneCodeError(
        400,
        countryCode === '86'
          ? 'phoneNumber must be an 11-digit mainland number such as 13800000000'
          : 'phoneNumber must be 4–15 digits without the country code',
      );
    const code = randomBytes(32).toString('hex');
    const expiresAt = this.clock.now() + PHONE_CODE_LIFETIME_MS;
    this.codes.set(code, { appid, openid, purePhoneNumber, countryCode, expiresAt, used: false });
    return { code, expiresAt };
  }

  /** WeChat's answer body for a code, spending it; 40029 for an unknown, foreign, expired or used code. */
  redeem(appid: string, body: Record<string, unknown>): Record<string, unknown> {
    const code = body.code;
    if (typeof code !== 'string' || code === '')
      throw new PhoneCodeError(47001, 'data format error: code is required');
    const entry = this.codes.get(code);
    const now = this.clock.now();
    if (!entry || entry.appid !== appid || entry.used || entry.expiresAt <= now)
      throw new PhoneCodeError(40029, 'invalid code');
    if (body.openid !== undefined && body.openid !== entry.openid)
      throw new PhoneCodeError(40029, 'invalid code: it was not issued to this openid');
    entry.used = true;
    return {
      phone_info: {
        phoneNumber:
          entry.countryCode === '86'
            ? entry.purePhoneNumber
            : `+${entry.countryCode}${entry.purePhoneNumber}`,
        purePhoneNumber: entry.purePhoneNumber,
        countryCode: entry.countryCode,
        watermark: { timestamp: Math.floor(now / 1000), appid },
      },
    };
  }

  clear(): void {
    this.codes.clear();
  }
}
