// The caller's own account: binding the phone number WeChat verified (手机号快速验证) and reading it
// back. The number is returned to its owner only and never written to a log or an error message.
import type { AccountResponse, PhoneView } from '../contracts/api';
import type { UserRepository } from '../db/users';
import { AppError, invalidArgument, notFound } from '../domain/errors';
import { maskPhone, phoneFromWechat, type BoundPhone } from '../domain/phone';
import { requireString, type Fields } from '../domain/validate';
import type { CallOpenApi } from '../wechat/openapi/client';
import { OpenApiError } from '../wechat/openapi/errors';

export interface AccountDeps {
  users: Pick<UserRepository, 'get' | 'bindPhone'>;
  callOpenApi: CallOpenApi;
}

export function phoneView(phone: BoundPhone | undefined): PhoneView | null {
  if (!phone) return null;
  return {
    phoneNumber: phone.phoneNumber,
    purePhoneNumber: phone.purePhoneNumber,
    countryCode: phone.countryCode,
    masked: maskPhone(phone.purePhoneNumber),
    verifiedAt: new Date(phone.verifiedAt).toISOString(),
  };
}

/** The getPhoneNumber errcodes a caller can act on, with what to do; others keep the layer's mapping. */
function phoneError(err: OpenApiError): AppError {
  switch (err.errcode) {
    case 40029:
      return new AppError(
        'INVALID_ARGUMENT',
        'the phone code is invalid, expired (5 minutes) or already used (40029); ask the user to tap the button again',
        '40029',
      );
    case 1400001:
      return new AppError(
        'RATE_LIMITED',
        'the mini-program used up its phone-number verification quota (1400001); buy more in 微信公众平台 → 基础功能 → 手机号快速验证组件, or retry once it resets',
        '1400001',
      );
    case -1:
      return new AppError(
        'UPSTREAM_UNAVAILABLE',
        'WeChat is busy (-1); ask the user to tap the button again in a moment',
        '-1',
      );
    default:
      return err;
  }
}

const PHONE_CODE = /^[A-Za-z0-9_-]+$/;

export async function bindPhone(
  deps: AccountDeps,
  input: { openid: string; fields: Fields; now: Date },
): Promise<AccountResponse> {
  const code = requireString(input.fields, 'code', {
    min: 8,
    max: 128,
    pattern: PHONE_CODE,
    patternHint:
      'the e.detail.code of <button open-type="getPhoneNumber" bindgetphonenumber=…> (letters, digits, _ and -)',
  });
  // A user who never logged in has no document to bind to: refuse before spending the code.
  if (!(await deps.users.get(input.openid)))
    throw notFound('no account for this user yet; call login first, then bind the phone number');
  let answer: Record<string, unknown>;
  try {
    answer = await deps.callOpenApi('getPhoneNumber', { code, openid: input.openid });
  } catch (err) {
    throw err instanceof OpenApiError ? phoneError(err) : err;
  }
  const phone = phoneFromWechat(answer, input.now);
  const stored = await deps.users.bindPhone(input.openid, phone);
  if (stored.outcome === 'missing')
    throw notFound('no account for this user yet; call login first, then bind the phone number');
  return { phone: phoneView(stored.phone) };
}

export async function getPhone(deps: Pick<AccountDeps, 'users'>, openid: string): Promise<AccountResponse> {
  const user = await deps.users.get(openid);
  return { phone: phoneView(user?.phone) };
}

export function readAction(fields: Fields): 'bindPhone' | 'getPhone' {
  const action = fields.action;
  if (action === 'bindPhone' || action === 'getPhone') return action;
  throw invalidArgument('action must be "bindPhone" (with the getPhoneNumber code) or "getPhone"');
}
