// The callables over CloudBase HTTP access: the HTTPS API a client reaches with
// `wx.request` + `Authorization: Bearer <token>` (docs/product.md#callables). The same function code
// serves `wx.cloud.callFunction` and this transport; this module is the HTTP side only: the method,
// CORS, the JSON body, and the envelope's HTTP status. Who is calling is decided in callable.ts, and
// over HTTP only from the Bearer token: neither the invocation context nor any header (x-wx-openid)
// is identity here, because an HTTP client can set any header it likes.
import { SERVER_CONFIGURATION_ERROR } from './errors';
import { isUtf8 } from 'node:buffer';
import type { ApiResult, ErrorCode } from '../contracts/api';
import { isPlainObject, type Fields } from '../domain/validate';
import { fail } from './envelope';
import { readTriggerEvent, type IntegrationEvent, type TriggerResponse } from './trigger';

/** Callable requests are a cart or an id: anything larger is a mistake or an attack. */
export const MAX_BODY_BYTES = 64 * 1024;
/** How long a browser may cache a successful preflight. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UPSTREAM_ERROR: 502,
  UPSTREAM_UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** The HTTP status that carries an envelope: 200 for `ok`, else the code's status (unknown codes: 500). */
export function httpStatusFor(result: ApiResult<unknown>): number {
  if (result.ok) return 200;
  return STATUS[result.error.code] ?? 500;
}

/**
 * Seconds a client should wait, when the error that produced RATE_LIMITED says so
 * (`retryAfterSeconds` on the thrown error, e.g. a per-user limit). Whole seconds, at least 1.
 */
export function retryAfterOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const value = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return Math.min(Math.ceil(value), 86_400);
}

// ---- CORS ----

export type CorsPolicy =
  | { ok: true; origins: ReadonlySet<string> }
  | { ok: false; variable: 'HTTP_API_CORS_ORIGINS'; problem: string };

/**
 * `HTTP_API_CORS_ORIGINS`: comma-separated origins allowed to call the API from a browser, compared
 * exactly. Empty or unset: no CORS at all (wx.request is not subject to CORS; only web pages are).
 */
export function parseCorsOrigins(raw: string | undefined): CorsPolicy {
  const origins = new Set<string>();
  for (const item of (raw ?? '').split(',')) {
    const origin = item.trim();
    if (origin === '') continue;
    const problem = originProblem(origin);
    if (problem) return { ok: false, variable: 'HTTP_API_CORS_ORIGINS', problem };
    origins.add(origin);
  }
  return { ok: true, origins };
}

function originProblem(origin: string): string | undefined {
  const example = 'e.g. https://shop.example.com';
  if (origin === '*' || origin === 'null')
    return `HTTP_API_CORS_ORIGINS must list exact origins (${example}); "${origin}" is not accepted`;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return `HTTP_API_CORS_ORIGINS: "${origin.slice(0, 80)}" is not an origin; write scheme://host[:port], ${example}`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `HTTP_API_CORS_ORIGINS: "${origin.slice(0, 80)}" is not an http(s) origin; ${example}`;
  if (url.origin !== origin)
    return `HTTP_API_CORS_ORIGINS: write "${origin.slice(0, 80)}" exactly as browsers send it, "${url.origin}" (scheme://host[:port], lower case, no path or trailing slash)`;
  return undefined;
}

// ---- the request handed to the callable ----

const HTTP_API_REQUEST = Symbol('http-api request');

/** A validated HTTP-access call: the JSON body's fields and the headers (lower-cased names). */
export interface HttpApiRequest {
  readonly [HTTP_API_REQUEST]: true;
  readonly fields: Fields;
  readonly headers: Readonly<Record<string, string>>;
}

/** Only this module makes these, so a callFunction payload can never pass for one. */
export function isHttpApiRequest(value: unknown): value is HttpApiRequest {
  return typeof value === 'object' && value !== null && HTTP_API_REQUEST in value;
}

/** Runs the callable for a request; `observe` receives the error behind a failed envelope. */
export type HttpApiCall<T> = (
  request: HttpApiRequest,
  observe: (err: unknown) => void,
) => Promise<ApiResult<T>>;

