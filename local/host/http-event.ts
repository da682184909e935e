// The HTTP access service's two mappings (CloudBase "集成请求 / 集成响应"): an HTTP request becomes the
// event a function receives, and whatever the function returns becomes the HTTP response. Pure.
import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';

/** The integration request, exactly as the platform hands it to `main(event, context)`. */
export interface IntegrationEvent {
  path: string;
  httpMethod: string;
  headers: Record<string, string>;
  queryStringParameters: Record<string, string>;
  requestContext: { requestId: string; envId: string; appId: number; uin: number };
  body: string;
  isBase64Encoded: boolean;
}

/** The integration response a function may return. */
export interface IntegrationResponse {
  statusCode: number;
  headers?: Record<string, string | number | string[]>;
  body?: unknown;
  isBase64Encoded?: boolean;
}

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string | number | string[]>;
  body: Buffer;
}

const TEXTUAL =
  /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql)|[^;]*\+(json|xml))/i;

/**
 * Text bodies travel as utf-8 strings; anything else (or bytes that are not valid utf-8) as base64, so
 * no byte is lost. `base64` forces base64 for any body, as the platform does for some content types.
 */
export function encodeBody(
  body: Buffer,
  contentType: string | undefined,
  base64 = false,
): { body: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { body: '', isBase64Encoded: false };
  if (base64) return { body: body.toString('base64'), isBase64Encoded: true };
  const textual = contentType === undefined || contentType === '' || TEXTUAL.test(contentType.trim());
  if (textual && isUtf8(body)) return { body: body.toString('utf8'), isBase64Encoded: false };
  return { body: body.toString('base64'), isBase64Encoded: true };
}

export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

export function buildIntegrationEvent(req: {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  requestId: string;
  envId: string;
  /** Hand the body over base64-encoded whatever its type. */
  base64?: boolean;
}): IntegrationEvent {
  const url = new URL(req.url, 'http://local');
  const queryStringParameters: Record<string, string> = {};
  for (const [k, v] of url.searchParams) queryStringParameters[k] = v;
  const contentType =
    typeof req.headers['content-type'] === 'string' ? req.headers['content-type'] : undefined;
  return {
    path: url.pathname,
    httpMethod: req.method.toUpperCase(),
    headers: flattenHeaders(req.headers),
    queryStringParameters,
    // Placeholder account numbers: the local stack has no Tencent Cloud account.
    requestContext: { requestId: req.requestId, envId: req.envId, appId: 0, uin: 0 },
    ...encodeBody(req.body, contentType, req.base64),
  };
}

function isIntegrationResponse(value: unknown): value is IntegrationResponse {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { statusCode?: unknown }).statusCode === 'number'
  );
}

/** Maps a function's return value to the HTTP response, as the HTTP access service does. */
export function toHttpAnswer(value: unknown): HttpAnswer {
  if (isIntegrationResponse(value)) {
    const { body } = value;
    let bytes: Buffer;
    if (body === undefined || body === null) bytes = Buffer.alloc(0);
    else if (typeof body === 'string') bytes = Buffer.from(body, value.isBase64Encoded ? 'base64' : 'utf8');
    else bytes = Buffer.from(JSON.stringify(body), 'utf8');
    return { statusCode: value.statusCode, headers: { ...(value.headers ?? {}) }, body: bytes };
  }
  if (value === undefined || value === null)
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.alloc(0),
    };
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return {
      statusCode: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from(String(value), 'utf8'),
    };
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: Buffer.from(JSON.stringify(value), 'utf8'),
  };
}
