// `npm run demo`: a terminal walkthrough of the whole flow against a running local stack (npm start)
// or, when none answers, a stack of its own on free ports. Each step prints what happened and why it
// matters: a dropped notification recovered by the order query, and a duplicate storm applied once.
// Over 250 lines because it is a script: the walkthrough's steps one after another, printed as they run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Stack {
  hostUrl: string;
  simUrl: string;
  emuUrl: string;
  close(): Promise<void>;
}

const tty = process.stdout.isTTY;
const color = (code: number, s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const green = (s: string) => color(32, s);
const dim = (s: string) => color(2, s);
const bold = (s: string) => color(1, s);
const yuan = (fen: number) => `¥${(fen / 100).toFixed(2)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const STEPS = 9;
let step = 0;
function begin(title: string): void {
  step += 1;
  console.log(`\n${bold(`[${step}/${STEPS}]`)} ${title}`);
}
function ok(detail: string): void {
  console.log(`  ${green('✔')} ${detail}`);
}
function note(detail: string): void {
  console.log(`  ${dim(detail)}`);
}

async function json<T>(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as T) : ({} as T);
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return parsed;
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(800) });
    return true;
  } catch {
    return false;
  }
}

async function connect(): Promise<Stack> {
  const hostUrl = `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const simUrl = `http://127.0.0.1:${process.env.WECHAT_SIM_PORT ?? 3100}`;
  const emuUrl = `http://127.0.0.1:${process.env.CLOUDBASE_EMU_PORT ?? 3200}`;
  if (
    (await answers(hostUrl)) &&
    (await answers(`${simUrl}/sim/deliveries`)) &&
    (await answers(`${emuUrl}/emu/collections`))
  ) {
    console.log(dim(`Using the running local stack at ${hostUrl}`));
    return { hostUrl, simUrl, emuUrl, close: async () => undefined };
  }
  console.log(dim('No local stack answers; starting one on free ports for this walkthrough…'));
  const { startLocalStack } = await import('../local/stack');
  const dataDir = mkdtempSync(join(tmpdir(), 'wxcloud-pay-demo-'));
  const stack = await startLocalStack({
    dataDir,
    inMemory: true,
    ports: { host: 0, wechatSim: 0, cloudbaseEmu: 0 },
    seed: true,
    quiet: true,
    simulator: { timeScale: 100, refundDelayMs: 3_600_000 },
  });
  return {
    hostUrl: stack.hostUrl,
    simUrl: stack.simUrl,
    emuUrl: stack.emuUrl,
    close: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Envelope<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

export async function runDemo(stack: Stack): Promise<{ orders: string[] }> {
  const user = await json<{ openid: string; appid: string }>('POST', `${stack.simUrl}/sim/users`, {});
  const call = async <T>(name: string, data: unknown): Promise<T> => {
    const { result } = await json<{ result: Envelope<T> }>(
      'POST',
      `${stack.hostUrl}/functions/${name}`,
      data,
      { 'x-wx-openid': user.openid, 'x-wx-appid': user.appid },
    );
    if (!result.ok) throw new Error(`${name} answered ${result.error.code}: ${result.error.message}`);
    return result.data;
  };
  const deliveriesFor = (outTradeNo: string) =>
    json<Array<{ state: string; attempts: Array<{ status: number; error?: string }> }>>(
      'GET',
      `${stack.simUrl}/sim/deliveries?outTradeNo=${encodeURIComponent(outTradeNo)}`,
    );
  const dump = async (collection: string) => {
    const body = await json<unknown>('GET', `${stack.emuUrl}/emu/dump/${collection}`);
    return (Array.isArray(body) ? body : ((body as { data?: unknown[] }).data ?? [])) as Array<
      Record<string, unknown>
    >;
  };

  begin('A test user signs in');
  const { code } = await json<{ code: string }>('POST', `${stack.simUrl}/sim/login-codes`, {
    openid: user.openid,
  });
  const login = await call<{ user: { isNew: boolean }; expiresAt: number }>('login', { code });
  ok(
    `wx.login code → jscode2session → openid ${user.openid} (new user: ${login.user.isNew}); JWT valid until ${new Date(login.expiresAt * 1000).toISOString()}`,
  );

  begin('The catalog comes from the database, prices in integer fen');
  const products = (await dump('products')).filter((p) => p.active) as Array<{
    _id: string;
    name: string;
    priceFen: number;
  }>;
  for (const p of products) note(`${p.name.padEnd(24)} ${yuan(p.priceFen)}`);
  const first = products[0];
  ok(`${products.length} active products`);

  begin('createPayment: the order is written first, then WeChat prepay; the amount is the server’s');
  const idempotencyKey = `demo_${Date.now()}`;
  const created = await call<{ orderId: string; amountFen: number; payment: Record<string, string> }>(
    'createPayment',
    { items: [{ productId: first._id, quantity: 2 }], idempotencyKey },
  );
  const again = await call<{ orderId: string }>('createPayment', {
    items: [{ productId: first._id, quantity: 2 }],
    idempotencyKey,
  });
  ok(
    `order ${created.orderId} for ${yuan(created.amountFen)}; package ${created.payment.package}, signType ${created.payment.signType}`,
  );
  ok(`the same idempotency key returns the same order: ${again.orderId === created.orderId}`);

  begin('The payment notification is dropped; orders.get asks WeChat and still confirms the payment');
  await json('POST', `${stack.simUrl}/sim/faults`, { target: 'notify', kind: 'drop', count: 1 });
  const paid = await json<{ errMsg: string }>('POST', `${stack.simUrl}/sim/pay`, {
    openid: user.openid,
    ...created.payment,
  });
  note(`wx.requestPayment → ${paid.errMsg}`);
  const order = await call<{ status: string; transactionId?: string }>('orders', {
    action: 'get',
    orderId: created.orderId,
  });
  ok(
    `order ${created.orderId} is ${order.status} (transaction ${order.transactionId ?? '?'}) without any notification`,
  );

  begin('A duplicate storm: the same notification 20 times at once is applied once');
  const second = await call<{ orderId: string; payment: Record<string, string> }>('createPayment', {
    items: [{ productId: first._id, quantity: 1 }],
    idempotencyKey: `${idempotencyKey}_2`,
  });
  await json('POST', `${stack.simUrl}/sim/faults`, { target: 'notify', kind: 'duplicate', count: 20 });
  await json('POST', `${stack.simUrl}/sim/pay`, { openid: user.openid, ...second.payment });
  let deliveries: Awaited<ReturnType<typeof deliveriesFor>> = [];
  for (let i = 0; i < 50; i++) {
    deliveries = await deliveriesFor(second.orderId);
    if (deliveries.length > 0 && deliveries.every((d) => d.state !== 'pending' && d.attempts.length >= 21))
      break;
    await sleep(200);
  }
  const copies = deliveries.flatMap((d) => d.attempts);
  const acknowledged = copies.filter((a) => a.status >= 200 && a.status < 300).length;
  const others = copies
    .filter((a) => a.status < 200 || a.status >= 300)
    .map((a) => (a.status === 0 ? (a.error ?? 'no answer') : String(a.status)));
  if (others.length)
    note(
      `not acknowledged (WeChat retries these): ${[...new Set(others)].map((o) => `${others.filter((x) => x === o).length}× ${o}`).join(', ')}`,
    );
  const records = (await dump('notifications')).filter((n) => n.outTradeNo === second.orderId);
  ok(
    `${copies.length} copies delivered concurrently, ${acknowledged} acknowledged with 2xx; notification log: ${records.map((r) => r.outcome).join(', ') || 'none'}`,
  );
  const secondOrder = await call<{ status: string; amountFen: number }>('orders', {
    action: 'get',
    orderId: second.orderId,
  });
  ok(`order ${second.orderId} is ${secondOrder.status}: one transition, however many copies`);

  begin('The owner asks for a full refund; PROCESSING is not final');
  const refund = await call<{ refundId: string; status: string; amountFen: number }>('refund', {
    orderId: created.orderId,
    reason: 'demo',
  });
  ok(`refund ${refund.refundId}: ${refund.status}, ${yuan(refund.amountFen)} reserved on the order`);

  begin('WeChat completes the refund and notifies');
  try {
    await json('POST', `${stack.simUrl}/sim/refunds/${encodeURIComponent(refund.refundId)}/complete`, {
      status: 'SUCCESS',
    });
  } catch (err) {
    // A running stack completes refunds on its own after a short delay; then there is nothing to do.
    if (!/already SUCCESS/.test(String(err))) throw err;
    note('WeChat had already completed it on its own');
  }
  let final = { status: '', refundedFen: 0 };
  for (let i = 0; i < 50; i++) {
    final = await call<{ status: string; refundedFen: number }>('orders', {
      action: 'get',
      orderId: created.orderId,
    });
    if (final.status === 'REFUNDED') break;
    await sleep(200);
  }
  ok(`order ${created.orderId} is ${final.status}, refunded ${yuan(final.refundedFen)}`);

  begin('Every notification attempt is on record');
  // The order may be settled by the query before the refund notification's first answer is recorded.
  let history = await deliveriesFor(created.orderId);
  for (let i = 0; i < 25 && history.some((d) => d.attempts.length === 0); i++) {
    await sleep(200);
    history = await deliveriesFor(created.orderId);
  }
  for (const d of history)
    note(
      `${d.state.padEnd(10)} attempts: ${d.attempts.map((a) => (a.status === 0 ? 'dropped' : a.status)).join(' → ') || 'none yet'}`,
    );
  ok('see them live in the console at ' + stack.hostUrl + '/');

  begin('Done');
  ok('login, pay, a lost notification, a duplicate storm and a refund — all offline');
  return { orders: [created.orderId, second.orderId] };
}

if (require.main === module) {
  (async () => {
    const stack = await connect();
    try {
      await runDemo(stack);
    } finally {
      await stack.close();
    }
  })().catch((err: unknown) => {
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
