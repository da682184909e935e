// One invocation, whatever triggered it: find the function's pool, take a crash fault if one is armed,
// run the event in an instance, turn a failure into the platform's error answer, and record the
// invocation (log line + invocation log). callFunction, HTTP access and timers all come through here.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CrashFaults } from './faults';
import { toHttpAnswer, type HttpAnswer } from './http-event';
import { identityEnv, REGION, type CallIdentity } from './instance-env';
import {
  formatInvocation,
  type InvocationLog,
  type InvocationOutcome,
  type InvocationRecord,
  type Trigger,
} from './invocation-log';
import {
  InvocationError,
  platformError,
  type PlatformErrorBody,
  type PlatformErrorCode,
} from './platform-errors';
import type { FunctionPools } from './pools';

export type Invoked =
  | { ok: true; requestId: string; status: number; json: string; http?: HttpAnswer }
  | { ok: false; requestId: string; status: number; error: PlatformErrorBody };

export type Invoke = (
  name: string,
  trigger: Trigger,
  event: unknown,
  identity: CallIdentity,
  meta?: { requestId?: string; arrivedAt?: Date; base64Body?: boolean },
) => Promise<Invoked>;

/** TCB_SOURCE per trigger, as the platform sets it. */
const SOURCE: Record<Trigger, string> = { callFunction: 'wx_client', http: 'wx_http', timer: 'scf' };

/** WeChat Pay stops waiting for a notification's answer after 5 s and retries later. */
export const WECHAT_ANSWER_WITHIN_MS = 5000;

export function createInvoker(deps: {
  pools: FunctionPools;
  faults: CrashFaults;
  invocations: InvocationLog;
  log: (line: string) => void;
  envId: string;
  /** HTTP-trigger answers slower than this are called out in the log. */
  answerWithinMs?: number;
}): Invoke {
  const { pools, faults, invocations, log, envId } = deps;
  const late = lateAnswerReporter(log, deps.answerWithinMs ?? WECHAT_ANSWER_WITHIN_MS);

  return async function invoke(name, trigger, event, identity, meta = {}) {
    const requestId = meta.requestId ?? randomUUID();
    const arrivedAt = meta.arrivedAt ?? new Date();
    const startedAt = performance.now();
    const pool = pools.pool(name);
    if (!pool) {
      const e = platformError(
        'FUNCTION_NOT_FOUND',
        `no cloud function named "${name}": expected ${pools.expectedBundle(name)} — add cloudfunctions/${name}/index.ts and run npm run build`,
        requestId,
      );
      return { ok: false, requestId, status: e.status, error: e.body };
    }
    const record = (
      r: Omit<InvocationRecord, 'requestId' | 'functionName' | 'trigger' | 'at' | 'durationMs'>,
    ) => {
      const full: InvocationRecord = {
        requestId,
        functionName: name,
        trigger,
        at: arrivedAt.toISOString(),
        durationMs: performance.now() - startedAt,
        ...(identity.openid ? { openid: identity.openid } : {}),
        ...(meta.base64Body ? { base64Body: true } : {}),
        ...r,
      };
      invocations.add(full);
      log(formatInvocation(full));
      if (trigger === 'http') late.check(full, pool.size, pool.queued);
    };
    try {
      const r = await pool.invoke(
        { requestId, event, identity: identityEnv(identity), source: SOURCE[trigger], region: REGION, envId },
        faults.take(name),
      );
      const http = trigger === 'http' ? toHttpAnswer(JSON.parse(r.json)) : undefined;
      const status = http?.statusCode ?? 200;
      record({
        cold: r.cold,
        coldStartMs: r.coldStartMs,
        queuedMs: r.queuedMs,
        runMs: r.runMs,
        runCpuMs: r.runCpuMs,
        outcome: 'ok',
        status,
      });
      return { ok: true, requestId, status, json: r.json, ...(http ? { http } : {}) };
    } catch (err) {
      const ie =
        err instanceof InvocationError
          ? err
          : new InvocationError('FUNCTION_INVOCATION_FAILED', (err as Error).message);
      const e = platformError(ie.code, ie.message, requestId);
      // The HTTP access service answers a failed function with a 5xx, so that callers retry.
      const status = trigger === 'http' && e.status < 500 ? 502 : e.status;
      record({
        cold: ie.cold ?? false,
        coldStartMs: ie.coldStartMs,
        queuedMs: ie.queuedMs,
        outcome: ie.crashed ? 'crash' : outcomeOf(ie.code),
        status,
        errorMessage: firstLine(ie.message),
      });
      return { ok: false, requestId, status, error: e.body };
    }
  };
}

/** The event of `wx.cloud.callFunction`: the caller's data, with userInfo set by the platform only. */
export function callFunctionEvent(
  data: Record<string, unknown>,
  identity: CallIdentity,
): Record<string, unknown> {
  const event: Record<string, unknown> = { ...data };
  delete event.userInfo;
  if (identity.openid) event.userInfo = { appId: identity.appid ?? '', openId: identity.openid };
  return event;
}

function outcomeOf(code: PlatformErrorCode): InvocationOutcome {
  if (code === 'FUNCTION_TIME_LIMIT_EXCEEDED') return 'timeout';
  if (code === 'FUNCTION_MEMORY_LIMIT_EXCEEDED') return 'memory';
  if (code === 'FUNCTION_EXCEED_RESOURCE_LIMIT') return 'rejected';
  return 'error';
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0].slice(0, 200);
}

/**
 * Says in the log when HTTP-trigger answers come later than the caller waits (WeChat: 5 s), with where
 * the time went — at most one line per function per second, so a storm does not flood the log.
 */
function lateAnswerReporter(log: (line: string) => void, withinMs: number) {
  interface Late {
    count: number;
    worst: InvocationRecord;
    instances: number;
    queued: number;
  }
  const pending = new Map<string, Late>();
  const report = (name: string) => {
    const { count, worst: w, instances, queued } = pending.get(name)!;
    pending.delete(name);
    const cold = w.cold ? `, cold start ${Math.round(w.coldStartMs ?? 0)} ms` : '';
    log(
      `[host] ${name}: ${count} HTTP answer(s) later than the ${withinMs / 1000} s a caller such as WeChat Pay waits ` +
        `(worst ${Math.round(w.durationMs)} ms: ${Math.round(w.queuedMs ?? 0)} ms waiting for an instance${cold}; ` +
        `${instances} instance(s), ${queued} call(s) queued then). WeChat Pay retries what it did not get an answer to. ` +
        `If this happens on an idle machine, raise maxInstancesPerFunction; on a busy one, more instances only share the same CPUs.`,
    );
  };
  return {
    check(r: InvocationRecord, instances: number, queued: number): void {
      if (r.durationMs <= withinMs) return;
      const p = pending.get(r.functionName);
      if (!p) {
        pending.set(r.functionName, { count: 1, worst: r, instances, queued });
        setTimeout(() => report(r.functionName), 1000).unref();
      } else {
        p.count++;
        if (r.durationMs > p.worst.durationMs) Object.assign(p, { worst: r, instances, queued });
      }
    },
  };
}
