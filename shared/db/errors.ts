// Storage failures surface as one typed error. A notification handler answers 5xx on it (WeChat
// retries); a callable answers INTERNAL with a generic "retry" message. The SDK's own message can
// include request details, so it goes to the log line, never to a response.
export class StorageError extends Error {
  override readonly name = 'StorageError';
  constructor(
    readonly operation: string,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`database ${operation} failed (${code})`);
  }
}

export function isStorageError(err: unknown): err is StorageError {
  return err instanceof StorageError;
}

/** The platform answers a second insert of the same `_id` with a duplicate-write error. */
export function isDuplicateKey(err: unknown): boolean {
  if (!(err instanceof StorageError)) return false;
  return /DUPLICATE|E11000/i.test(err.code) || /duplicate|E11000/i.test(err.detail);
}
