// CloudBase HTTP access (integration request) ↔ a plain request/response. The platform hands the
// function `{path, httpMethod, headers, queryStringParameters, body, isBase64Encoded}` and sends back
// `{statusCode, headers, body, isBase64Encoded}` as is. Signature checks need the body byte for byte,
// so it is kept as a Buffer and decoded only when the platform flagged it base64.

export interface IntegrationEvent {
  path?: string;
  httpMethod?: string;
  headers?: Record<string, string | string[] | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
  body?: string | null;
  isBase64Encoded?: boolean;
}

export interface TriggerRequest {
  method: string;
  path: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  query: Record<string, string>;
  rawBody: Buffer;
}

export interface TriggerResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded: false;
}

export function isIntegrationEvent(event: unknown): event is IntegrationEvent {
  if (typeof event !== 'object' || event === null) return false;
  const e = event as Record<string, unknown>;
  return typeof e.httpMethod === 'string' && typeof e.headers === 'object' && e.headers !== null;
}

export function readTriggerEvent(event: unknown): TriggerRequest {
  const e = (typeof event === 'object' && event !== null ? event : {}) as IntegrationEvent;
  const headers: Record<string, string> = {};
  if (e.headers && typeof e.headers === 'object') {
    for (const [name, value] of Object.entries(e.headers)) {
      if (value === undefined || value === null) continue;
      const text = Array.isArray(value) ? value.map(String).join(', ') : String(value);
      const key = name.toLowerCase();
      headers[key] = key in headers ? `${headers[key]}, ${text}` : text;
    }
  }
  const query: Record<string, string> = {};
  if (e.queryStringParameters && typeof e.queryStringParameters === 'object') {
    for (const [k, v] of Object.entries(e.queryStringParameters)) if (typeof v === 'string') query[k] = v;
  }
  const body = typeof e.body === 'string' ? e.body : '';
  return {
    method: typeof e.httpMethod === 'string' ? e.httpMethod.toUpperCase() : 'POST',
    path: typeof e.path === 'string' ? e.path : '/',
    headers,
    query,
    rawBody: e.isBase64Encoded === true ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
  };
}

export function textResponse(statusCode: number, body: string, contentType: string): TriggerResponse {
  return { statusCode, headers: { 'content-type': contentType }, body, isBase64Encoded: false };
}

export function jsonResponse(statusCode: number, value: unknown): TriggerResponse {
  return textResponse(statusCode, JSON.stringify(value), 'application/json; charset=utf-8');
}

export function emptyResponse(statusCode = 204): TriggerResponse {
  return { statusCode, headers: {}, body: '', isBase64Encoded: false };
}

export function xmlResponse(statusCode: number, xml: string): TriggerResponse {
  return textResponse(statusCode, xml, 'application/xml; charset=utf-8');
}
