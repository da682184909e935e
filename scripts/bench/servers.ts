// The servers of the invocation benches, each in its own process so that the CPU of each can be read
// from /proc and none shares an event loop with the bench driving it:
//   emulator                 the CloudBase emulator (in memory, collections created)
//   sim <localDataDir>       the WeChat simulator
//   host <emuUrl> <buildDir> the function host running the deployed bundles; GET /__bench/invocations
//                            lists the host's own record of each invocation (duration, the function's
//                            own wall and CPU inside the instance, function)
//   bare <emuUrl>            node:http doing the functions' work by hand (WeChat Pay through axios, or
//                            node:http with BENCH_BARE_HTTP=node:http), one handler per function:
//                            /pay/notify (verify, decrypt, check, the same read + conditional update +
//                            notification record through @cloudbase/node-sdk), /functions/createPayment
//                            and /functions/orders (bare-callables.ts); the caller is x-wx-openid and
//                            each answer carries x-bench-ms and x-bench-cpu-ms, the handler's own wall
//                            and process CPU time (body read to answer ready); started with the
//                            variables a function instance has (stack.ts)
//   floor                    node:http doing only verify + decrypt (the crypto floor, for reference)
// Configuration comes in BENCH_ENV (the functions' variables as JSON). Each prints `READY <url>`.
// Over 250 lines because the bare hand-written baselines of every benchmarked function stay side by side,
// so that they stay comparable.
import { createDecipheriv, createPublicKey, createSecretKey, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import tcb from '@cloudbase/node-sdk';
import { resolve } from 'node:path';
import { startCloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { startFunctionHost } from '../../local/host/server';
import { ensureLocalData } from '../../local/setup/local-data';
import { startWechatSimulator } from '../../local/wechat/server';
import { bareCallables } from './bare-callables';

const root = resolve(__dirname, '..', '..');
export const BENCH_COLLECTIONS = [
  'users',
  'products',
  'orders',
  'refunds',
  'notifications',
  'rateLimits',
  'reconcileCursors',
];

interface Keys {
  publicKey: KeyObject;
  publicKeyId: string;
  apiV3Key: KeyObject;
  mchid: string;
  appid: string;
}

function keysOf(env: Record<string, string>): Keys {
  return {
    publicKey: createPublicKey(env.WXPAY_PUBLIC_KEY.replace(/\\n/g, '\n')),
    publicKeyId: env.WXPAY_PUBLIC_KEY_ID,
    apiV3Key: createSecretKey(Buffer.from(env.WXPAY_APIV3_KEY, 'utf8')),
    mchid: env.WXPAY_MCHID,
    appid: env.WX_APPID,
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
    req.on('error', rej);
  });
}

interface Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id: string;
  success_time: string;
  payer: { openid: string };
  amount: { total: number; payer_total: number };
}

/** Verify + decrypt with bare node:crypto and cached KeyObjects; undefined when not authentic. */
function verifyAndDecrypt(
  keys: Keys,
  req: IncomingMessage,
  body: string,
): { id: string; eventType: string; t: Transaction } | undefined {
  const ts = req.headers['wechatpay-timestamp'] as string | undefined;
  const nonce = req.headers['wechatpay-nonce'] as string | undefined;
  const sig = req.headers['wechatpay-signature'] as string | undefined;
  const serial = req.headers['wechatpay-serial'] as string | undefined;
  if (!ts || !nonce || !sig || serial !== keys.publicKeyId) return undefined;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return undefined;
  if (
    !verify(
      'RSA-SHA256',
      Buffer.from(`${ts}\n${nonce}\n${body}\n`),
      keys.publicKey,
      Buffer.from(sig, 'base64'),
    )
  )
    return undefined;
  const envelope = JSON.parse(body) as {
    id: string;
    event_type: string;
    resource: { ciphertext: string; nonce: string; associated_data: string };
  };
  const data = Buffer.from(envelope.resource.ciphertext, 'base64');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    keys.apiV3Key,
    Buffer.from(envelope.resource.nonce, 'utf8'),
  );
  decipher.setAAD(Buffer.from(envelope.resource.associated_data ?? '', 'utf8'));
  decipher.setAuthTag(data.subarray(data.length - 16));
  const plain = Buffer.concat([
    decipher.update(data.subarray(0, data.length - 16)),
    decipher.final(),
  ]).toString('utf8');
  return { id: envelope.id, eventType: envelope.event_type, t: JSON.parse(plain) as Transaction };
}

function listen(server: Server): Promise<string> {
  return new Promise((res) =>
    server.listen(0, '127.0.0.1', () =>
      res(`http://127.0.0.1:${(server.address() as { port: number }).port}`),
    ),
  );
}

function reply(res: ServerResponse, status: number, body = ''): void {
  res.writeHead(status, body ? { 'content-type': 'application/json' } : {});
  res.end(body);
}

