// Why a caller could not be identified. Every reason maps to the envelope's UNAUTHENTICATED; the
// reason is for logs and tests, the message tells the mini-program what to do.
export type AuthFailure = 'missing' | 'malformed' | 'expired' | 'invalid';

export class AuthError extends Error {
  override readonly name = 'AuthError';
  readonly code = 'UNAUTHENTICATED' as const;
  readonly retryable = false;

  constructor(
    readonly reason: AuthFailure,
    message: string,
  ) {
    super(message);
  }
}
