// The host's HTTP routes, as a table tried in order: each route answers (true) or passes (false).
// The order is the platform's: callFunction and the configured HTTP-access paths first, then the
// host's own control routes, the mounted web console, an HTTP-access path of `/` (which would catch
// everything), the placeholder home page, and a 404 that says where things are.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { BodyTooLarge, pathOf, readBody, sendJson, sendJsonText, sendText } from '../net/http';
import { FaultInputError, type CrashFaults } from './faults';
import { matchHttpRoute, type HttpRoute } from './functions-config';
import { buildIntegrationEvent } from './http-event';
import type { CallIdentity } from './instance-env';
import { callFunctionEvent, type Invoke, type Invoked } from './invoke';
import { platformError } from './platform-errors';

/** Handles a request; resolves true when it answered. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

/** Larger bodies are refused: no callFunction payload or notification comes near this. */
export const MAX_BODY_BYTES = 6 * 1024 * 1024;
/** Control bodies are small JSON objects. */
const MAX_CONTROL_BODY_BYTES = 64 * 1024;

export interface RouteDeps {
  httpRoutes: HttpRoute[];
  invoke: Invoke;
  functionNames: () => string[];
  /** Per function: instances started, idle, calls queued (GET /health). */
  instances: () => Record<string, { instances: number; idle: number; queued: number }>;
  faults: CrashFaults;
  /** Handlers added with mount(), e.g. the web console. */
  mounted: RouteHandler[];
  /** Share (0..1) of HTTP-trigger requests whose body is handed over base64-encoded. */
  base64Share: number;
  envId: string;
  random?: () => number;
}

