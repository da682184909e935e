// One buffered HTTP exchange over node:http(s) and a kept-alive agent: the request's own bytes go
// out, the answer's bytes come back whatever its status, decoded if compressed, within a hard deadline
// and a size bound. The signed WeChat Pay v3 calls use it instead of axios: they need nothing axios
// adds (no redirects, no proxy, no body transforms), and axios's per-request machinery was a third
// of the client's CPU per call. A failure without an answer rejects with ExchangeError, whose shape
// (`code`, `request.reusedSocket`, no `response`) is what stale-connection.ts and the clients read.
import { request as httpRequest, type Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { createBrotliDecompress, createGunzip, createInflate, type Gunzip } from 'node:zlib';

export interface ExchangeRequest {
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  agent: HttpAgent | HttpsAgent;
  /** From the request's start to the answer's last byte. */
  timeoutMs: number;
  /** Decoded bytes beyond this fail the exchange. */
  maxBytes: number;
}

export interface ExchangeResponse {
  status: number;
  /** Node's lower-cased headers; `content-encoding` is dropped when the body was decoded. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class ExchangeError extends Error {
  override readonly name: string;
  readonly code: string;
  /** As axios reports it: whether the request went out on a kept-alive socket. */
  readonly request: { reusedSocket: boolean };

  constructor(message: string, code: string, reusedSocket: boolean, name = 'ExchangeError') {
    super(message);
    this.name = name;
    this.code = code;
    this.request = { reusedSocket };
  }
}

function decoder(encoding: string | undefined): Gunzip | ReturnType<typeof createInflate> | undefined {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

export function exchange(req: ExchangeRequest): Promise<ExchangeResponse> {
  return new Promise((resolve, reject) => {
    const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body);
    let settled = false;
    const outgoing = send(req.url, { method: req.method, headers, agent: req.agent });
    const fail = (err: ExchangeError) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      outgoing.destroy();
      reject(err);
    };
    const deadline = setTimeout(
      () =>
        fail(
          new ExchangeError(
            `no complete answer within ${req.timeoutMs} ms`,
            'ETIMEDOUT',
            outgoing.reusedSocket,
            'TimeoutError',
          ),
        ),
      req.timeoutMs,
    );
    outgoing.on('error', (err: NodeJS.ErrnoException) =>
      fail(new ExchangeError(err.message, err.code ?? 'ERR_NETWORK', outgoing.reusedSocket)),
    );
    outgoing.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      const resHeaders: ExchangeResponse['headers'] = { ...res.headers };
      const decode = status !== 204 && status !== 304 ? decoder(res.headers['content-encoding']) : undefined;
      if (decode) delete resHeaders['content-encoding'];
      const source = decode ? res.pipe(decode) : res;
      const chunks: Buffer[] = [];
      let size = 0;
      source.on('data', (c: Buffer) => {
        size += c.length;
        if (size > req.maxBytes) {
          res.destroy();
          fail(
            new ExchangeError(
              `the answer is larger than ${req.maxBytes} bytes`,
              'ERR_BAD_RESPONSE',
              outgoing.reusedSocket,
            ),
          );
          return;
        }
        chunks.push(c);
      });
      source.on('error', (err: NodeJS.ErrnoException) =>
        fail(new ExchangeError(err.message, err.code ?? 'ERR_BAD_RESPONSE', outgoing.reusedSocket)),
      );
      const cutOff = () =>
        fail(new ExchangeError('the answer was cut off', 'ECONNRESET', outgoing.reusedSocket));
      res.on('error', cutOff);
      res.on('close', () => {
        if (!res.complete) cutOff();
      });
      source.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve({ status, headers: resHeaders, body: Buffer.concat(chunks, size) });
      });
    });
    outgoing.end(req.body);
  });
}
