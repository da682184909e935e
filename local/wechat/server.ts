// WeChat simulator (docs/local-stack.md#wechat-simulator): jscode2session, Pay v3 and v2 on their real paths,
// notifications to loopback notify URLs, and the /sim/ control API — one node:http server.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../net/listen';
import type { LocalData } from '../setup/local-data';
import { SimClock } from './clock';
import { FaultRegistry } from './faults';
import { BodyTooLarge, readBody, sendJson, type Ctx, type Route } from './http';
import { registryFromLocalData } from './merchant';
import { Notifier } from './notifier';
import { billRoutes } from './routes-bills';
import { controlRoutes } from './routes-control';
import { snsRoutes } from './routes-sns';
import { v2Routes } from './routes-v2';
import { v3NotFound, v3Routes } from './routes-v3';
import { ResponseSigner, type SigningMode } from './signer';
import { Simulator } from './simulator';
import { MessagePusher, type MessagePushTarget } from './message-push';
import { OpenApiAccess } from './openapi-access';
import { openApiRoutes } from './routes-openapi';
import { shippingControlRoutes } from './routes-shipping-control';
import { PhoneCodes } from './phone-numbers';
import { phoneControlRoutes, phoneNumberApi } from './routes-phone';
import { ShippingBook } from './shipping';
import { subscribeControlRoutes, subscribeSendApi } from './routes-subscribe';
import { SubscriptionBook } from './subscriptions';

export type { SigningMode } from './signer';
export type { Delivery, Attempt } from './notifier';
export { RETRY_SCHEDULE_SECONDS } from './notifier';

export interface WechatSimulatorOptions {
  port?: number;
  host?: string;
  localData: Pick<LocalData, 'env' | 'keys'>;
  /** Default: `publicKey` when the local data has WXPAY_PUBLIC_KEY_ID, else `certificate`. */
  signingMode?: SigningMode;
  /** Divides every notification retry and refund delay (default 1). */
  timeScale?: number;
  /** WeChat-time before a refund turns SUCCESS on its own (default 2000 ms, divided by timeScale). */
  refundDelayMs?: number;
  /** Accept `http://` notify URLs on loopback hosts (default true); https is always accepted. */
  allowHttpLoopbackNotify?: boolean;
  /** Print one line per request (default false). */
  log?: boolean;
  /** The mini-program's message-push URL (loopback only) and Token; also `POST /sim/message-push`. */
  messagePush?: MessagePushTarget;
}

/**
 * Live events for the console: 'order' (order snapshot with tradeState), 'refund', 'user',
 * 'delivery' (delivery snapshot), 'attempt' ({deliveryId, eventType, at, status, durationMs, …}),
 * 'message' (a subscription message sent to a user).
 */
export interface WechatSimulator {
  url: string;
  port: number;
  events: EventEmitter;
  /** Direct access for in-process callers (console, tests); HTTP is the contract. */
  simulator: Simulator;
  /** Where message pushes (settlement, reminders) go: the host's wxMessage path and its Token. */
  setMessagePush(target: MessagePushTarget): void;
  close(): Promise<void>;
}

export async function startWechatSimulator(opts: WechatSimulatorOptions): Promise<WechatSimulator> {
  const registry = registryFromLocalData(opts.localData);
  const events = new EventEmitter();
  events.setMaxListeners(100);
  const clock = new SimClock(opts.timeScale ?? 1);
  const signer = new ResponseSigner(
    registry.platform,
    opts.signingMode ?? (registry.platform.publicKeyId ? 'publicKey' : 'certificate'),
  );
  const faults = new FaultRegistry();
  const notifier = new Notifier(clock, signer, faults, events);
  const sim = new Simulator(registry, clock, signer, faults, notifier, events, {
    refundDelayMs: opts.refundDelayMs ?? 2000,
    allowHttpLoopbackNotify: opts.allowHttpLoopbackNotify ?? true,
  });

  const pusher = new MessagePusher(clock);
  pusher.target = opts.messagePush;
  const phoneCodes = new PhoneCodes(clock);
  const subscriptions = new SubscriptionBook({
    appOf: (openid) => sim.state.users.get(openid)?.appid,
    now: () => clock.now(),
    onSent: (message) => events.emit('message', { ...message }),
  });
  const openApi = {
    sim,
    access: new OpenApiAccess(registry, clock),
    shipping: new ShippingBook(sim.state),
    pusher,
  };
  events.on('reset', () => {
    openApi.access.reset();
    openApi.shipping.clear();
    pusher.clear();
    phoneCodes.clear();
    subscriptions.clear();
  });

  const routes: Route[] = [
    ...v3Routes(sim),
    ...v2Routes(sim),
    ...snsRoutes(sim),
    ...openApiRoutes(openApi, [phoneNumberApi(phoneCodes), subscribeSendApi(subscriptions)]),
    ...shippingControlRoutes(openApi),
    ...phoneControlRoutes(sim, phoneCodes),
    ...subscribeControlRoutes(sim, subscriptions),
    ...controlRoutes(sim),
    ...billRoutes(sim),
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '/';
    const url = new URL(target, 'http://simulator.local');
    const method = (req.method ?? 'GET').toUpperCase();
    if (opts.log)
      res.on('finish', () => console.log(`[wechat-sim] ${method} ${url.pathname} → ${res.statusCode}`));
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      if (!res.headersSent)
        sendJson(res, err instanceof BodyTooLarge ? 413 : 400, { error: (err as Error).message });
      return;
    }
    let pathMatched = false;
    for (const route of routes) {
      const m = route.pattern.exec(url.pathname);
      if (!m) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const ctx: Ctx = { req, res, method, target, url, body, params: m.slice(1) };
      await route.handler(ctx);
      return;
    }
    const ctx: Ctx = { req, res, method, target, url, body, params: [] };
    if (url.pathname.startsWith('/v3/')) return v3NotFound(sim, ctx);
    sendJson(res, pathMatched ? 405 : 404, {
      error: pathMatched
        ? `method ${method} not allowed on ${url.pathname}`
        : `no such endpoint ${url.pathname}`,
    });
  };
  // A route that throws answers 500 (or drops a half-sent answer) instead of an unhandled rejection.
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: `simulator error: ${(err as Error)?.message ?? String(err)}` });
    });
  });

  const bound = await listen(server, opts.port, opts.host);

  let closing: Promise<void> | undefined;
  return {
    url: bound.url,
    port: bound.port,
    events,
    simulator: sim,
    setMessagePush(target) {
      pusher.target = target;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        clock.stop();
        notifier.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
