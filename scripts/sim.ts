// `npm run sim -- <command>`: drives the running WeChat simulator through its /sim/ HTTP API.
// Base URL: WECHAT_SIM_URL, else http://127.0.0.1:${WECHAT_SIM_PORT || 3100}.
// Over 250 lines because it is one command per part of the simulator's control API, with the wire shapes
// it reads.

const USAGE = `usage: npm run sim -- <command>

  pay <outTradeNo> [--cancel|--fail]        play the payer finishing wx.requestPayment
  notify --replay <deliveryId>              send a notification again now
  deliveries [--order <outTradeNo>] [--refund <outRefundNo>]
                                            list notifications and every delivery attempt
  orders | refunds                          list what the simulator knows
  refund-complete <outRefundNo> [--status SUCCESS|ABNORMAL|CLOSED]
  fault <target> <kind> [--count N] [--delay ms]
                                            targets: jsapi query close refund refundQuery certificates
                                            jscode2session unifiedorder orderquery closeorder v2refund
                                            refundquery shipping notify; kinds: timeout lostResponse 5xx
                                            rateLimit notEnough
                                            (notify: drop duplicate delay reorder signtest)
  fault clear                               remove every pending fault
  faults                                    list pending faults
  confirm <outTradeNo>                      the user confirms receipt (pushed to wxMessage)
  settle <outTradeNo>                       WeChat settles the order (pushed to wxMessage)
  shipping <outTradeNo>                     WeChat's shipping state and every accepted upload
  stats                                     stable_token answers and server-API calls by origin
  user [--appid <appid>] [--unionid]        create a test user
  code <openid>                             issue a wx.login code for a test user
  clock [--scale N] [--advance S]           speed up retries / move simulated time forward
  mode <certificate|publicKey|migration>    switch how responses and notifications are signed
  reset                                     forget all users, orders, refunds, deliveries, faults
  bill <YYYY-MM-DD> [--fundflow]            print the day's trade bill (ALL) or fund-flow bill (BASIC)
                                            as WeChat serves it, and from when it is available
                                            (bill faults: tradebill fundflowbill billdownload
                                            downloadbill; billdownload also takes kind tamper)`;

export function defaultSimUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.WECHAT_SIM_URL || `http://127.0.0.1:${env.WECHAT_SIM_PORT || 3100}`).replace(/\/$/, '');
}

class CliError extends Error {}

export interface CliIo {
  baseUrl?: string;
  log?: (line: string) => void;
  error?: (line: string) => void;
}

/** Runs one CLI command; resolves to the process exit code. */
export async function runSimCli(argv: string[], io: CliIo = {}): Promise<number> {
  const baseUrl = io.baseUrl ?? defaultSimUrl();
  const log = io.log ?? ((line: string) => console.log(line));
  const error = io.error ?? ((line: string) => console.error(line));
  try {
    return (await main(argv, baseUrl, log)) ?? 0;
  } catch (err) {
    error(err instanceof CliError ? err.message : String((err as Error)?.stack ?? err));
    return 1;
  }
}

async function callAt<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(baseUrl + path, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const c = (err as { cause?: { code?: string; errors?: Array<{ code?: string }> } }).cause;
    const cause =
      c?.code ?? c?.errors?.[0]?.code ?? (c as Error | undefined)?.message ?? (err as Error).message;
    throw new CliError(
      `cannot reach the WeChat simulator at ${baseUrl} (${cause}). Is the local stack running? Start it with \`npm start\`, or set WECHAT_SIM_URL.`,
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const error = (json as { error?: unknown } | undefined)?.error;
    throw new CliError(
      `simulator answered ${res.status}: ${typeof error === 'string' ? error : text || res.statusText}`,
    );
  }
  // The simulator's control API answers the shapes below (local/wechat/routes-control.ts).
  return json as T;
}

