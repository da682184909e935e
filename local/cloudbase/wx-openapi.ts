// 云调用 (wx-server-sdk's `cloud.openapi.*`) as the platform serves it: inside a function the SDK
// POSTs multipart/form-data to the same endpoint as the database (`<serviceUrl>?env=…`) with
// `action=wx.openApi`, `apiName` (e.g. `subscribeMessage.send`) and `requestData`, a protobuf
// CommApiData whose OPEN_API pairs carry each top-level body field as JSON bytes. The platform calls
// WeChat on the function's behalf — no access_token, no secret in the function — and answers with a
// protobuf CommOpenApiResp wrapping WeChat's JSON. Here WeChat is the local simulator: the call goes
// to its 云调用 ingress `POST /_cloudcall/<apiName>` with the environment's bound appid in
// `x-wx-cloud-appid`, and the simulator answers as WeChat would.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeMessage, encodeMessage, type Field } from './protobuf-lite';

export interface WechatTarget {
  /** Base URL of the WeChat simulator. */
  url: string;
  /** The mini-program this CloudBase environment belongs to (its calls act for it). */
  appid: string;
}

export interface WxOpenApiAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** The SDK's raw request body holds binary protobuf: parse multipart on bytes, never as text. */
export function parseMultipart(body: Buffer, contentType: string): Map<string, Buffer> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new Error('multipart/form-data without a boundary');
  const delimiter = Buffer.from(`--${m[1] ?? m[2]}`);
  const fields = new Map<string, Buffer>();
  let pos = body.indexOf(delimiter);
  while (pos >= 0) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      if (name !== undefined) fields.set(name, part.subarray(headerEnd + 4));
    }
    pos = next;
  }
  return fields;
}

const bytesOf = (fields: Field[], no: number) => fields.find((f) => f.no === no)?.bytes;

/** CommApiData (OPEN_API) → the JSON body WeChat receives, and the appid it names (cross-account). */
export function decodeOpenApiRequest(requestData: Buffer): { body: Record<string, unknown>; appid?: string } {
  const message = decodeMessage(requestData);
  const apiType = message.find((f) => f.no === 1)?.varint ?? 0;
  if (apiType !== 0) throw new Error(`only OPEN_API calls are served locally (apiType ${apiType})`);
  const body: Record<string, unknown> = {};
  const openapiData = bytesOf(message, 2);
  for (const pair of openapiData ? decodeMessage(openapiData).filter((f) => f.no === 1) : []) {
    const kv = decodeMessage(pair.bytes ?? Buffer.alloc(0));
    const key = bytesOf(kv, 1)?.toString('utf8');
    const value = bytesOf(kv, 2) ?? Buffer.alloc(0);
    if (!key) continue;
    if (bytesOf(kv, 3)) throw new Error(`media parameter ${key} is not supported by the local 云调用`);
    body[key] = JSON.parse(value.toString('utf8'));
  }
  const appid = bytesOf(message, 6)?.toString('utf8');
  return appid ? { body, appid } : { body };
}

export function encodeOpenApiResponse(respData: Buffer, contentType: string, httpCode: number): Buffer {
  return encodeMessage([
    [1, respData],
    [2, contentType],
    [4, httpCode],
  ]);
}

function platformError(code: string, message: string): WxOpenApiAnswer {
  // A JSON body is what the SDK falls back to when the answer is not protobuf: it reads code/message.
  return {
    status: 200,
    contentType: 'application/json; charset=utf-8',
    body: Buffer.from(JSON.stringify({ code, message })),
  };
}

/**
 * Serves one `wx.*` action from a function's SDK. `signal` aborts the upstream call when the function
 * gives up first (its answer would go nowhere).
 */
export async function handleWxOpenApi(
  rawBody: Buffer,
  contentType: string,
  target: WechatTarget | undefined,
  signal?: AbortSignal,
): Promise<WxOpenApiAnswer> {
  let fields: Map<string, Buffer>;
  try {
    fields = parseMultipart(rawBody, contentType);
  } catch (err) {
    return platformError('INVALID_PARAM', `cannot read the 云调用 request: ${(err as Error).message}`);
  }
  const action = fields.get('action')?.toString('utf8');
  if (action !== 'wx.openApi') {
    return platformError(
      'INVALID_PARAM',
      `action ${JSON.stringify(action)} is not served by the local emulator; cloud.openapi.* (wx.openApi) is`,
    );
  }
  const apiName = fields.get('apiName')?.toString('utf8') ?? '';
  if (!/^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$/.test(apiName)) {
    return platformError('INVALID_PARAM', `apiName ${JSON.stringify(apiName)} is not a 云调用 API name`);
  }
  if (!target) {
    return platformError(
      'SYS_ERR',
      'the emulator is not connected to a WeChat simulator (startLocalStack connects them; or call emulator.connectWechat({url, appid}))',
    );
  }
  let request: { body: Record<string, unknown>; appid?: string };
  try {
    request = decodeOpenApiRequest(fields.get('requestData') ?? Buffer.alloc(0));
  } catch (err) {
    return platformError('INVALID_PARAM', `cannot decode the 云调用 requestData: ${(err as Error).message}`);
  }
  let upstream: Response;
  try {
    upstream = await fetch(`${target.url.replace(/\/+$/, '')}/_cloudcall/${apiName}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wx-cloud-appid': request.appid ?? target.appid },
      body: JSON.stringify(request.body),
      signal,
    });
  } catch (err) {
    return platformError(
      'SYS_ERR',
      `WeChat (the simulator at ${target.url}) could not be reached: ${(err as Error).message}`,
    );
  }
  const respData = Buffer.from(await upstream.arrayBuffer());
  return {
    status: 200,
    contentType: 'application/octet-stream',
    body: encodeOpenApiResponse(
      respData,
      upstream.headers.get('content-type') ?? 'application/json',
      upstream.status,
    ),
  };
}

const MAX_OPENAPI_BODY = 2 * 1024 * 1024;

/** True when a request to the SDK endpoint is a `wx.*` call rather than a database action. */
export function isWxOpenApiRequest(req: IncomingMessage): boolean {
  return /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
}

/** The HTTP side of handleWxOpenApi: reads the raw bytes, answers, and cancels upstream on disconnect. */
export function serveWxOpenApi(
  req: IncomingMessage,
  res: ServerResponse,
  target: () => WechatTarget | undefined,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_OPENAPI_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    const answer =
      size > MAX_OPENAPI_BODY
        ? Promise.resolve(platformError('INVALID_PARAM', `云调用 request over ${MAX_OPENAPI_BODY} bytes`))
        : handleWxOpenApi(Buffer.concat(chunks), req.headers['content-type'] ?? '', target(), abort.signal);
    void answer.then((a) => {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': a.body.length });
      res.end(a.body);
    });
  });
}
