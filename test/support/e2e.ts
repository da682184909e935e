// Reusable end-to-end helpers over the real local stack (emulator + simulator + function host):
// start a stack, create a test user, log in, call a function as a user or over HTTP, pay, wait for a
// state, dump the database. Used by test/*.test.ts and by the mini-program and console tests.
import type {
  ApiResult,
  CreatePaymentResponse,
  LoginResponse,
  OrdersGetResponse,
  RequestPaymentParams,
} from '../../shared/contracts/api';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack';

export interface TestUser {
  openid: string;
  appid: string;
  unionid?: string;
}

export interface CallAs {
  /** Context identity (x-wx-openid); omit to call without one. */
  openid?: string;
  appid?: string;
  /** HTTP headers to send along, e.g. Authorization (only reach the function on HTTP access). */
  headers?: Record<string, string>;
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface E2E {
  stack: LocalStack;
  /** The functions' variables as the stack generated them (before any setEnv). */
  baseEnv: Readonly<Record<string, string>>;
  hostUrl: string;
  simUrl: string;
  emuUrl: string;
  /** POST /functions/<name>: the function's `result` (throws on a platform error answer). */
  call<T = unknown>(name: string, data: unknown, as?: CallAs): Promise<ApiResult<T>>;
  /** POST /functions/<name> returning status and raw JSON (for platform-level checks). */
  callRaw(name: string, data: unknown, as?: CallAs): Promise<{ status: number; json: unknown }>;
  /** A JSON request to the simulator's control API. */
  sim<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** A JSON request to the emulator's control API. */
  emu<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Raw HTTP to the host (notification paths). */
  http(
    method: string,
    path: string,
    body: string | Buffer,
    headers?: Record<string, string>,
  ): Promise<HttpAnswer>;
  newUser(opts?: { withUnionid?: boolean }): Promise<TestUser>;
  loginCode(openid: string): Promise<string>;
  /** login through jscode2session (no context identity), returning the token and user. */
  login(user: TestUser, profile?: { nickName?: string; avatarUrl?: string }): Promise<LoginResponse>;
  createPayment(
    user: TestUser,
    items: { productId: string; quantity: number }[],
    idempotencyKey?: string,
  ): Promise<CreatePaymentResponse>;
  /** The payer completes wx.requestPayment at the simulator (it verifies paySign). */
  pay(
    user: TestUser,
    payment: RequestPaymentParams,
    outcome?: 'success' | 'cancel' | 'fail',
  ): Promise<string>;
  getOrder(user: TestUser, orderId: string): Promise<OrdersGetResponse>;
  /** Polls `read` until `done` holds (bounded). */
  waitFor<T>(
    read: () => Promise<T>,
    done: (value: T) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<T>;
  /**
   * Waits until no refund is PROCESSING and the simulator has no notification left to deliver, so that
   * a later "nothing was written" snapshot does not see an earlier test's refund or notification land.
   */
  settled(): Promise<void>;
  /**
   * Arms a simulator fault on WeChat's notifications after delivering now whatever an earlier fault
   * left retrying: the simulator gives a notify fault to the next attempt of any delivery, and a
   * retry of an old one would otherwise take the fault meant for the next notification.
   */
  armNotifyFault(fault: Record<string, unknown>): Promise<void>;
  /** Clears the simulator's faults and delivers now what they left retrying (see armNotifyFault). */
  clearFaults(): Promise<void>;
  /** Documents of a collection as the emulator stores them. */
  dump(collection: string): Promise<Record<string, unknown>[]>;
  /** A JSON snapshot of every collection (for "nothing was written" checks). */
  dumpAll(): Promise<string>;
  /** Changes function variables and restarts idle function instances so that they apply. */
  setEnv(changes: Record<string, string | undefined>): void;
  /** Runs reconcile as the timer would, optionally without the 5-minute minimum age. */
  reconcile(minAgeSeconds?: number): Promise<Record<string, number>>;
  close(): Promise<void>;
}

async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    throw new Error(`expected JSON from ${res.url}, got ${res.status}: ${text.slice(0, 200)}`);
  }
}

