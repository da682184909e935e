// Request bodies in, JSON and text answers out: the plumbing the emulator, the simulator, the function
// host and the console share. Bodies are read as raw bytes because signatures cover them exactly.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
  constructor(readonly limitBytes: number) {
    super(`the request body is larger than ${limitBytes} bytes`);
  }
}

/**
 * The whole body, or BodyTooLarge once it passes `limitBytes`. The rest of an oversized body is read
 * and dropped rather than the socket destroyed, so the caller can still answer 413 with a reason.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limitBytes) return void chunks.push(c);
      req.off('data', onData);
      chunks.length = 0;
      req.resume();
      reject(new BodyTooLarge(limitBytes));
    };
    req.on('data', onData);
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/** Answers with text already serialised (a body built without a parse/stringify round trip). */
export function sendText(
  res: ServerResponse,
  status: number,
  text: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  // A request whose client went away, or one answered already (a late timer), gets nothing.
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendJsonText(
  res: ServerResponse,
  status: number,
  json: string,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, json, JSON_TYPE, headers);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, JSON.stringify(body), JSON_TYPE, headers);
}

/** The path of a request target, without its query. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}
