// The error the callables turn into docs/product.md#the-result-envelope. Domain and use-case code
// throws these with a message written for the developer who has to act on it; anything else that
// escapes is treated as INTERNAL and its detail never leaves the function.
import type { ErrorCode } from '../contracts/api';

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** WeChat's own code when WeChat said no (UPSTREAM_ERROR). */
    readonly upstream?: string,
    /** RATE_LIMITED by a limit of ours: whole seconds (≥ 1) until the same call can succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const invalidArgument = (message: string) => new AppError('INVALID_ARGUMENT', message);
export const notFound = (message: string) => new AppError('NOT_FOUND', message);
export const permissionDenied = (message: string) => new AppError('PERMISSION_DENIED', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new AppError('RATE_LIMITED', message, undefined, Math.max(1, Math.ceil(retryAfterSeconds)));
export const unauthenticated = (message: string) => new AppError('UNAUTHENTICATED', message);

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
