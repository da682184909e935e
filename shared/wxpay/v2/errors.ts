// Why a v2 (XML) message from WeChat Pay was refused. `httpStatus` is what a notification endpoint
// answers (401: not proven authentic, 400: malformed); for API responses the HTTP layer maps these,
// like every WxpayError that is not an upstream refusal, to "unavailable, safe to retry".
import { WxpayError } from '../errors';

export type V2XmlProblem =
  'empty' | 'too-large' | 'doctype' | 'malformed' | 'wrong-root' | 'not-flat' | 'duplicate-field';

export class WxpayV2XmlError extends WxpayError {
  override readonly name: string = 'WxpayV2XmlError';
  readonly code = 'WXPAY_V2_XML';
  readonly httpStatus = 400 as const;
  constructor(
    readonly problem: V2XmlProblem,
    message: string,
  ) {
    super(message);
  }
}

export type V2Subject = 'response' | 'notification' | 'refund notification';

/** The `sign` field is missing or does not match: not proven to come from WeChat Pay. */
export class WxpayV2SignatureError extends WxpayError {
  override readonly name: string = 'WxpayV2SignatureError';
  readonly code = 'WXPAY_V2_SIGNATURE';
  readonly httpStatus = 401 as const;
  constructor(
    readonly subject: V2Subject,
    message: string,
  ) {
    super(`${subject}: ${message}`);
  }
}

export type V2NotificationProblem =
  'communication-failure' | 'missing-field' | 'bad-field' | 'sign-type-mismatch' | 'bad-req-info';

export class WxpayV2NotificationError extends WxpayError {
  override readonly name: string = 'WxpayV2NotificationError';
  readonly code = 'WXPAY_V2_NOTIFICATION';
  constructor(
    readonly problem: V2NotificationProblem,
    readonly httpStatus: 400 | 401,
    message: string,
  ) {
    super(message);
  }
}
