// The CloudBase database emulator: an HTTP server that the unmodified @cloudbase/node-sdk and
// wx-server-sdk talk to (SDK endpoint `${url}/admin`, environment id `local`), plus the control API
// under `${url}/emu/`. In memory without `dataDir`; file-backed (see persistence.ts) with it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BodyTooLarge, readBody, sendJsonText } from '../net/http';
import { listen } from '../net/listen';
import { controlErrorStatus, handleControl } from './control';
import { PlatformError, toErrorBody } from './errors';
import { Faults } from './faults';
import { DirectoryPersistence, loadDirectory } from './persistence';
import { ENV_ID, handleAction, newRequestId, type ActionRequest } from './protocol';
import { Store, type ChangeEvent } from './store';
import { TransactionManager } from './transactions';
import { isWxOpenApiRequest, serveWxOpenApi, type WechatTarget } from './wx-openapi';

export type { ChangeEvent } from './store';

export interface CloudbaseEmulatorOptions {
  port?: number;
  host?: string;
  /** Directory owned by the emulator (e.g. `.local/database`); absent = in memory. */
  dataDir?: string;
  /** Collections to create at start when missing (the platform never creates them implicitly). */
  collections?: string[];
  /** Coalescing window of file writes (ms); default 25. */
  flushDelayMs?: number;
  /** Idle time after which an open transaction is rolled back (ms); default 30000. */
  transactionIdleTimeoutMs?: number;
  /** Where 云调用 (cloud.openapi.*) goes: the WeChat simulator and the env's mini-program appid. */
  wechat?: WechatTarget;
}

export interface CloudbaseEmulator {
  /** Base URL, e.g. http://127.0.0.1:3200 (SDK endpoint: `${url}/admin`). */
  url: string;
  port: number;
  envId: string;
  /** Subscribes to committed changes; returns the unsubscribe function. */
  onChange(listener: (event: ChangeEvent) => void): () => void;
  /** Resolves when every change so far is on disk (no-op in memory). */
  flush(): Promise<void>;
  /** Points 云调用 at a WeChat simulator started after the emulator (see options.wechat). */
  connectWechat(target: WechatTarget): void;
  close(): Promise<void>;
}

const MAX_BODY = 32 * 1024 * 1024;

async function readText(req: IncomingMessage): Promise<string> {
  try {
    return (await readBody(req, MAX_BODY)).toString('utf8');
  } catch (err) {
    if (err instanceof BodyTooLarge)
      throw new PlatformError('INVALID_PARAM', `request body exceeds ${MAX_BODY} bytes`);
    throw err;
  }
}

function parseJson(text: string, what: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PlatformError('INVALID_PARAM', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

export async function startCloudbaseEmulator(
  opts: CloudbaseEmulatorOptions = {},
): Promise<CloudbaseEmulator> {
  const store = new Store();
  let persistence: DirectoryPersistence | undefined;
  if (opts.dataDir) {
    loadDirectory(opts.dataDir, store);
    persistence = new DirectoryPersistence(opts.dataDir, store, opts.flushDelayMs);
    store.listener = persistence;
  }
  for (const name of opts.collections ?? []) if (!store.has(name)) store.create(name);
  const transactions = new TransactionManager(store, { idleTimeoutMs: opts.transactionIdleTimeoutMs });
  const faults = new Faults();
  const deps = { store, transactions, faults, envId: ENV_ID };
  let wechat = opts.wechat;

  async function onAdmin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    try {
      const body = parseJson(await readText(req), 'request body') as ActionRequest;
      const outcome = await handleAction(body, deps);
      if (outcome.lostResponse) {
        // The operation is applied; the caller sees the connection drop with no answer (ECONNRESET).
        req.socket.destroy();
        return;
      }
      sendJsonText(res, 200, JSON.stringify({ ...outcome.body, requestId }));
    } catch (err) {
      sendJsonText(res, 200, JSON.stringify(toErrorBody(err, requestId)));
    }
  }

  async function onControl(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    try {
      const text = await readText(req);
      const answer = handleControl(req.method ?? 'GET', path, parseJson(text, 'request body'), deps);
      sendJsonText(res, answer.status, answer.body);
    } catch (err) {
      const body = toErrorBody(err, newRequestId());
      sendJsonText(res, err instanceof PlatformError ? controlErrorStatus(err) : 500, JSON.stringify(body));
    }
  }

  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/admin' || path === '/admin/') {
      if (req.method !== 'POST') {
        sendJsonText(
          res,
          200,
          JSON.stringify(
            toErrorBody(
              new PlatformError('INVALID_PARAM', 'the database API takes POST with a JSON body'),
              newRequestId(),
            ),
          ),
        );
        req.resume();
        return;
      }
      if (isWxOpenApiRequest(req)) return serveWxOpenApi(req, res, () => wechat);
      void onAdmin(req, res);
    } else if (path.startsWith('/emu/')) {
      void onControl(req, res, path);
    } else if (path === '/' || path === '/health') {
      req.resume();
      sendJsonText(
        res,
        200,
        JSON.stringify({ ok: true, service: 'cloudbase-emulator', envId: ENV_ID, sdkEndpoint: '/admin' }),
      );
    } else {
      req.resume();
      sendJsonText(
        res,
        404,
        JSON.stringify({
          code: 'NOT_FOUND',
          message: `no route ${path}; the SDK endpoint is /admin and the control API is under /emu/`,
        }),
      );
    }
  });
  // The SDKs keep connections alive; outlive their idle sockets so a reused socket is never closed under them.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const { port: boundPort, url } = await listen(server, opts.port, opts.host);
  let closed = false;

  return {
    url,
    port: boundPort,
    envId: ENV_ID,
    onChange(listener) {
      store.events.on('change', listener);
      return () => store.events.off('change', listener);
    },
    connectWechat(target) {
      wechat = target;
    },
    flush: async () => {
      await persistence?.flush();
    },
    async close() {
      if (closed) return;
      closed = true;
      transactions.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await persistence?.flush();
      store.events.removeAllListeners();
    },
  };
}