/** The admin openid e2e.reconcile runs as (added to ADMIN_OPENIDS when missing). */
export const RECONCILE_OPERATOR = 'o-e2e-reconcile-operator';

export async function startE2E(opts: LocalStackOptions = {}): Promise<E2E> {
  const stack = await startLocalStack({
    inMemory: true,
    ports: { host: 0, wechatSim: 0, cloudbaseEmu: 0 },
    seed: true,
    quiet: process.env.E2E_VERBOSE ? false : true,
    // E2E_BUILD_DIR: run bundles built elsewhere (e.g. a private build while others rebuild build/).
    ...(process.env.E2E_BUILD_DIR ? { buildDir: process.env.E2E_BUILD_DIR } : {}),
    ...opts,
    simulator: { timeScale: 1000, refundDelayMs: 60_000, ...opts.simulator },
    // A few instances per function keep cold starts (CPU) bounded on 2 cores; calls queue as on the platform.
    host: { maxInstancesPerFunction: 4, ...opts.host },
  });
  const baseEnv = { ...stack.env };

  const request = async (base: string, method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const out = await json(res);
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(out).slice(0, 300)}`);
    return out;
  };

  const callRaw: E2E['callRaw'] = async (name, data, as = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...as.headers };
    if (as.openid) headers['x-wx-openid'] = as.openid;
    if (as.appid ?? (as.openid ? stack.env.WX_APPID : undefined))
      headers['x-wx-appid'] = (as.appid ?? stack.env.WX_APPID)!;
    const res = await fetch(`${stack.hostUrl}/functions/${name}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(data),
    });
    return { status: res.status, json: await json(res) };
  };

  const call: E2E['call'] = async <T>(name: string, data: unknown, as?: CallAs) => {
    const r = await callRaw(name, data, as);
    if (r.status !== 200)
      throw new Error(`callFunction ${name} → ${r.status}: ${JSON.stringify(r.json).slice(0, 300)}`);
    return (r.json as { result: ApiResult<T> }).result;
  };

  const unwrap = <T>(r: ApiResult<T>, what: string): T => {
    if (!r.ok) throw new Error(`${what} failed: ${r.error.code} ${r.error.message}`);
    return r.data;
  };

  /** Replays every delivery still retrying until none is (a replay that succeeds ends its retries). */
  const deliverPending = async () => {
    await e2e.waitFor(
      async () => {
        const deliveries = await e2e.sim<Array<{ id: string; state: string }>>('GET', '/sim/deliveries');
        const pending = deliveries.filter((d) => d.state === 'pending');
        for (const d of pending) await e2e.sim('POST', `/sim/deliveries/${d.id}/replay`);
        return pending.length;
      },
      (n) => n === 0,
      'earlier notifications to be delivered before the next fault',
    );
  };
  const e2e: E2E = {
    stack,
    baseEnv,
    hostUrl: stack.hostUrl,
    simUrl: stack.simUrl,
    emuUrl: stack.emuUrl,
    call,
    callRaw,
    sim: <T>(method: string, path: string, body?: unknown) =>
      request(stack.simUrl, method, path, body) as Promise<T>,
    emu: <T>(method: string, path: string, body?: unknown) =>
      request(stack.emuUrl, method, path, body) as Promise<T>,
    async http(method, path, body, headers = {}) {
      const res = await fetch(`${stack.hostUrl}${path}`, { method, headers, body });
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => (out[k] = v));
      return { status: res.status, headers: out, body: await res.text() };
    },
    async newUser(opts2 = {}) {
      return await e2e.sim<TestUser>('POST', '/sim/users', {
        appid: stack.env.WX_APPID,
        withUnionid: opts2.withUnionid ?? false,
      });
    },
    async loginCode(openid) {
      return (await e2e.sim<{ code: string }>('POST', '/sim/login-codes', { openid })).code;
    },
    async login(user, profile) {
      const code = await e2e.loginCode(user.openid);
      return unwrap(await call<LoginResponse>('login', { code, ...(profile ? { profile } : {}) }), 'login');
    },
    async createPayment(user, items, idempotencyKey) {
      return unwrap(
        await call<CreatePaymentResponse>(
          'createPayment',
          { items, ...(idempotencyKey ? { idempotencyKey } : {}) },
          { openid: user.openid },
        ),
        'createPayment',
      );
    },
    async pay(user, payment, outcome = 'success') {
      return (
        await e2e.sim<{ errMsg: string }>('POST', '/sim/pay', { openid: user.openid, ...payment, outcome })
      ).errMsg;
    },
    async getOrder(user, orderId) {
      return unwrap(
        await call<OrdersGetResponse>('orders', { action: 'get', orderId }, { openid: user.openid }),
        'orders.get',
      );
    },
    async waitFor(read, done, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      for (let i = 0; Date.now() < deadline && i < 1000; i++) {
        const value = await read();
        if (done(value)) return value;
        last = value;
        await new Promise((r) => setTimeout(r, Math.min(50 * (i + 1), 250)));
      }
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last).slice(0, 1500)}`);
    },
    async settled() {
      await e2e.waitFor(
        async () => ({
          refunds: await e2e.dump('refunds'),
          deliveries: await e2e.sim<{ state: string }[]>('GET', '/sim/deliveries'),
        }),
        ({ refunds, deliveries }) =>
          refunds.every((r) => r.status !== 'PROCESSING') && deliveries.every((d) => d.state !== 'pending'),
        'refunds to settle and their notifications to be answered',
      );
    },
    async armNotifyFault(fault) {
      await deliverPending();
      await e2e.sim('POST', '/sim/faults', { target: 'notify', ...fault });
    },
    async clearFaults() {
      await e2e.sim('DELETE', '/sim/faults');
      await deliverPending();
    },
    async dump(collection) {
      return (await e2e.emu<Record<string, unknown>[]>('GET', `/emu/dump/${collection}`)) ?? [];
    },
    async dumpAll() {
      const names = (await e2e.emu<{ name: string }[]>('GET', '/emu/collections')).map((c) => c.name).sort();
      const all: Record<string, unknown> = {};
      for (const n of names) all[n] = await e2e.dump(n);
      return JSON.stringify(all);
    },
    setEnv(changes) {
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined) delete stack.env[k];
        else stack.env[k] = v;
      }
      stack.host.recycle();
    },
    async reconcile(minAgeSeconds) {
      // Only the timer and admins may run reconcile (and shorten its minimum age): run it as an operator.
      const admins = (stack.env.ADMIN_OPENIDS ?? '').split(',').filter(Boolean);
      if (!admins.includes(RECONCILE_OPERATOR))
        e2e.setEnv({ ADMIN_OPENIDS: [...admins, RECONCILE_OPERATOR].join(',') });
      const r = await callRaw('reconcile', minAgeSeconds === undefined ? {} : { minAgeSeconds }, {
        openid: RECONCILE_OPERATOR,
      });
      if (r.status !== 200) throw new Error(`reconcile → ${r.status}: ${JSON.stringify(r.json)}`);
      return (r.json as { result: Record<string, number> }).result;
    },
    async close() {
      Object.keys(stack.env).forEach((k) => delete stack.env[k]);
      Object.assign(stack.env, baseEnv);
      await stack.close();
    },
  };
  return e2e;
}

/** The full-refund/partial-refund product: coffee (2800) + cake (3250) = 6050 fen. */
export const CART = [
  { productId: 'coffee-latte', quantity: 1 },
  { productId: 'cake-cheese', quantity: 1 },
];
export const CART_FEN = 2800 + 3250;
