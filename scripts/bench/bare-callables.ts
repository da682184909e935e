// The baseline of the warm-invocation bench for createPayment and orders.get: the same work written by
// hand in a plain process — the same reads, insert and conditional update through @cloudbase/node-sdk
// against the same emulator, the same signed WeChat Pay v3 calls (RSA-SHA256 Authorization, response
// signature verified) through axios with a kept-alive agent, the same wx.requestPayment signature, the
// same per-user prepay counter and order query lease (docs/numbers.md#per-user-limits) — with none of
// our framework: no validation layer, no configuration object, no error mapping. The libraries are the
// ones the stack prescribes for this work (node-sdk, axios), so the ratio is what our code adds; the
// transport 'node:http' calls WeChat Pay over bare node:http instead (BENCH_BARE_HTTP=node:http), the
// least the call can cost, to see axios's share.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { Agent, request } from 'node:http';
import axios from 'axios';
import type { LocalDatabase } from '../../local/cloudbase/sdk-env';

interface Keys {
  mchid: string;
  appid: string;
  serial: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  base: URL;
  notifyUrl: string;
}

interface Order {
  _id: string;
  openid: string;
  status: string;
  version: number;
  amountFen: number;
  items: Array<{ productId: string; name: string; priceFen: number; quantity: number }>;
  description: string;
  prepayId?: string;
  createdAt: Date;
}

/** How the bare handlers reach WeChat Pay. */
export type BareTransport = 'axios' | 'node:http';

const pem = (v: string) => v.replace(/\\n/g, '\n');

function keysOf(env: Record<string, string>): Keys {
  return {
    mchid: env.WXPAY_MCHID,
    appid: env.WX_APPID,
    serial: env.WXPAY_SERIAL_NO,
    privateKey: createPrivateKey(pem(env.WXPAY_PRIVATE_KEY)),
    publicKey: createPublicKey(pem(env.WXPAY_PUBLIC_KEY)),
    base: new URL(env.WXPAY_BASE_URL),
    notifyUrl: env.WXPAY_NOTIFY_URL,
  };
}

const nonce = () => randomBytes(16).toString('hex');

function rfc3339China(ms: number): string {
  return `${new Date(ms + 8 * 3600_000).toISOString().slice(0, 19)}+08:00`;
}

function stamp(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().replace(/\D/g, '').slice(2, 14);
}