export async function startFloor(env: Record<string, string>): Promise<{ url: string; server: Server }> {
  const keys = keysOf(env);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    try {
      reply(res, verifyAndDecrypt(keys, req, body) ? 204 : 401);
    } catch {
      reply(res, 400);
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 60_000;
  return { url: await listen(server), server };
}

export async function startBare(
  env: Record<string, string>,
  emuUrl: string,
): Promise<{ url: string; server: Server }> {
  const keys = keysOf(env);
  // node-sdk initialised as a deployed function must (the process has the platform's variables,
  // stack.ts), so that the SDK does the same work per request as in the function; otherwise the
  // emulator's SDK settings from here.
  const db = process.env.TCB_CONTEXT_CNFG
    ? tcb.init({ env: tcb.SYMBOL_CURRENT_ENV }).database()
    : openLocalDatabase(emuUrl);
  // the stack's axios by default; BENCH_BARE_HTTP=node:http for bare node:http (bare-callables.ts)
  const callables = bareCallables(
    env,
    db,
    process.env.BENCH_BARE_HTTP === 'node:http' ? 'node:http' : 'axios',
  );
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    // timed the way the host's instance times a handler (worker-runner.cjs): wall and process CPU
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const timed = (status: number, text = '') => {
      const cpu = process.cpuUsage(cpuStart);
      res.setHeader('x-bench-ms', (performance.now() - started).toFixed(3));
      res.setHeader('x-bench-cpu-ms', ((cpu.user + cpu.system) / 1000).toFixed(3));
      reply(res, status, text);
    };
    if (req.url === '/functions/createPayment' || req.url === '/functions/orders') {
      try {
        const openid = String(req.headers['x-wx-openid']);
        const data = JSON.parse(body) as never;
        const result =
          req.url === '/functions/orders'
            ? await callables.ordersGet(openid, data)
            : await callables.createPayment(openid, data);
        return timed(200, JSON.stringify({ result: { ok: true, data: result } }));
      } catch (err) {
        return timed(500, JSON.stringify({ code: 'FAIL', message: (err as Error).message }));
      }
    }
    let v: ReturnType<typeof verifyAndDecrypt>;
    try {
      v = verifyAndDecrypt(keys, req, body);
    } catch {
      return timed(400, '{"code":"FAIL","message":"malformed"}');
    }
    if (!v) return timed(401, '{"code":"FAIL","message":"signature"}');
    try {
      const now = new Date();
      let outcome = 'applied';
      if (v.t.mchid !== keys.mchid || v.t.appid !== keys.appid) outcome = 'anomaly:other-merchant';
      else {
        // the same three round-trips as the function: read, conditional update, notification record
        const got = await db.collection('orders').where({ _id: v.t.out_trade_no }).limit(1).get();
        const order = got.data[0] as
          | { status: string; version: number; amountFen: number; openid: string; transactionId?: string }
          | undefined;
        if (!order) outcome = 'anomaly:unknown-order';
        else if (order.amountFen !== v.t.amount.total || order.openid !== v.t.payer.openid)
          outcome = 'anomaly:mismatch';
        else if (order.status !== 'NOTPAY')
          outcome = order.transactionId === v.t.transaction_id ? 'duplicate' : 'anomaly:second-transaction';
        else {
          const up = (await db
            .collection('orders')
            .where({ _id: v.t.out_trade_no, status: 'NOTPAY', version: order.version })
            .update({
              status: 'SUCCESS',
              transactionId: v.t.transaction_id,
              paidAt: new Date(v.t.success_time),
              payerTotalFen: v.t.amount.payer_total,
              version: order.version + 1,
              updatedAt: now,
            })) as { updated?: number };
          if (up.updated !== 1) outcome = 'duplicate';
        }
      }
      try {
        await db
          .collection('notifications')
          .add({ _id: v.id, eventType: v.eventType, outTradeNo: v.t.out_trade_no, outcome, receivedAt: now });
      } catch (err) {
        // a redelivery is already recorded (as the function's recordNotification tolerates)
        const e = err as { code?: unknown; message?: unknown };
        if (!/DUPLICATE|E11000/i.test(`${typeof e.code === 'string' ? e.code : ''} ${String(e.message)}`))
          throw err;
      }
      timed(204);
    } catch {
      timed(503, '{"code":"FAIL","message":"storage"}');
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 60_000;
  return { url: await listen(server), server };
}

async function main(): Promise<void> {
  const [mode, a, b] = process.argv.slice(2);
  const env = JSON.parse(process.env.BENCH_ENV ?? '{}') as Record<string, string>;
  let url: string;
  if (mode === 'emulator')
    url = (await startCloudbaseEmulator({ port: 0, collections: BENCH_COLLECTIONS })).url;
  else if (mode === 'floor') url = (await startFloor(env)).url;
  else if (mode === 'bare') url = (await startBare(env, a)).url;
  else if (mode === 'sim')
    url = (await startWechatSimulator({ port: 0, localData: await ensureLocalData(a), refundDelayMs: 20 }))
      .url;
  else if (mode === 'host') {
    const host = await startFunctionHost({
      port: 0,
      buildDir: b,
      cloudbasercPath: resolve(root, 'cloudbaserc.json'),
      env,
      emulatorUrl: a,
      log: () => {},
      functionOutput: () => {},
      // e.g. ["--cpu-prof"] to profile the instances (scripts/bench/profile-warm.ts)
      ...(process.env.BENCH_WORKER_EXEC_ARGV
        ? { workerExecArgv: JSON.parse(process.env.BENCH_WORKER_EXEC_ARGV) as string[] }
        : {}),
      ...(process.env.BENCH_HOST_INSTANCES
        ? { maxInstancesPerFunction: Number(process.env.BENCH_HOST_INSTANCES) }
        : {}),
    });
    host.mount((req, res) => {
      if (!req.url?.startsWith('/__bench/invocations')) return false;
      const list = host.invocations.recent().map((r) => ({
        functionName: r.functionName,
        durationMs: r.durationMs,
        runMs: r.runMs,
        runCpuMs: r.runCpuMs,
        cold: r.cold,
        status: r.status,
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(list));
      return true;
    });
    url = host.url;
  } else
    throw new Error(
      `unknown mode ${mode}; use emulator | sim <localDataDir> | host <emuUrl> <buildDir> | bare <emuUrl> | floor`,
    );
  // exit normally on SIGTERM so that --cpu-prof and similar flags can write their output
  process.on('SIGTERM', () => process.exit(0));
  process.stdout.write(`READY ${url}\n`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  });
}
