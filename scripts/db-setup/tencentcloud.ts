// Minimal Tencent Cloud API 3.0 client (TC3-HMAC-SHA256 signing, JSON POST) for the two database
// calls the server SDK lacks: security rules (tcb ModifySafeRule) and indexes (flexdb UpdateTable).
import { createHash, createHmac } from 'node:crypto';

export interface ApiCredentials {
  secretId: string;
  secretKey: string;
  sessionToken?: string;
}

export interface ApiCall {
  service: string;
  version: string;
  action: string;
  payload: Record<string, unknown>;
  region?: string;
}

const sha256hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();

/** The request headers of `call` signed with TC3-HMAC-SHA256 at `timestamp` (Unix seconds). */
export function signedHeaders(
  call: ApiCall,
  body: string,
  host: string,
  creds: ApiCredentials,
  timestamp: number,
): Record<string, string> {
  const contentType = 'application/json; charset=utf-8';
  const canonicalRequest = [
    'POST',
    '/',
    '',
    `content-type:${contentType}`,
    `host:${host}`,
    '',
    'content-type;host',
    sha256hex(body),
  ].join('\n');
  const date = new Date(timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/${call.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), scope, sha256hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(`TC3${creds.secretKey}`, date), call.service), 'tc3_request');
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  const headers: Record<string, string> = {
    Authorization: `TC3-HMAC-SHA256 Credential=${creds.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
    'Content-Type': contentType,
    Host: host,
    'X-TC-Action': call.action,
    'X-TC-Timestamp': String(timestamp),
    'X-TC-Version': call.version,
  };
  if (call.region) headers['X-TC-Region'] = call.region;
  if (creds.sessionToken) headers['X-TC-Token'] = creds.sessionToken;
  return headers;
}

export class TencentCloudApiError extends Error {
  constructor(
    readonly action: string,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(`${action} failed: ${code} ${message}${requestId ? ` (RequestId ${requestId})` : ''}`);
  }
}

export type ApiCaller = (call: ApiCall) => Promise<Record<string, unknown>>;

/** A caller against `https://<service>.tencentcloudapi.com` (or `endpoint(service)` for tests). */
export function apiCaller(
  creds: ApiCredentials,
  endpoint: (service: string) => string = (s) => `https://${s}.tencentcloudapi.com`,
): ApiCaller {
  return async (call) => {
    const url = new URL(endpoint(call.service));
    const body = JSON.stringify(call.payload);
    const headers = signedHeaders(call, body, url.host, creds, Math.floor(Date.now() / 1000));
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(20_000) });
    const json = (await res.json()) as {
      Response?: Record<string, unknown> & { Error?: { Code: string; Message: string }; RequestId?: string };
    };
    const r = json.Response;
    if (!r) throw new TencentCloudApiError(call.action, `HTTP${res.status}`, 'no Response in the answer');
    if (r.Error) throw new TencentCloudApiError(call.action, r.Error.Code, r.Error.Message, r.RequestId);
    return r;
  };
}
