// Test helpers for the simulator's own tests: a fresh local data folder, a v3 client that signs with
// node:crypto directly, and a tiny notification receiver. Not used by the simulator itself.
import {
  createSign,
  createVerify,
  randomBytes,
  X509Certificate,
  createPublicKey,
  createDecipheriv,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureLocalData, type LocalData } from '../setup/local-data';
import { startWechatSimulator, type WechatSimulator, type WechatSimulatorOptions } from './server';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: any;
}

export function httpCall(
  method: string,
  url: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          ...(body !== undefined ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('test request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

let sharedData: Promise<{ dir: string; data: LocalData }> | undefined;

/** One local data folder per test process (RSA key generation is the slow part). */
export function testLocalData(): Promise<{ dir: string; data: LocalData }> {
  sharedData ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wechat-sim-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return { dir, data: await ensureLocalData(dir) };
  })();
  return sharedData;
}

export interface SimHarness {
  handle: WechatSimulator;
  url: string;
  data: LocalData;
  env: Record<string, string>;
  platformKey: KeyObject;
  publicKey: KeyObject;
  /** A v3 request signed with the merchant key (node:crypto), body sent exactly as given. */
  v3(
    method: string,
    pathWithQuery: string,
    body?: unknown,
    override?: { timestamp?: number; serial?: string; mchid?: string; signWith?: string; nonce?: string },
  ): Promise<HttpAnswer>;
  /** Verifies Wechatpay-* headers of an answer with node:crypto; returns which key signed. */
  verify(headers: IncomingHttpHeaders, body: string): 'certificate' | 'publicKey';
  sim(method: string, path: string, body?: unknown): Promise<HttpAnswer>;
  user(withUnionid?: boolean): Promise<string>;
  /** An access token from the simulator's stable_token with the mini-program's own credentials. */
  accessToken(forceRefresh?: boolean): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<WechatSimulatorOptions> = {}): Promise<SimHarness> {
  const { data } = await testLocalData();
  const handle = await startWechatSimulator({ localData: data, ...opts });
  const env = data.env;
  const platformCert = new X509Certificate(data.keys.platformCertificate);
  const platformKey = platformCert.publicKey;
  const publicKey = createPublicKey(data.keys.publicKey);
  const harness: SimHarness = {
    handle,
    url: handle.url,
    data,
    env,
    platformKey,
    publicKey,
    v3(method, pathWithQuery, body, o = {}) {
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
      const nonce = o.nonce ?? randomBytes(16).toString('hex').toUpperCase();
      const message = `${method}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${text}\n`;
      const signature = createSign('RSA-SHA256')
        .update(o.signWith ?? message)
        .sign(data.keys.merchantPrivateKey, 'base64');
      const auth = `WECHATPAY2-SHA256-RSA2048 mchid="${o.mchid ?? env.WXPAY_MCHID}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${o.serial ?? env.WXPAY_SERIAL_NO}"`;
      const headers: Record<string, string> = { Authorization: auth, Accept: 'application/json' };
      if (body !== undefined) headers['Content-Type'] = 'application/json';
      return httpCall(method, handle.url + pathWithQuery, body === undefined ? undefined : text, headers);
    },
    verify(headers, body) {
      const ts = String(headers['wechatpay-timestamp']);
      const nonce = String(headers['wechatpay-nonce']);
      const sig = String(headers['wechatpay-signature']);
      const serial = String(headers['wechatpay-serial']);
      const key =
        serial === platformCert.serialNumber.toUpperCase()
          ? platformKey
          : serial === env.WXPAY_PUBLIC_KEY_ID
            ? publicKey
            : undefined;
      if (!key) throw new Error(`unknown Wechatpay-Serial ${serial}`);
      if (Math.abs(Number(ts) - Date.now() / 1000) > 300) throw new Error('stale Wechatpay-Timestamp');
      const ok = createVerify('RSA-SHA256')
        .update(`${ts}\n${nonce}\n${body}\n`)
        .verify(key, Buffer.from(sig, 'base64'));
      if (!ok) throw new Error('Wechatpay-Signature does not verify');
      return key === platformKey ? 'certificate' : 'publicKey';
    },
    sim(method, path, body) {
      return httpCall(
        method,
        handle.url + path,
        body === undefined ? undefined : JSON.stringify(body),
        body === undefined ? {} : { 'Content-Type': 'application/json' },
      );
    },
    async user(withUnionid = false) {
      const r = await harness.sim('POST', '/sim/users', { withUnionid });
      return r.json.openid as string;
    },
    async accessToken(forceRefresh = false) {
      const r = await harness.sim('POST', '/cgi-bin/stable_token', {
        grant_type: 'client_credential',
        appid: env.WX_APPID,
        secret: env.WX_APPSECRET,
        ...(forceRefresh ? { force_refresh: true } : {}),
      });
      if (typeof r.json.access_token !== 'string') throw new Error(`stable_token answered ${r.text}`);
      return r.json.access_token;
    },
    close: () => handle.close(),
  };
  return harness;
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Answer status (and body) for upcoming requests; a function decides per request. */
  respond: (r: Received) => { status: number; body?: string; delayMs?: number };
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(path = '/pay/notify'): Promise<Receiver> {
  const received: Received[] = [];
  let waiters: Array<() => void> = [];
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => ({ status: 204 }),
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length >= count) {
            clearTimeout(timer);
            waiters = waiters.filter((w) => w !== check);
            resolve(received.slice());
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== check);
          reject(new Error(`expected ${count} notifications, got ${received.length}`));
        }, timeoutMs);
        if (!check()) waiters.push(check);
      });
    },
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = {
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      received.push(r);
      const answer = receiver.respond(r);
      const reply = () => {
        res.writeHead(answer.status, answer.body ? { 'Content-Type': 'text/plain' } : {});
        res.end(answer.body ?? '');
        for (const w of waiters.slice()) w();
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return receiver;
}

/** AEAD_AES_256_GCM decryption written directly against node:crypto for the tests. */
export function decryptResource(
  apiV3Key: string,
  resource: { ciphertext: string; nonce: string; associated_data: string },
): any {
  const raw = Buffer.from(resource.ciphertext, 'base64');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key), Buffer.from(resource.nonce));
  d.setAAD(Buffer.from(resource.associated_data));
  d.setAuthTag(raw.subarray(raw.length - 16));
  return JSON.parse(Buffer.concat([d.update(raw.subarray(0, raw.length - 16)), d.final()]).toString('utf8'));
}

/** The mini-program side of a v3 payment: paySign over appId, timeStamp, nonceStr, package. */
export function v3PayParams(merchantPrivateKey: string, appId: string, prepayId: string) {
  const timeStamp = String(Math.floor(Date.now() / 1000));
  const nonceStr = randomBytes(16).toString('hex');
  const pkg = `prepay_id=${prepayId}`;
  const paySign = createSign('RSA-SHA256')
    .update(`${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`)
    .sign(merchantPrivateKey, 'base64');
  return { timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
}

export function waitUntil(
  pred: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  stepMs = 20,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await pred()) return resolve();
      if (Date.now() > until) return reject(new Error('condition not met in time'));
      setTimeout(() => void tick(), stepMs);
    };
    void tick();
  });
}
