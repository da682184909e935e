// The callable result envelope of docs/product.md#the-result-envelope / shared/contracts/api.ts.
import type { ApiError, ApiResult, ErrorCode } from '../contracts/api';

export function ok<T>(data: T): ApiResult<T> {
  return { ok: true, data };
}

export function fail(code: ErrorCode, message: string, upstream?: string): ApiResult<never> {
  const error: ApiError = { code, message };
  if (upstream !== undefined) error.upstream = upstream;
  return { ok: false, error };
}
