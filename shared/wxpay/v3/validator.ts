// Checks that a response or notification was signed by WeChat Pay: the four Wechatpay-* headers,
// a timestamp within ±300 s, no SIGNTEST probe, and an RSA signature over `timestamp\nnonce\nbody\n`
// made with the key named by Wechatpay-Serial. Shared by the API client and the notification parser.
// No secret is compared in JavaScript: RSA verification (and the AES-GCM tag check in aead.ts) run
// inside OpenSSL, which compares in constant time.
import { headerValue, type HeaderBag } from './headers';
import { SIGNATURE_TYPE, signedMessage } from './signer';
import type { Verifier, VerifyResult } from './verifier';
import {
  WxpayBadSignatureError,
  WxpayCertificateExpiredError,
  WxpayFutureTimestampError,
  WxpayMalformedHeaderError,
  WxpayMissingHeaderError,
  WxpaySigntestError,
  WxpayStaleTimestampError,
  WxpayUnknownSerialError,
  type VerificationSubject,
  type WxpayVerificationError,
} from './errors';

export const HEADER_TIMESTAMP = 'Wechatpay-Timestamp';
export const HEADER_NONCE = 'Wechatpay-Nonce';
export const HEADER_SIGNATURE = 'Wechatpay-Signature';
export const HEADER_SERIAL = 'Wechatpay-Serial';
export const HEADER_SIGNATURE_TYPE = 'Wechatpay-Signature-Type';
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';
export const DEFAULT_WINDOW_SECONDS = 300;

export interface ValidatorOptions {
  verifier: Verifier;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  windowSeconds?: number;
}

export interface SignatureHeaders {
  timestamp: string;
  nonce: string;
  signature: string;
  serial: string;
}

const TIMESTAMP_RE = /^\d{1,12}$/;
const SERIAL_RE = /^[A-Za-z0-9_]{1,64}$/;

export class Validator {
  readonly verifier: Verifier;
  private readonly clock: () => number;
  private readonly windowSeconds: number;

  constructor(opts: ValidatorOptions) {
    this.verifier = opts.verifier;
    this.clock = opts.clock ?? Date.now;
    this.windowSeconds = opts.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  }

  /** True when all four signature headers are present (WeChat's gateway errors may be unsigned). */
  static isSigned(headers: HeaderBag): boolean {
    return (
      headerValue(headers, 'wechatpay-signature') !== undefined &&
      headerValue(headers, 'wechatpay-serial') !== undefined &&
      headerValue(headers, 'wechatpay-timestamp') !== undefined &&
      headerValue(headers, 'wechatpay-nonce') !== undefined
    );
  }

  /** Reads and checks the headers; everything except the signature itself. */
  checkHeaders(subject: VerificationSubject, headers: HeaderBag): SignatureHeaders {
    const timestamp = headerValue(headers, 'wechatpay-timestamp');
    if (!timestamp) throw new WxpayMissingHeaderError(subject, HEADER_TIMESTAMP);
    const nonce = headerValue(headers, 'wechatpay-nonce');
    if (!nonce) throw new WxpayMissingHeaderError(subject, HEADER_NONCE);
    const signature = headerValue(headers, 'wechatpay-signature');
    if (!signature) throw new WxpayMissingHeaderError(subject, HEADER_SIGNATURE);
    const serial = headerValue(headers, 'wechatpay-serial');
    if (!serial) throw new WxpayMissingHeaderError(subject, HEADER_SERIAL);
    if (signature.startsWith(SIGNTEST_PREFIX)) throw new WxpaySigntestError(subject);
    // The serial ends up in error messages and logs: only what WeChat issues gets that far.
    if (!SERIAL_RE.test(serial))
      throw new WxpayMalformedHeaderError(
        subject,
        HEADER_SERIAL,
        'a certificate serial (hex) or PUB_KEY_ID_…',
      );
    const type = headerValue(headers, 'wechatpay-signature-type');
    if (type !== undefined && type !== SIGNATURE_TYPE)
      throw new WxpayMalformedHeaderError(
        subject,
        HEADER_SIGNATURE_TYPE,
        `${SIGNATURE_TYPE} (the only scheme this library verifies)`,
      );
    if (!TIMESTAMP_RE.test(timestamp))
      throw new WxpayMalformedHeaderError(subject, HEADER_TIMESTAMP, 'Unix seconds (digits only)');
    const skew = Math.floor(this.clock() / 1000) - Number(timestamp);
    if (skew > this.windowSeconds) throw new WxpayStaleTimestampError(subject, skew, this.windowSeconds);
    if (-skew > this.windowSeconds) throw new WxpayFutureTimestampError(subject, -skew, this.windowSeconds);
    return { timestamp, nonce, signature, serial };
  }

  /**
   * Synchronous validation; throws a WxpayVerificationError subclass. An unknown serial is final
   * here — use `validate` to let a certificate store refresh once.
   */
  validateSync(subject: VerificationSubject, headers: HeaderBag, body: string | Buffer): SignatureHeaders {
    const h = this.checkHeaders(subject, headers);
    const result = this.verifier.verify(h.serial, signedMessage(h.timestamp, h.nonce, body), h.signature);
    if (!result.ok) throw failure(subject, h.serial, result);
    return h;
  }

  /** Like validateSync, but an unknown serial makes the verifier refresh (rate-limited) and retry once. */
  async validate(
    subject: VerificationSubject,
    headers: HeaderBag,
    body: string | Buffer,
  ): Promise<SignatureHeaders> {
    const h = this.checkHeaders(subject, headers);
    const message = signedMessage(h.timestamp, h.nonce, body);
    let result = this.verifier.verify(h.serial, message, h.signature);
    if (
      !result.ok &&
      result.reason === 'unknown-serial' &&
      this.verifier.refresh &&
      (await this.verifier.refresh(h.serial))
    ) {
      result = this.verifier.verify(h.serial, message, h.signature);
    }
    if (!result.ok) throw failure(subject, h.serial, result);
    return h;
  }
}

function failure(
  subject: VerificationSubject,
  serial: string,
  r: Exclude<VerifyResult, { ok: true }>,
): WxpayVerificationError {
  switch (r.reason) {
    case 'unknown-serial':
      return new WxpayUnknownSerialError(subject, serial, r.hint);
    case 'certificate-expired':
      return new WxpayCertificateExpiredError(subject, serial, r.hint);
    case 'bad-signature':
      return new WxpayBadSignatureError(subject, serial);
  }
}
