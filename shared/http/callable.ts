// The frame of every callable function: validate the configuration on first use, find the caller
// (platform identity, else a Bearer token on HTTP access), hand the handler the event's fields, and
// turn whatever happens into docs/product.md#the-result-envelope. Handlers throw typed errors, return data.
import { isTimerInvocation } from './timer-event';
import type { ApiResult } from '../contracts/api';
import { AuthError } from '../auth/errors';
import { resolveCaller, type Caller } from '../auth/caller';
import { getConfig, type AppConfig } from '../config/config';
import type { FunctionName } from '../config/variables';
import { readObject, type Fields } from '../domain/validate';
import { ok, fail } from './envelope';
import { consoleLogger, type Logger } from '../log';
import { mapError } from './errors';
import { platformIdentity, type PlatformIdentity } from './context';
import { isHttpApiRequest, serveHttpApi } from './http-api';
import { isIntegrationEvent, type TriggerResponse } from './trigger';

export interface CallableInput {
  /** The call's data fields (callFunction data, or the JSON body on HTTP access). `userInfo` removed. */
  fields: Fields;
  identity: PlatformIdentity;
  /** Headers of an HTTP-access call (lower-cased), empty for callFunction. */
  headers: Record<string, string>;
  /** The platform's own timer invocation (shared/http/timer-event.ts); never true for a client's call. */
  timer: boolean;
  config: AppConfig;
  /** This function's log (`[name] …` lines). */
  log: Logger;
  now: Date;
}

export interface CallerContext extends CallableInput {
  caller: Caller;
  isAdmin: boolean;
}

function parseInput(event: unknown, context: unknown, config: AppConfig, log: Logger): CallableInput {
  const now = new Date();
  // HTTP access: no context identity at all, so only a Bearer token can name the caller.
  if (isHttpApiRequest(event))
    return { fields: event.fields, identity: {}, headers: event.headers, timer: false, config, log, now };
  const identity = platformIdentity(context);
  const timer = isTimerInvocation(event, context, identity.openid);
  const fields = { ...readObject(event ?? {}, 'the call data') };
  delete fields.userInfo; // the platform's echo of the caller; identity comes from the context only
  return { fields, identity, headers: {}, timer, config, log, now };
}

function respond<T>(
  log: Logger,
  run: () => Promise<T>,
  observe?: (err: unknown) => void,
): Promise<ApiResult<T>> {
  return run().then(
    (data) => ok(data),
    (err: unknown) => {
      observe?.(err);
      if (err instanceof AuthError) return fail('UNAUTHENTICATED', err.message);
      const mapped = mapError(err);
      if (mapped.serverSide) log.error(mapped.error.code, { error: err });
      return { ok: false, error: mapped.error };
    },
  );
}

/** A callable that identifies the caller itself (login). */
export function publicCallable<T>(name: FunctionName, handler: (input: CallableInput) => Promise<T>) {
  const log = consoleLogger(name);
  const call = (event: unknown, context?: unknown, observe?: (err: unknown) => void): Promise<ApiResult<T>> =>
    respond(
      log,
      async () => {
        const config = getConfig();
        config.validateFor(name);
        return handler(parseInput(event, context, config, log));
      },
      observe,
    );
  // The same code serves wx.cloud.callFunction (the envelope as the result) and HTTP access
  // (the envelope as a JSON body with its HTTP status, shared/http/http-api.ts).
  return (event: unknown, context?: unknown): Promise<ApiResult<T> | TriggerResponse> =>
    isIntegrationEvent(event)
      ? serveHttpApi<T>(name, event, (request, observe) => call(request, context, observe))
      : call(event, context);
}

/** A callable that requires an identified caller (context openid or Bearer token). */
export function authedCallable<T>(name: FunctionName, handler: (ctx: CallerContext) => Promise<T>) {
  return publicCallable<T>(name, (input) => {
    const caller = resolveCaller({
      contextOpenid: input.identity.openid ?? null,
      contextUnionid: input.identity.unionid ?? null,
      headers: input.headers,
      jwt: () => input.config.jwtVerifier(),
    });
    const isAdmin = input.config.adminOpenids().has(caller.openid);
    return handler({ ...input, caller, isAdmin });
  });
}
