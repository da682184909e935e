// Typed library errors → the envelope's error. What the caller sees is a code and an actionable
// message; anything unexpected becomes INTERNAL with a generic message, and its detail goes only to
// a log line (shared/log.ts: name and message, never a stack or a secret).
import type { ApiError } from '../contracts/api';
import { isConfigError } from '../config/errors';
import { isStorageError } from '../db/errors';
import { isAppError } from '../domain/errors';
import {
  WxpayConfigError,
  WxpayError,
  WxpayRateLimitedError,
  WxpayUnavailableError,
  WxpayUpstreamError,
} from '../wxpay/errors';

/** What a caller hears about a misconfigured function; the log line names the variable and the fix. */
export const SERVER_CONFIGURATION_ERROR = 'server configuration error, see the function log';

export interface MappedError {
  error: ApiError;
  /** Worth a log line at error level (the caller did nothing wrong). */
  serverSide: boolean;
}

export function mapError(err: unknown): MappedError {
  if (isAppError(err)) {
    const error: ApiError = { code: err.code, message: err.message };
    if (err.upstream !== undefined) error.upstream = err.upstream;
    if (err.retryAfterSeconds !== undefined) error.retryAfterSeconds = err.retryAfterSeconds;
    return { error, serverSide: err.code === 'INTERNAL' || err.code === 'UPSTREAM_UNAVAILABLE' };
  }
  if (isConfigError(err) || err instanceof WxpayConfigError) {
    // A wrong key or variable: retrying cannot help. Which variable, and how to fix it, is for the
    // operator (the function log line), not for every caller of the function.
    return {
      error: { code: 'INTERNAL', message: SERVER_CONFIGURATION_ERROR },
      serverSide: true,
    };
  }
  if (isStorageError(err)) {
    return {
      error: { code: 'INTERNAL', message: 'the database did not complete the request; retry in a moment' },
      serverSide: true,
    };
  }
  if (err instanceof WxpayRateLimitedError) {
    return {
      error: {
        code: 'RATE_LIMITED',
        message: 'WeChat Pay asks to slow down; retry after a few seconds',
        upstream: err.upstreamCode,
      },
      serverSide: true,
    };
  }
  if (err instanceof WxpayUpstreamError) {
    return {
      error: {
        code: 'UPSTREAM_ERROR',
        message: `WeChat Pay refused the request (${err.upstreamCode})`,
        upstream: err.upstreamCode,
      },
      serverSide: true,
    };
  }
  if (err instanceof WxpayUnavailableError) {
    return {
      error: {
        code: 'UPSTREAM_UNAVAILABLE',
        message: 'WeChat Pay did not answer in time; it is safe to retry the same call',
      },
      serverSide: true,
    };
  }
  if (err instanceof WxpayError) {
    // e.g. a response whose signature did not verify: we cannot trust it, and retrying is safe.
    return {
      error: {
        code: 'UPSTREAM_UNAVAILABLE',
        message: 'WeChat Pay answered with something that could not be verified; retry the call',
      },
      serverSide: true,
    };
  }
  return {
    error: { code: 'INTERNAL', message: 'internal error; retry later, and contact support if it persists' },
    serverSide: true,
  };
}
