// The web console mounted on the function host's `/`: the static page, a read-only JSON view of
// the stack, a server-sent-event stream of that view, and pass-through to the simulator's and
// emulator's own control APIs (so the page needs one origin and no CORS).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { BodyTooLarge, JSON_TYPE, readBody, sendJson, sendText } from '../net/http';
import type { InvocationRecord } from '../host/invocation-log';
import { readReconciliations } from './reconciliations';
import { readConsoleState, type ConsoleState } from './state';

export interface ConsoleOptions {
  simUrl: string;
  emuUrl: string;
  /** How often the server re-reads the stack while a page is listening. */
  pollMs?: number;
  /** The function host's latest invocations (crashes, timeouts and cold starts show there). */
  invocations?: () => InvocationRecord[];
}

export interface ConsoleHandler {
  /** Answers the request and returns true when it belongs to the console. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  close(): void;
}

const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/console/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const MAX_PROXY_BODY = 64 * 1024;

const NO_STORE = { 'cache-control': 'no-store' };

export function createConsole(opts: ConsoleOptions): ConsoleHandler {
  const staticDir = join(__dirname, 'static');
  const files = new Map<string, Buffer>();
  const load = (file: string) => {
    // Read on first request (not at import) and keep: the files are small and never change at run time.
    let b = files.get(file);
    if (!b) files.set(file, (b = readFileSync(join(staticDir, file))));
    return b;
  };
  const listeners = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let lastDigest = '';
  let lastState: ConsoleState | undefined;
  let polling = false;

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      const state = await readConsoleState(opts.emuUrl, opts.simUrl, opts.invocations);
      const text = JSON.stringify(state);
      const digest = createHash('sha1').update(text).digest('hex');
      lastState = state;
      if (digest !== lastDigest) {
        lastDigest = digest;
        for (const res of listeners) res.write(`event: state\ndata: ${text}\n\n`);
      }
    } finally {
      polling = false;
    }
  }

  function startPolling(): void {
    if (timer) return;
    timer = setInterval(() => void poll().catch(() => undefined), opts.pollMs ?? 400);
    timer.unref();
  }

  function stopPollingIfIdle(): void {
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
      lastDigest = '';
    }
  }

  async function proxy(req: IncomingMessage, res: ServerResponse, target: string): Promise<void> {
    let body: Buffer | undefined;
    try {
      body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req, MAX_PROXY_BODY);
    } catch (err) {
      const tooLarge = err instanceof BodyTooLarge;
      return sendJson(res, tooLarge ? 413 : 400, { error: `${(err as Error).message}` }, NO_STORE);
    }
    try {
      const upstream = await fetch(target, {
        method: req.method,
        headers: body && body.length ? { 'content-type': 'application/json' } : {},
        body: body && body.length ? body : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      sendText(res, upstream.status, answer, upstream.headers.get('content-type') ?? JSON_TYPE, NO_STORE);
    } catch (err) {
      sendJson(
        res,
        502,
        {
          error: `could not reach ${new URL(target).origin}: ${(err as Error).message}; is the local stack running?`,
        },
        NO_STORE,
      );
    }
  }

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://console.local');
      const path = url.pathname;
      const asset = STATIC[path];
      if (asset && (req.method === 'GET' || req.method === 'HEAD')) {
        res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : load(asset.file));
        return true;
      }
      if (path === '/console/api/state' && req.method === 'GET') {
        readConsoleState(opts.emuUrl, opts.simUrl, opts.invocations).then(
          (state) => sendJson(res, 200, state, NO_STORE),
          (err: Error) => sendJson(res, 502, { error: err.message }, NO_STORE),
        );
        return true;
      }
      if (path === '/console/api/reconciliations' && req.method === 'GET') {
        readReconciliations(opts.emuUrl).then(
          (days) => sendJson(res, 200, days),
          (err: Error) => sendJson(res, 502, { error: err.message }),
        );
        return true;
      }
      if (path === '/console/api/events' && req.method === 'GET') {
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(': connected\n\n');
        if (lastState) res.write(`event: state\ndata: ${JSON.stringify(lastState)}\n\n`);
        listeners.add(res);
        lastDigest = '';
        startPolling();
        void poll().catch(() => undefined);
        req.on('close', () => {
          listeners.delete(res);
          stopPollingIfIdle();
        });
        return true;
      }
      if (path.startsWith('/console/sim/')) {
        void proxy(req, res, `${opts.simUrl}/sim/${path.slice('/console/sim/'.length)}${url.search}`);
        return true;
      }
      if (path.startsWith('/console/emu/')) {
        void proxy(req, res, `${opts.emuUrl}/emu/${path.slice('/console/emu/'.length)}${url.search}`);
        return true;
      }
      return false;
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const res of listeners) res.end();
      listeners.clear();
    },
  };
}