export function hostRoutes(deps: RouteDeps): Array<{ what: string; handle: RouteHandler }> {
  const { httpRoutes, invoke, functionNames, faults, mounted, envId } = deps;
  const random = deps.random ?? Math.random;

  async function callFunction(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = pathOf(req);
    if (!path.startsWith('/functions/')) return false;
    const name = decodeName(path.slice('/functions/'.length));
    if (name === undefined) {
      req.resume();
      const e = platformError(
        'FUNCTION_PARAM_INVALID',
        `the function name in ${path} is not valid percent-encoding; use POST /functions/<name>`,
        randomUUID(),
      );
      sendJson(res, e.status, e.body);
      return true;
    }
    if (req.method !== 'POST') {
      req.resume();
      sendJson(
        res,
        405,
        {
          code: 'METHOD_NOT_ALLOWED',
          message: `use POST /functions/${name} with the callFunction data as a JSON body`,
        },
        { allow: 'POST' },
      );
      return true;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    const data = parseCallData(body);
    if (typeof data === 'string') {
      const e = platformError('FUNCTION_PARAM_INVALID', data, randomUUID());
      sendJson(res, e.status, e.body);
      return true;
    }
    const h = req.headers;
    const identity: CallIdentity = {
      openid: headerValue(h['x-wx-openid']),
      appid: headerValue(h['x-wx-appid']),
      unionid: headerValue(h['x-wx-unionid']),
      clientIp: headerValue(h['x-wx-clientip']) ?? req.socket.remoteAddress,
    };
    const out = await invoke(name, 'callFunction', callFunctionEvent(data, identity), identity);
    sendJsonText(res, out.status, callFunctionAnswer(out));
    return true;
  }

  const httpAccess =
    (rootToo: boolean): RouteHandler =>
    async (req, res) => {
      const route = matchHttpRoute(httpRoutes, pathOf(req));
      if (!route || (route.path === '/') !== rootToo) return false;
      const requestId = randomUUID();
      const arrivedAt = new Date();
      const body = await readBody(req, MAX_BODY_BYTES);
      const event = buildIntegrationEvent({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        requestId,
        envId,
        base64: deps.base64Share > 0 && random() < deps.base64Share,
      });
      const out = await invoke(
        route.name,
        'http',
        event,
        {},
        { requestId, arrivedAt, base64Body: event.isBase64Encoded },
      );
      if (out.ok && out.http) {
        const a = out.http;
        res.writeHead(a.statusCode, { ...a.headers, 'content-length': a.body.length });
        res.end(a.body);
      } else if (!out.ok) {
        const { code, message } = out.error;
        sendJson(res, out.status, { code, message, requestId });
      }
      return true;
    };

  function health(req: IncomingMessage, res: ServerResponse): boolean {
    if (pathOf(req) !== '/health') return false;
    req.resume();
    sendJson(res, 200, { ok: true, functions: functionNames(), instances: deps.instances() });
    return true;
  }

  async function hostFaults(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (pathOf(req) !== '/host/faults') return false;
    if (req.method === 'GET') sendJson(res, 200, faults.list());
    else if (req.method === 'DELETE') sendJson(res, 200, { cleared: faults.clear() });
    else if (req.method === 'POST') {
      try {
        const text = (await readBody(req, MAX_CONTROL_BODY_BYTES)).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new FaultInputError(
            'the body is not valid JSON; send e.g. {"function": "payNotify", "kind": "crash"}',
          );
        }
        const known = new Set(functionNames());
        sendJson(
          res,
          200,
          faults.add(body, (n) => known.has(n)),
        );
      } catch (err) {
        if (!(err instanceof FaultInputError || err instanceof BodyTooLarge)) throw err;
        sendJson(res, 400, { code: 'INVALID_FAULT', message: err.message });
      }
    } else {
      req.resume();
      sendJson(
        res,
        405,
        { code: 'METHOD_NOT_ALLOWED', message: 'use GET, POST or DELETE /host/faults' },
        { allow: 'GET, POST, DELETE' },
      );
    }
    return true;
  }

  async function mountedHandlers(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    for (const handler of mounted) if (await handler(req, res)) return true;
    return false;
  }

  let homePage: string | undefined;
  function home(req: IncomingMessage, res: ServerResponse): boolean {
    if (pathOf(req) !== '/' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    homePage ??= readFileSync(join(__dirname, 'home.html'), 'utf8');
    const names = functionNames();
    const list = names.map((n) => `<code>${n}</code>`).join(', ') || 'none built — run npm run build';
    const html = homePage.replace('{{count}}', String(names.length)).replace('{{functions}}', list);
    sendText(res, 200, html, 'text/html; charset=utf-8');
    return true;
  }

  return [
    { what: 'POST /functions/<name>: wx.cloud.callFunction', handle: callFunction },
    { what: 'the httpAccess paths of cloudbaserc.json (and below them)', handle: httpAccess(false) },
    { what: 'GET /health', handle: health },
    { what: 'GET | POST | DELETE /host/faults: crash faults', handle: hostFaults },
    { what: 'handlers added with mount() (the web console)', handle: mountedHandlers },
    { what: 'an httpAccess path of / takes everything else', handle: httpAccess(true) },
    { what: 'GET / without a console: a placeholder page', handle: home },
  ];
}

/** The 404 of the host: where functions and triggers are. */
export function notFound(req: IncomingMessage, res: ServerResponse, httpRoutes: HttpRoute[]): void {
  req.resume();
  const triggers = httpRoutes.map((r) => r.path).join(', ') || '(none configured)';
  sendJson(res, 404, {
    code: 'NOT_FOUND',
    message: `nothing at ${req.method} ${pathOf(req)}: functions are at POST /functions/<name>, HTTP triggers at ${triggers}`,
  });
}

/** The callFunction data, or why it is not acceptable. */
function parseCallData(body: Buffer): Record<string, unknown> | string {
  if (body.length === 0) return {};
  let data: unknown;
  try {
    data = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return `the request body is not valid JSON (${(err as Error).message}); send the callFunction data as a JSON object`;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return 'the request body must be a JSON object (the data of wx.cloud.callFunction)';
  return data as Record<string, unknown>;
}

/** `{ result, requestId }` built around the function's JSON text, or the platform's error body. */
export function callFunctionAnswer(out: Invoked): string {
  return out.ok ? `{"result":${out.json},"requestId":"${out.requestId}"}` : JSON.stringify(out.error);
}

function decodeName(encoded: string): string | undefined {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? undefined : s;
}