export function bareCallables(
  env: Record<string, string>,
  db: LocalDatabase,
  transport: BareTransport = 'axios',
) {
  const k = keysOf(env);
  const agent = new Agent({ keepAlive: true });

  const http = axios.create({ httpAgent: agent, responseType: 'text', transformResponse: (d: unknown) => d });

  /** One signed v3 call; the answer's signature is verified before its body is trusted. */
  async function wxpay(
    method: 'GET' | 'POST',
    path: string,
    payload?: object,
  ): Promise<{ status: number; json: unknown }> {
    const body = payload ? JSON.stringify(payload) : '';
    const ts = String(Math.floor(Date.now() / 1000));
    const n = nonce();
    const signature = sign(
      'RSA-SHA256',
      Buffer.from(`${method}\n${path}\n${ts}\n${n}\n${body}\n`),
      k.privateKey,
    ).toString('base64');
    const authorization = `WECHATPAY2-SHA256-RSA2048 mchid="${k.mchid}",nonce_str="${n}",signature="${signature}",timestamp="${ts}",serial_no="${k.serial}"`;
    const headers = { authorization, accept: 'application/json', 'content-type': 'application/json' };
    const answer =
      transport === 'axios'
        ? await http.request<string>({
            method,
            url: new URL(path, k.base).href,
            data: body || undefined,
            headers,
            timeout: 10_000,
            validateStatus: () => true,
          })
        : await nodeHttp(method, path, body, headers);
    const text = answer.data;
    const h = answer.headers as Record<string, unknown>;
    const ok =
      h['wechatpay-serial'] !== undefined &&
      verify(
        'RSA-SHA256',
        Buffer.from(`${String(h['wechatpay-timestamp'])}\n${String(h['wechatpay-nonce'])}\n${text}\n`),
        k.publicKey,
        Buffer.from(String(h['wechatpay-signature']), 'base64'),
      );
    if (!ok) throw new Error(`unsigned answer ${answer.status} from ${path}`);
    return { status: answer.status, json: text ? JSON.parse(text) : undefined };
  }

  function nodeHttp(
    method: string,
    path: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; headers: unknown; data: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: k.base.hostname,
          port: k.base.port,
          method,
          path,
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              data: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function readOrder(id: string): Promise<Order | undefined> {
    return (await db.collection('orders').where({ _id: id }).limit(1).get()).data[0] as Order | undefined;
  }

  /** The prepay counter: one conditional increment; a read and an insert or reset on a window's first call. */
  async function countPrepay(openid: string, now: Date): Promise<void> {
    const _ = db.command;
    const limits = db.collection('rateLimits');
    const id = `prepay:${openid}`;
    const windowStartMs = Math.floor(now.getTime() / 60_000) * 60_000;
    const inc = (await limits
      .where({ _id: id, windowStartMs, count: _.lt(10) })
      .update({ count: _.inc(1), updatedAt: now })) as { updated?: number };
    if (inc.updated === 1) return;
    const doc = (await limits.where({ _id: id }).limit(1).get()).data[0] as
      { windowStartMs: number; count: number } | undefined;
    if (!doc) return void (await limits.add({ _id: id, windowStartMs, count: 1, updatedAt: now }));
    if (doc.windowStartMs + 60_000 <= now.getTime()) {
      await limits
        .where({ _id: id, windowStartMs: doc.windowStartMs })
        .update({ windowStartMs, count: 1, updatedAt: now });
      return;
    }
    throw new Error(`the bench made more than 10 payments a minute for ${openid}`);
  }

  async function createPayment(
    openid: string,
    data: { items: Array<{ productId: string; quantity: number }> },
  ) {
    const _ = db.command;
    const ids = data.items.map((i) => i.productId);
    const products = (
      await db
        .collection('products')
        .where({ _id: _.in(ids) })
        .limit(ids.length)
        .get()
    ).data as Array<{ _id: string; name: string; priceFen: number }>;
    const items = data.items.map((i) => {
      const p = products.find((x) => x._id === i.productId)!;
      return { productId: p._id, name: p.name, priceFen: p.priceFen, quantity: i.quantity };
    });
    const amountFen = items.reduce((s, i) => s + i.priceFen * i.quantity, 0);
    const now = new Date();
    await countPrepay(openid, now);
    const order: Order & Record<string, unknown> = {
      _id: `T${stamp(now)}${randomBytes(7).toString('hex').toUpperCase()}`,
      openid,
      appid: k.appid,
      items,
      amountFen,
      description: items
        .map((i) => i.name)
        .join(', ')
        .slice(0, 127),
      status: 'NOTPAY',
      refundedFen: 0,
      refundingFen: 0,
      settledRefundNos: [],
      version: 0,
      createdAt: now,
      updatedAt: now,
      apiVersion: 'v3',
    };
    await db.collection('orders').add(order);
    const r = await wxpay('POST', '/v3/pay/transactions/jsapi', {
      appid: k.appid,
      mchid: k.mchid,
      description: order.description,
      out_trade_no: order._id,
      time_expire: rfc3339China(now.getTime() + 2 * 3600_000),
      notify_url: k.notifyUrl,
      amount: { total: amountFen, currency: 'CNY' },
      payer: { openid },
    });
    const prepayId = (r.json as { prepay_id: string }).prepay_id;
    const fresh = (await readOrder(order._id))!;
    await db
      .collection('orders')
      .where({ _id: order._id, status: 'NOTPAY', version: fresh.version })
      .update({
        prepayId,
        prepayExpiresAt: new Date(now.getTime() + 2 * 3600_000),
        version: fresh.version + 1,
        updatedAt: new Date(),
      });
    const timeStamp = String(Math.floor(Date.now() / 1000));
    const nonceStr = nonce();
    const pkg = `prepay_id=${prepayId}`;
    const paySign = sign(
      'RSA-SHA256',
      Buffer.from(`${k.appid}\n${timeStamp}\n${nonceStr}\n${pkg}\n`),
      k.privateKey,
    ).toString('base64');
    return {
      orderId: order._id,
      amountFen,
      payment: { timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign },
    };
  }

  async function ordersGet(openid: string, data: { orderId: string }) {
    let order = await readOrder(data.orderId);
    if (!order || order.openid !== openid) return { error: 'NOT_FOUND' };
    const now = new Date();
    const _ = db.command;
    const lease = (await db
      .collection('orders')
      .where(
        _.or([
          { _id: order._id, lastQueriedAt: _.lte(new Date(now.getTime() - 5000)) },
          { _id: order._id, lastQueriedAt: _.exists(false) },
        ]),
      )
      .update({ lastQueriedAt: now })) as { updated?: number };
    if (order.status === 'NOTPAY' && lease.updated === 1) {
      const r = await wxpay(
        'GET',
        `/v3/pay/transactions/out-trade-no/${encodeURIComponent(order._id)}?mchid=${k.mchid}`,
      );
      const state = (r.json as { trade_state?: string }).trade_state;
      if (state !== 'NOTPAY') throw new Error(`the bench expects unpaid orders; ${order._id} is ${state}`);
      order = (await readOrder(order._id)) ?? order;
    }
    const refunds = (
      await db
        .collection('refunds')
        .where({ outTradeNo: order._id })
        .orderBy('createdAt', 'asc')
        .limit(100)
        .get()
    ).data;
    return {
      orderId: order._id,
      status: order.status,
      amountFen: order.amountFen,
      items: order.items,
      description: order.description,
      createdAt: new Date(order.createdAt).toISOString(),
      refunds,
    };
  }

  return { createPayment, ordersGet, close: () => agent.destroy() };
}
