// The platform's failure answers. `wx.cloud.callFunction` rejects with `errCode` / `errMsg`
// (e.g. -504002 "functions execute fail"); the HTTP API reports a `code` / `message` pair
// (FUNCTION_NOT_FOUND, FUNCTION_INVOCATION_FAILED, ...). The host answers with both so either kind of
// client finds what it expects.

export type PlatformErrorCode =
  | 'FUNCTION_NOT_FOUND'
  | 'FUNCTION_PARAM_INVALID'
  | 'FUNCTION_INVOCATION_FAILED'
  | 'FUNCTION_TIME_LIMIT_EXCEEDED'
  | 'FUNCTION_MEMORY_LIMIT_EXCEEDED'
  | 'FUNCTION_EXCEED_RESOURCE_LIMIT';

const WX_ERR: Record<PlatformErrorCode, { errCode: number; text: string; status: number }> = {
  FUNCTION_NOT_FOUND: { errCode: -501000, text: 'FunctionName parameter could not be found', status: 404 },
  FUNCTION_PARAM_INVALID: { errCode: -501000, text: 'invalid parameter', status: 400 },
  FUNCTION_INVOCATION_FAILED: { errCode: -504002, text: 'functions execute fail', status: 500 },
  FUNCTION_TIME_LIMIT_EXCEEDED: { errCode: -504003, text: 'functions time limit exceeded', status: 504 },
  FUNCTION_MEMORY_LIMIT_EXCEEDED: { errCode: -504002, text: 'functions execute fail', status: 500 },
  FUNCTION_EXCEED_RESOURCE_LIMIT: { errCode: -504002, text: 'functions execute fail', status: 503 },
};

export interface PlatformErrorBody {
  errCode: number;
  errMsg: string;
  code: PlatformErrorCode;
  message: string;
  requestId: string;
}

export class InvocationError extends Error {
  override name = 'InvocationError';
  /** Whether the failed call had started a new instance (for the invocation log). */
  cold?: boolean;
  coldStartMs?: number;
  queuedMs?: number;
  /** The instance died during the invocation (its own crash, or a crash fault). */
  readonly crashed: boolean;
  constructor(
    readonly code: PlatformErrorCode,
    message: string,
    opts: { crashed?: boolean } = {},
  ) {
    super(message);
    this.crashed = opts.crashed ?? false;
  }
}

export function platformError(
  code: PlatformErrorCode,
  message: string,
  requestId: string,
): { status: number; body: PlatformErrorBody } {
  const e = WX_ERR[code];
  return {
    status: e.status,
    body: {
      errCode: e.errCode,
      errMsg: `cloud.callFunction:fail requestID ${requestId}, errCode: ${e.errCode} ${e.text} | errMsg: ${message}`,
      code,
      message,
      requestId,
    },
  };
}

/** Adds where a failed invocation stood (cold start, time queued) for its invocation record. */
export function tagged(
  err: unknown,
  t: { cold: boolean; coldStartMs: number | undefined; queuedMs: number | undefined },
): unknown {
  if (err instanceof InvocationError) {
    err.cold = t.cold;
    err.coldStartMs = t.coldStartMs;
    err.queuedMs = t.queuedMs;
  }
  return err;
}
