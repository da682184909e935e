// Errors shared by the v3 and v2 halves of the WeChat Pay library. Callers branch on the class (or
// on `code`) to pick a response: "upstream said no" is not retried, "unavailable" is safe to retry.
// Messages name the fix; none of them ever carries a key, a signature header or a request body.

/**
 * Every concrete subclass sets `name` to its class name literally: the deployed bundles are minified
 * (class names become one letter) and function logs must still say which error it was.
 */
export abstract class WxpayError extends Error {
  /** Stable machine-readable code (SCREAMING_SNAKE); the class is the finer distinction. */
  abstract readonly code: string;
  /** WeChat Pay's Request-ID response header, when it answered: quote it to WeChat Pay support. */
  requestId?: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A key, id or option is missing or malformed. Names the variable to fix; never echoes its value. */
export class WxpayConfigError extends WxpayError {
  override readonly name: string = 'WxpayConfigError';
  readonly code = 'WXPAY_CONFIG';
  constructor(
    message: string,
    /** The environment variable (docs/configuration.md#variables) the value comes from, when there is one. */
    readonly variable?: string,
  ) {
    super(message);
  }
}

/** WeChat Pay answered and refused: a 4xx with its `{code, message, detail}` body. Not retryable as is. */
export class WxpayUpstreamError extends WxpayError {
  override readonly name: string = 'WxpayUpstreamError';
  readonly code: string = 'WXPAY_UPSTREAM';
  constructor(
    message: string,
    /** HTTP status WeChat answered with. */
    readonly status: number,
    /** WeChat's own error code, e.g. PARAM_ERROR, ORDERPAID, ORDER_NOT_EXIST, NOT_ENOUGH, SIGN_ERROR. */
    readonly upstreamCode: string,
    /** WeChat's `detail` object (field, value, issue, location) when it sent one. */
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

/** WeChat Pay said FREQUENCY_LIMITED (or HTTP 429): retry later, with backoff. */
export class WxpayRateLimitedError extends WxpayUpstreamError {
  override readonly name: string = 'WxpayRateLimitedError';
  override readonly code = 'WXPAY_RATE_LIMITED';
}

/** `unverified`: an answer came, but nothing proves WeChat Pay sent it (unsigned, forged, unknown key). */
export type UnavailableReason = 'timeout' | 'network' | 'server-error' | 'system-error' | 'unverified';

/** WeChat Pay could not be reached or failed on its side (timeout, network, 5xx, SYSTEM_ERROR). Safe to retry. */
export class WxpayUnavailableError extends WxpayError {
  override readonly name: string = 'WxpayUnavailableError';
  readonly code = 'WXPAY_UNAVAILABLE';
  readonly retryable = true;
  constructor(
    message: string,
    readonly reason: UnavailableReason,
    readonly status?: number,
    readonly upstreamCode?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An error answer (v3 non-2xx, v2 non-200 or unsigned `return_code FAIL`) that does not verify as
 * WeChat Pay's: anyone on the path (a proxy, a gateway, an attacker) can write "ORDER_NOT_EXIST" or
 * "NOT_ENOUGH", so it is never taken as WeChat's verdict. Treated like no answer at all: retry.
 * What the answer claimed is kept for the log in `claimedCode`, deliberately not in `upstreamCode`,
 * so that code branching on WeChat's codes cannot act on it.
 */
export class WxpayUnverifiedAnswerError extends WxpayUnavailableError {
  override readonly name: string = 'WxpayUnverifiedAnswerError';
  constructor(
    message: string,
    status: number,
    /** The error code the unverified answer claimed (for diagnostics only). */
    readonly claimedCode?: string,
    options?: { cause?: unknown },
  ) {
    super(message, 'unverified', status, undefined, options);
  }
}
