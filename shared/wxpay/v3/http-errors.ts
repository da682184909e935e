// Maps a WeChat Pay v3 HTTP answer that is not a success to the caller's choice: "WeChat said no"
// (WxpayUpstreamError, not retried), "rate limited", or "unavailable" (safe to retry). Pure.
import { WxpayRateLimitedError, WxpayUnavailableError, WxpayUpstreamError, type WxpayError } from '../errors';
import type { ErrorBody } from './types';

/** Codes WeChat Pay documents as transient failures on its side. */
const RETRYABLE_CODES = new Set(['SYSTEM_ERROR', 'SYSTEMERROR', 'BANK_ERROR', 'BANKERROR']);
const RATE_LIMIT_CODES = new Set(['FREQUENCY_LIMITED', 'FREQUENCY_LIMIT_EXCEED', 'RATELIMIT_EXCEEDED']);

export function parseErrorBody(body: Buffer | string): ErrorBody | undefined {
  try {
    const v = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null && typeof (v as ErrorBody).code === 'string') {
      const e = v as ErrorBody;
      return {
        code: e.code,
        message: typeof e.message === 'string' ? e.message : '',
        ...(e.detail !== undefined ? { detail: e.detail } : {}),
      };
    }
  } catch {
    /* not JSON: gateways answer HTML on 502/503 */
  }
  return undefined;
}

/**
 * `what` is e.g. "POST /v3/pay/transactions/jsapi" (no query, headers or body); `requestId` is the
 * Request-ID response header, kept on the error and in its message for WeChat Pay support.
 */
export function errorFromResponse(
  what: string,
  status: number,
  body: Buffer | string,
  requestId?: string,
): WxpayError {
  const err = classify(what, status, body);
  if (requestId && /^[\w.-]{1,128}$/.test(requestId)) {
    err.requestId = requestId;
    err.message += ` [Request-ID ${requestId}]`;
  }
  return err;
}

function classify(what: string, status: number, body: Buffer | string): WxpayError {
  const e = parseErrorBody(body);
  const said = e ? `${e.code}${e.message ? ` (${e.message.slice(0, 200)})` : ''}` : `HTTP ${status}`;
  if (status === 429 || (e && RATE_LIMIT_CODES.has(e.code))) {
    return new WxpayRateLimitedError(
      `WeChat Pay rate-limited ${what}: ${said}; retry later with backoff`,
      status,
      e?.code ?? 'FREQUENCY_LIMITED',
      e?.detail,
    );
  }
  if (e && RETRYABLE_CODES.has(e.code)) {
    return new WxpayUnavailableError(
      `WeChat Pay failed on its side for ${what}: ${said}; safe to retry with the same out_trade_no / out_refund_no`,
      'system-error',
      status,
      e.code,
    );
  }
  if (status >= 500) {
    return new WxpayUnavailableError(
      `WeChat Pay answered ${what} with ${said}; safe to retry with the same out_trade_no / out_refund_no`,
      'server-error',
      status,
      e?.code,
    );
  }
  return new WxpayUpstreamError(
    `WeChat Pay refused ${what}: ${said}${hintFor(e?.code)}`,
    status,
    e?.code ?? `HTTP_${status}`,
    e?.detail,
  );
}

function hintFor(code: string | undefined): string {
  switch (code) {
    case 'SIGN_ERROR':
      return '; WXPAY_SERIAL_NO must be the serial of the certificate whose private key is WXPAY_PRIVATE_KEY, and WXPAY_MCHID its merchant';
    case 'ORDERPAID':
      return '; the order is already paid: query it instead of paying again';
    case 'ORDER_NOT_EXIST':
    case 'RESOURCE_NOT_EXISTS':
      return '; check the out_trade_no / out_refund_no and WXPAY_MCHID';
    case 'NOT_ENOUGH':
      return '; the merchant account balance cannot cover this refund now';
    case 'PARAM_ERROR':
    case 'INVALID_REQUEST':
      return '; see the detail field for the offending parameter';
    default:
      return '';
  }
}
