// Why a signed WeChat Pay message (an API response or a notification) was refused. One class per
// failure so tests and handlers can tell them apart; `kind` is the same distinction as a string and
// `httpStatus` is what a notification endpoint should answer (401: not authentic, 400: malformed).
import { WxpayError } from '../errors';

/** What was being checked; it starts every message so logs say where the failure happened. */
export type VerificationSubject = 'notification' | 'response' | 'certificate download';

export type VerificationErrorKind =
  | 'missing-header'
  | 'malformed-header'
  | 'stale-timestamp'
  | 'future-timestamp'
  | 'signtest'
  | 'unknown-serial'
  | 'certificate-expired'
  | 'bad-signature'
  | 'empty-body'
  | 'malformed-json'
  | 'malformed-resource'
  | 'unsupported-algorithm'
  | 'decryption-failed'
  | 'unexpected-event-type';

export abstract class WxpayVerificationError extends WxpayError {
  abstract readonly kind: VerificationErrorKind;
  /** 401 when the message is not proven authentic, 400 when it is malformed. */
  abstract readonly httpStatus: 400 | 401;
  readonly code = 'WXPAY_VERIFICATION';
  constructor(
    readonly subject: VerificationSubject,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${subject} ${message}`, options);
  }
}

/** The message is not proven to come from WeChat Pay. */
export abstract class WxpayAuthenticityError extends WxpayVerificationError {
  readonly httpStatus = 401 as const;
}

/** The message is authentic (or could not even be checked) but its content is unusable. */
export abstract class WxpayMalformedError extends WxpayVerificationError {
  readonly httpStatus = 400 as const;
}

export class WxpayMissingHeaderError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpayMissingHeaderError';
  readonly kind = 'missing-header' as const;
  constructor(
    subject: VerificationSubject,
    readonly header: string,
  ) {
    super(
      subject,
      `has no ${header} header: WeChat Pay signs every ${subject === 'response' ? 'response' : 'notification'} with Wechatpay-Timestamp, -Nonce, -Signature and -Serial; ` +
        `pass the request headers through unchanged (a proxy or the HTTP trigger adapter may have dropped them)`,
    );
  }
}

export class WxpayMalformedHeaderError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpayMalformedHeaderError';
  readonly kind = 'malformed-header' as const;
  constructor(
    subject: VerificationSubject,
    readonly header: string,
    expected: string,
  ) {
    super(subject, `has a malformed ${header} header: expected ${expected}`);
  }
}

export class WxpayStaleTimestampError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpayStaleTimestampError';
  readonly kind = 'stale-timestamp' as const;
  constructor(
    subject: VerificationSubject,
    readonly skewSeconds: number,
    readonly windowSeconds: number,
  ) {
    super(
      subject,
      `is too old: Wechatpay-Timestamp is ${skewSeconds} s in the past (window ${windowSeconds} s). ` +
        `A replayed message is refused; if genuine messages fail, correct this machine's clock (NTP)`,
    );
  }
}

export class WxpayFutureTimestampError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpayFutureTimestampError';
  readonly kind = 'future-timestamp' as const;
  constructor(
    subject: VerificationSubject,
    readonly skewSeconds: number,
    readonly windowSeconds: number,
  ) {
    super(
      subject,
      `is from the future: Wechatpay-Timestamp is ${skewSeconds} s ahead of this machine's clock (window ${windowSeconds} s); ` +
        `correct the clock (NTP) if genuine messages fail`,
    );
  }
}

export class WxpaySigntestError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpaySigntestError';
  readonly kind = 'signtest' as const;
  constructor(subject: VerificationSubject) {
    super(
      subject,
      `carries a WECHATPAY/SIGNTEST/ probe signature: WeChat Pay sends these to check that merchants reject bad signatures; refusing it is correct`,
    );
  }
}

export class WxpayUnknownSerialError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpayUnknownSerialError';
  readonly kind = 'unknown-serial' as const;
  constructor(
    subject: VerificationSubject,
    readonly serial: string,
    hint: string,
  ) {
    super(subject, `signature does not verify: ${hint}`);
  }
}

export class WxpayCertificateExpiredError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpayCertificateExpiredError';
  readonly kind = 'certificate-expired' as const;
  constructor(
    subject: VerificationSubject,
    readonly serial: string,
    hint: string,
  ) {
    super(subject, `signature does not verify: ${hint}`);
  }
}

export class WxpayBadSignatureError extends WxpayAuthenticityError {
  override readonly name: string = 'WxpayBadSignatureError';
  readonly kind = 'bad-signature' as const;
  constructor(
    subject: VerificationSubject,
    readonly serial: string,
  ) {
    super(
      subject,
      `signature does not verify with the key of Wechatpay-Serial ${serial}: the body was altered or re-serialized ` +
        `(verify the raw ${subject === 'notification' ? 'request' : 'response'} body exactly as received — decode isBase64Encoded, do not JSON.parse and stringify it), ` +
        `or the message was not signed by WeChat Pay`,
    );
  }
}

export class WxpayEmptyBodyError extends WxpayMalformedError {
  override readonly name: string = 'WxpayEmptyBodyError';
  readonly kind = 'empty-body' as const;
  constructor(subject: VerificationSubject) {
    super(
      subject,
      `body is empty: pass the raw HTTP body (for CloudBase HTTP triggers, event.body decoded when event.isBase64Encoded)`,
    );
  }
}

export class WxpayMalformedJsonError extends WxpayMalformedError {
  override readonly name: string = 'WxpayMalformedJsonError';
  readonly kind = 'malformed-json' as const;
  constructor(subject: VerificationSubject, what: string, cause?: unknown) {
    super(subject, `${what} is not valid JSON`, { cause });
  }
}

export class WxpayMalformedResourceError extends WxpayMalformedError {
  override readonly name: string = 'WxpayMalformedResourceError';
  readonly kind = 'malformed-resource' as const;
  constructor(
    subject: VerificationSubject,
    readonly field: string,
    expected: string,
  ) {
    super(subject, `field ${field} is missing or malformed: expected ${expected}`);
  }
}

export class WxpayUnsupportedAlgorithmError extends WxpayMalformedError {
  override readonly name: string = 'WxpayUnsupportedAlgorithmError';
  readonly kind = 'unsupported-algorithm' as const;
  constructor(
    subject: VerificationSubject,
    readonly algorithm: string,
  ) {
    super(
      subject,
      `uses resource algorithm ${JSON.stringify(algorithm).slice(0, 64)}; only AEAD_AES_256_GCM is supported`,
    );
  }
}

export class WxpayDecryptionError extends WxpayMalformedError {
  override readonly name: string = 'WxpayDecryptionError';
  readonly kind = 'decryption-failed' as const;
  constructor(subject: VerificationSubject, reason: string) {
    super(
      subject,
      `resource does not decrypt (${reason}): the authentication tag does not match, so WXPAY_APIV3_KEY differs from the APIv3 key ` +
        `set in the merchant platform (账户中心 → API安全), or the ciphertext, nonce or associated_data was altered`,
    );
  }
}

export class WxpayUnexpectedEventError extends WxpayMalformedError {
  override readonly name: string = 'WxpayUnexpectedEventError';
  readonly kind = 'unexpected-event-type' as const;
  constructor(
    subject: VerificationSubject,
    readonly eventType: string,
    expected: readonly string[],
  ) {
    super(
      subject,
      `has event_type ${JSON.stringify(eventType).slice(0, 64)} where ${expected.join(' or ')} was expected: ` +
        `check that WXPAY_NOTIFY_URL and WXPAY_REFUND_NOTIFY_URL point at the right trigger`,
    );
  }
}