function flag(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new CliError(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

function intOption(args: string[], name: string): number | undefined {
  const v = option(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new CliError(`${name} must be a number, got ${v}`);
  return n;
}

function positional(args: string[], what: string): string {
  const v = args.shift();
  if (!v || v.startsWith('--')) throw new CliError(`missing ${what}\n\n${USAGE}`);
  return v;
}

function noExtra(args: string[]): void {
  if (args.length) throw new CliError(`unexpected argument(s): ${args.join(' ')}`);
}

// Wire shapes of the simulator's control API, as this CLI reads them.
interface SimOrder {
  outTradeNo: string;
  apiVersion: string;
  tradeState: string;
  total: number;
  openid: string;
  refunded: number;
  transactionId?: string;
}
interface SimRefund {
  outRefundNo: string;
  apiVersion: string;
  status: string;
  amount: number;
  outTradeNo: string;
}
interface SimDelivery {
  id: string;
  eventType: string;
  outTradeNo?: string;
  outRefundNo?: string;
  state: string;
  url: string;
  nextAttemptAt?: string;
  attempts: Array<{ at: string; kind: string; status?: number; durationMs: number; error?: string }>;
}
interface SimFault {
  id: number;
  kind: string;
  target: string;
  count: number;
  remaining: number;
  delayMs?: number;
}

interface ShippingView {
  orderState: number;
  uploads: Array<{
    logisticsType: number;
    deliveryMode: number;
    uploadTime: string;
    shippingList: Array<{ trackingNo?: string; expressCompany?: string; itemDesc: string }>;
  }>;
}

const ORDER_STATES: Record<number, string> = {
  1: '待发货',
  2: '已发货',
  3: '确认收货',
  4: '交易完成',
  5: '已退款',
};

const fen = (n: number) => `¥${(n / 100).toFixed(2)}`;

function printDeliveries(log: (line: string) => void, list: SimDelivery[]): void {
  if (list.length === 0) return log('no deliveries');
  for (const d of list) {
    const subject = d.outRefundNo ? `refund ${d.outRefundNo}` : `order ${d.outTradeNo}`;
    log(`${d.id}  ${d.eventType.padEnd(19)} ${subject}  ${d.state.toUpperCase()}  → ${d.url}`);
    for (const a of d.attempts) {
      log(
        `    ${a.at}  ${a.kind.padEnd(9)} ${String(a.status ?? '---').padEnd(4)} ${String(a.durationMs).padStart(5)} ms${a.error ? `  ${a.error}` : ''}`,
      );
    }
    if (d.nextAttemptAt) log(`    next attempt at ${d.nextAttemptAt}`);
  }
}

async function main(argv: string[], baseUrl: string, log: (line: string) => void): Promise<number | void> {
  const call = <T = unknown>(method: string, path: string, body?: unknown) =>
    callAt<T>(baseUrl, method, path, body);
  const args = argv.slice();
  const command = args.shift();
  switch (command) {
    case 'pay': {
      const outTradeNo = positional(args, '<outTradeNo>');
      const outcome = flag(args, '--cancel') ? 'cancel' : flag(args, '--fail') ? 'fail' : 'success';
      noExtra(args);
      const r = await call<{ errMsg: string; order: SimOrder }>('POST', '/sim/pay-order', {
        outTradeNo,
        outcome,
      });
      log(
        `${r.errMsg}  (order ${outTradeNo}: ${r.order.tradeState}, ${fen(r.order.total)}${r.order.transactionId ? `, transaction ${r.order.transactionId}` : ''})`,
      );
      if (!r.errMsg.endsWith(':ok') && outcome === 'success') return 2;
      return;
    }
    case 'notify': {
      const id = option(args, '--replay');
      if (!id) throw new CliError('usage: notify --replay <deliveryId>');
      noExtra(args);
      const d = await call<SimDelivery>('POST', `/sim/deliveries/${encodeURIComponent(id)}/replay`);
      printDeliveries(log, [d]);
      return;
    }
    case 'deliveries': {
      const order = option(args, '--order');
      const refund = option(args, '--refund');
      noExtra(args);
      const q = new URLSearchParams();
      if (order) q.set('outTradeNo', order);
      if (refund) q.set('outRefundNo', refund);
      const query = q.toString();
      printDeliveries(log, await call<SimDelivery[]>('GET', `/sim/deliveries${query ? `?${query}` : ''}`));
      return;
    }
    case 'orders': {
      noExtra(args);
      const list = await call<SimOrder[]>('GET', '/sim/orders');
      if (!list.length) return log('no orders');
      for (const o of list)
        log(
          `${o.outTradeNo.padEnd(32)} ${o.apiVersion} ${o.tradeState.padEnd(8)} ${fen(o.total).padStart(10)}  ${o.openid}  refunded ${fen(o.refunded)}`,
        );
      return;
    }
    case 'refunds': {
      noExtra(args);
      const list = await call<SimRefund[]>('GET', '/sim/refunds');
      if (!list.length) return log('no refunds');
      for (const r of list)
        log(
          `${r.outRefundNo.padEnd(32)} ${r.apiVersion} ${r.status.padEnd(10)} ${fen(r.amount).padStart(10)} of order ${r.outTradeNo}`,
        );
      return;
    }
    case 'refund-complete': {
      const no = positional(args, '<outRefundNo>');
      const status = (option(args, '--status') ?? 'SUCCESS').toUpperCase();
      noExtra(args);
      const r = await call<SimRefund>('POST', `/sim/refunds/${encodeURIComponent(no)}/complete`, {
        status,
      });
      log(`refund ${r.outRefundNo}: ${r.status} (${fen(r.amount)})`);
      return;
    }
    case 'fault': {
      const target = positional(args, '<target>|clear');
      if (target === 'clear') {
        noExtra(args);
        await call('DELETE', '/sim/faults');
        return log('all faults cleared');
      }
      const kind = positional(args, '<kind>');
      const count = intOption(args, '--count');
      const delayMs = intOption(args, '--delay');
      noExtra(args);
      const f = await call<SimFault>('POST', '/sim/faults', {
        target,
        kind,
        ...(count !== undefined ? { count } : {}),
        ...(delayMs !== undefined ? { delayMs } : {}),
      });
      log(
        `fault #${f.id}: ${f.kind} on ${f.target} × ${f.count}${f.delayMs !== undefined ? ` (delay ${f.delayMs} ms)` : ''}`,
      );
      return;
    }
    case 'faults': {
      noExtra(args);
      const list = await call<SimFault[]>('GET', '/sim/faults');
      if (!list.length) return log('no pending faults');
      for (const f of list)
        log(
          `#${f.id} ${f.kind} on ${f.target}, ${f.remaining} left${f.delayMs !== undefined ? ` (delay ${f.delayMs} ms)` : ''}`,
        );
      return;
    }
    case 'confirm':
    case 'settle': {
      const no = positional(args, '<outTradeNo>');
      noExtra(args);
      const r = await call<{ orderState: number; push: string }>(
        'POST',
        `/sim/shipping/${encodeURIComponent(no)}/${command}`,
      );
      log(
        `order ${no}: ${command === 'confirm' ? 'receipt confirmed' : 'settled'}, order_state ${r.orderState} (message push ${r.push})`,
      );
      return;
    }
    case 'shipping': {
      const no = positional(args, '<outTradeNo>');
      noExtra(args);
      const r = await call<ShippingView>('GET', `/sim/shipping?outTradeNo=${encodeURIComponent(no)}`);
      log(`order ${no}: order_state ${r.orderState} ${ORDER_STATES[r.orderState] ?? ''}`);
      for (const u of r.uploads) {
        const packages = u.shippingList.map((p) =>
          [p.expressCompany, p.trackingNo, p.itemDesc].filter(Boolean).join(' '),
        );
        log(
          `  ${u.uploadTime}  logistics ${u.logisticsType} mode ${u.deliveryMode}  ${packages.join(' | ')}`,
        );
      }
      return;
    }
    case 'stats': {
      noExtra(args);
      const r = await call<{
        stableTokens: number;
        openapi: Record<string, { cloud: number; https: number }>;
      }>('GET', '/sim/stats');
      log(`stable_token answers: ${r.stableTokens}`);
      for (const [api, n] of Object.entries(r.openapi))
        log(`  ${api.padEnd(24)} 云调用 ${n.cloud}  https ${n.https}`);
      return;
    }
    case 'user': {
      const appid = option(args, '--appid');
      const withUnionid = flag(args, '--unionid');
      noExtra(args);
      const u = await call<{ openid: string; appid: string; unionid?: string }>('POST', '/sim/users', {
        ...(appid ? { appid } : {}),
        withUnionid,
      });
      log(`openid  ${u.openid}\nappid   ${u.appid}${u.unionid ? `\nunionid ${u.unionid}` : ''}`);
      return;
    }
    case 'code': {
      const openid = positional(args, '<openid>');
      noExtra(args);
      const c = await call<{ code: string; expiresAt: string }>('POST', '/sim/login-codes', { openid });
      log(`code ${c.code} (valid until ${c.expiresAt}, one use)`);
      return;
    }
    case 'clock': {
      const timeScale = intOption(args, '--scale');
      const advanceSeconds = intOption(args, '--advance');
      noExtra(args);
      const c = await call<{ now: string; timeScale: number }>('POST', '/sim/clock', {
        ...(timeScale !== undefined ? { timeScale } : {}),
        ...(advanceSeconds !== undefined ? { advanceSeconds } : {}),
      });
      log(`simulator time ${c.now}, time scale ×${c.timeScale}`);
      return;
    }
    case 'mode': {
      const signingMode = positional(args, '<certificate|publicKey|migration>');
      noExtra(args);
      const m = await call<{ signingMode: string }>('POST', '/sim/mode', { signingMode });
      log(`signing mode: ${m.signingMode}`);
      return;
    }
    case 'bill': {
      const date = positional(args, '<YYYY-MM-DD>');
      const fundflow = flag(args, '--fundflow');
      noExtra(args);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new CliError(`bill needs a date YYYY-MM-DD, got ${date}`);
      const b = await call<{
        date: string;
        availability: string;
        readyAt: string;
        trade: string;
        fundflow: string;
      }>('GET', `/sim/bills/${date}`);
      log(
        `${fundflow ? 'fund-flow bill (BASIC)' : 'trade bill (ALL)'} of ${b.date}: ${b.availability === 'ready' ? 'available' : `${b.availability}, available from ${b.readyAt} (simulator time)`}`,
      );
      log((fundflow ? b.fundflow : b.trade).trimEnd());
      return;
    }
    case 'reset': {
      noExtra(args);
      await call('POST', '/sim/reset');
      log('simulator reset');
      return;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      log(USAGE);
      return;
    default:
      throw new CliError(`unknown command ${command}\n\n${USAGE}`);
  }
}

if (require.main === module) {
  void runSimCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
