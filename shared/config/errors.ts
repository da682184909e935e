// Raised when a function's environment is missing or malformed. The message names the variable and
// the fix; it never contains the variable's value (most of them are secrets).
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Maps to the callable envelope's INTERNAL: the caller can do nothing, the deployer must. */
  readonly code = 'INTERNAL' as const;
  readonly retryable = false;

  constructor(
    /** The environment variable at fault, e.g. `WXPAY_APIV3_KEY`. */
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