type Headers = Record<string, string>;

function answer(statusCode: number, result: ApiResult<unknown>, headers: Headers): TriggerResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      // Answers carry session tokens and orders: never cached by a proxy or the browser.
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    },
    body: JSON.stringify(result),
    isBase64Encoded: false,
  };
}

function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined || value.trim() === '') return true; // a bare body is read as JSON
  const type = value.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** The body as the callable's fields, or the error envelope explaining what to send instead. */
function readBody(
  rawBody: Buffer,
  contentType: string | undefined,
): { fields: Fields } | { refused: ApiResult<never> } {
  const refuse = (message: string) => ({ refused: fail('INVALID_ARGUMENT', message) });
  if (!isJsonContentType(contentType))
    return refuse(
      'send the request as JSON with "Content-Type: application/json" (wx.request does by default)',
    );
  if (rawBody.length > MAX_BODY_BYTES)
    return refuse(`the request body is over ${MAX_BODY_BYTES} bytes; send only the call's fields`);
  if (rawBody.length === 0) return { fields: {} };
  if (!isUtf8(rawBody)) return refuse('the request body is not UTF-8 text; send a JSON object');
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return refuse("the request body is not valid JSON; send a JSON object of the call's fields");
  }
  if (!isPlainObject(body)) return refuse("the request body must be a JSON object of the call's fields");
  const fields: Fields = { ...body };
  delete fields.userInfo; // the callFunction echo of the caller means nothing here either
  return { fields };
}

/**
 * Serves one HTTP-access invocation of a callable: only POST (and, when CORS is configured, the
 * browser's preflight), a JSON object body, and the envelope as the body with a matching status.
 */
export async function serveHttpApi<T>(
  name: string,
  event: IntegrationEvent,
  call: HttpApiCall<T>,
  corsOrigins: string | undefined = process.env.HTTP_API_CORS_ORIGINS,
): Promise<TriggerResponse> {
  const req = readTriggerEvent(event);
  const cors = parseCorsOrigins(corsOrigins);
  if (!cors.ok) {
    console.error(`[${name}] INTERNAL: ${cors.problem}`);
    return answer(500, fail('INTERNAL', SERVER_CONFIGURATION_ERROR), {});
  }
  const corsOn = cors.origins.size > 0;
  const origin = req.headers.origin;
  const allowed = corsOn && origin !== undefined && cors.origins.has(origin);
  const headers: Headers = {};
  // The answer depends on Origin whenever CORS is on, so caches must key on it.
  if (corsOn) headers.vary = 'Origin';
  if (allowed) headers['access-control-allow-origin'] = origin;

  if (req.method === 'OPTIONS' && corsOn) {
    if (!allowed)
      return answer(
        403,
        fail('PERMISSION_DENIED', 'this origin may not call the API; add it to HTTP_API_CORS_ORIGINS'),
        headers,
      );
    return {
      statusCode: 204,
      headers: {
        ...headers,
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
      },
      body: '',
      isBase64Encoded: false,
    };
  }
  if (req.method !== 'POST')
    return answer(
      405,
      fail(
        'INVALID_ARGUMENT',
        `use POST ${req.path.slice(0, 100)} with a JSON body; ${req.method.slice(0, 20)} is not served`,
      ),
      { ...headers, allow: corsOn ? 'POST, OPTIONS' : 'POST' },
    );

  const body = readBody(req.rawBody, req.headers['content-type']);
  if ('refused' in body) return answer(400, body.refused, headers);

  let cause: unknown;
  const request: HttpApiRequest = { [HTTP_API_REQUEST]: true, fields: body.fields, headers: req.headers };
  const result = await call(request, (err) => (cause = err));
  const status = httpStatusFor(result);
  // RFC 6750: a 401 names the scheme the client must use.
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="wxcloud-pay"';
  if (status === 429) {
    const seconds = retryAfterOf(cause);
    if (seconds !== undefined) headers['retry-after'] = String(seconds);
  }
  return answer(status, result, headers);
}
