// What an instance is told for one invocation: the event, the caller's identity variables, and the
// `context` object the platform passes to `main(event, context)`. Pure.
import type { FunctionSpec } from './functions-config';

/** What the platform passes as `context` (SCF Node runtime fields; functions mostly read request_id). */
export interface InvocationContext {
  request_id: string;
  function_name: string;
  function_version: string;
  namespace: string;
  memory_limit_in_mb: number;
  time_limit_in_ms: number;
  tencentcloud_region: string;
  /** `KEY=value;` pairs of the context variables (identity, env id), as the platform's `environ`. */
  environ: string;
}

export interface InvokeRequest {
  requestId: string;
  event: unknown;
  /** WX_OPENID, WX_APPID, WX_UNIONID, WX_CLIENTIP … set in the instance for this invocation only. */
  identity: Record<string, string>;
  /** TCB_SOURCE of this invocation, e.g. `wx_client` for callFunction. */
  source: string;
  region: string;
  envId: string;
}

/** A crash fault for one invocation: kill the instance `afterMs` into the call (default: a random point). */
export interface CrashPlan {
  afterMs?: number;
  /** The call ended before the kill: the fault was not used and waits for the next call. */
  missed(): void;
}

export interface InvokeResult {
  /** The JSON text of what the function returned. */
  json: string;
  /** The first invocation of a new instance. */
  cold: boolean;
  /** Process start to bundle loaded, for cold starts. */
  coldStartMs?: number;
  /** Arrival to an instance ready for this call (waiting for a free one or for a cold start). */
  queuedMs: number;
  /** The invocation itself (after the instance was ready). */
  durationMs: number;
  /** The function's own wall time inside the instance: handler called to result. */
  runMs: number;
  /** The instance's CPU over the same span. */
  runCpuMs: number;
}

export function contextOf(req: InvokeRequest, spec: FunctionSpec): InvocationContext {
  return {
    request_id: req.requestId,
    function_name: spec.name,
    function_version: '$LATEST',
    namespace: req.envId,
    memory_limit_in_mb: spec.memoryMb,
    time_limit_in_ms: spec.timeoutMs,
    tencentcloud_region: req.region,
    environ: environOf(req),
  };
}

/** `KEY=value;` for the identity variables, then the env id and the source (built per invocation). */
function environOf(req: InvokeRequest): string {
  let out = '';
  for (const k in req.identity) {
    if (k === 'TCB_ENV' || k === 'SCF_NAMESPACE' || k === 'TCB_SOURCE') continue;
    out += `${k}=${req.identity[k]};`;
  }
  return `${out}TCB_ENV=${req.envId};SCF_NAMESPACE=${req.envId};TCB_SOURCE=${req.source};`;
}
