// The v3 client and certificate store against a tiny real HTTP server that plays WeChat Pay: it
// checks the merchant's Authorization signature with its own code (node:crypto directly), answers
// signed responses, WeChat error bodies, 5xx, and hangs; certificates come encrypted as WeChat sends them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  createCipheriv,
  createPrivateKey,
  randomBytes,
  sign as rsaSign,
  verify as rsaVerify,
  type KeyObject,
} from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createCa, issueCertificate, type LocalCa } from '../../../local/setup/certificates';
import { makeTestKeys, type TestKeys } from './testing/keys';
import { buildTestNotification } from './testing';
import {
  createWxpayV3,
  parseApiV3Key,
  WxpayV3Client,
  RequestSigner,
  RsaSigner,
  PublicKeyVerifier,
  CompositeVerifier,
  CertificateStore,
} from './index';
import * as E from './errors';
import {
  WxpayRateLimitedError,
  WxpayUnavailableError,
  WxpayUnverifiedAnswerError,
  WxpayUpstreamError,
} from '../errors';

interface Signing {
  key: KeyObject;
  serial: string;
}
interface Canned {
  status: number;
  body: string;
  /** 'none' = unsigned; 'forged' = signed by a key WeChat does not own; 'signtest' = probe prefix. */
  sign?: 'default' | 'none' | 'forged' | 'signtest';
  signWith?: Signing;
}
interface Recorded {
  method: string;
  url: string;
  body: string;
  authOk: boolean;
  authMchid?: string;
  authSerial?: string;
}

let k: TestKeys;
let ca: LocalCa;
let apiV3Text: string;
let server: Server;
let base: string;
const recorded: Recorded[] = [];
const queue: Canned[] = [];
let signWith: Signing;
let certEntries: Array<{ pem: string; serial: string; notBefore: Date; notAfter: Date }> = [];
let certSigner: Signing | undefined;
async function platformCert(opts: { notBefore?: Date; notAfter?: Date } = {}) {
  const issued = await issueCertificate(ca, {
    subject: 'CN=Tenpay.com Platform Certificate (test), O=Tenpay.com, C=CN',
    ...opts,
  });
  const notBefore = opts.notBefore ?? new Date(Date.now() - 86_400_000);
  const notAfter = opts.notAfter ?? new Date(Date.now() + 5 * 365 * 86_400_000);
  return {
    pem: issued.certificatePem,
    serial: issued.serialNo,
    notBefore,
    notAfter,
    signing: { key: createPrivateKey(issued.privateKeyPem), serial: issued.serialNo },
  };
}
type PlatformCert = Awaited<ReturnType<typeof platformCert>>;
let pool: PlatformCert[] = [];
const forgedKey = () => k.merchant.privateKey; // any key WeChat's verifiers do not know

function wechatSign(res: ServerResponse, body: string, how: Canned['sign'], s: Signing): void {
  if (how === 'none') return;
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(16).toString('hex');
  const key = how === 'forged' ? forgedKey() : s.key;
  let sig = rsaSign('sha256', Buffer.from(`${ts}\n${nonce}\n${body}\n`), key).toString('base64');
  if (how === 'signtest') sig = `WECHATPAY/SIGNTEST/${sig}`;
  res.setHeader('Wechatpay-Timestamp', ts);
  res.setHeader('Wechatpay-Nonce', nonce);
  res.setHeader('Wechatpay-Signature', sig);
  res.setHeader('Wechatpay-Serial', s.serial);
  res.setHeader('Wechatpay-Signature-Type', 'WECHATPAY2-SHA256-RSA2048');
}

/** The server's own check of the merchant signature (independent of ../signer.ts). */
function checkAuth(
  req: IncomingMessage,
  body: string,
): Pick<Recorded, 'authOk' | 'authMchid' | 'authSerial'> {
  const h = req.headers.authorization ?? '';
  const m = /^WECHATPAY2-SHA256-RSA2048 (.*)$/.exec(h);
  if (!m) return { authOk: false };
  const p = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
  const msg = `${req.method}\n${req.url}\n${p.timestamp}\n${p.nonce_str}\n${body}\n`;
  const ok =
    p.serial_no === k.merchant.serial &&
    rsaVerify('sha256', Buffer.from(msg), k.merchant.publicKey, Buffer.from(p.signature ?? '', 'base64'));
  return { authOk: ok, authMchid: p.mchid, authSerial: p.serial_no };
}

function encryptCert(pem: string): {
  algorithm: string;
  nonce: string;
  associated_data: string;
  ciphertext: string;
} {
  const nonce = randomBytes(6).toString('hex');
  const c = createCipheriv('aes-256-gcm', Buffer.from(apiV3Text), Buffer.from(nonce));
  c.setAAD(Buffer.from('certificate'));
  const ct = Buffer.concat([c.update(pem), c.final(), c.getAuthTag()]);
  return {
    algorithm: 'AEAD_AES_256_GCM',
    nonce,
    associated_data: 'certificate',
    ciphertext: ct.toString('base64'),
  };
}

function route(req: IncomingMessage, body: string): Canned | 'hang' {
  const url = new URL(req.url!, 'http://x');
  if (url.pathname.includes('/HANG')) return 'hang';
  const next = queue.shift();
  if (next) return next;
  if (req.method === 'POST' && url.pathname === '/v3/pay/transactions/jsapi') {
    const b = JSON.parse(body);
    return { status: 200, body: JSON.stringify({ prepay_id: `wx${b.out_trade_no}` }) };
  }
  let m = /^\/v3\/pay\/transactions\/(out-trade-no|id)\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && m) {
    const byId = m[1] === 'id';
    return {
      status: 200,
      body: JSON.stringify({
        appid: k.appid,
        mchid: url.searchParams.get('mchid'),
        out_trade_no: byId ? 'T1' : decodeURIComponent(m[2]),
        transaction_id: byId ? m[2] : '4200000001',
        trade_type: 'JSAPI',
        trade_state: 'NOTPAY',
        trade_state_desc: '订单未支付',
        amount: { total: 100, currency: 'CNY' },
      }),
    };
  }
  m = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/.exec(url.pathname);
  if (req.method === 'POST' && m) return { status: 204, body: '' };
  if (req.method === 'POST' && url.pathname === '/v3/refund/domestic/refunds') {
    const b = JSON.parse(body);
    return {
      status: 200,
      body: JSON.stringify(refundBody(b.out_refund_no, b.out_trade_no, b.amount.refund, b.amount.total)),
    };
  }
  m = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(url.pathname);
  if (req.method === 'GET' && m)
    return {
      status: 200,
      body: JSON.stringify({
        ...refundBody(m[1], 'T1', 50, 100),
        status: 'SUCCESS',
        success_time: '2026-11-25T20:05:00+08:00',
      }),
    };
  if (req.method === 'GET' && url.pathname === '/v3/certificates') {
    const data = certEntries.map((c) => ({
      serial_no: c.serial,
      effective_time: c.notBefore.toISOString(),
      expire_time: c.notAfter.toISOString(),
      encrypt_certificate: encryptCert(c.pem),
    }));
    return { status: 200, body: JSON.stringify({ data }), ...(certSigner ? { signWith: certSigner } : {}) };
  }
  return { status: 404, body: JSON.stringify({ code: 'NOT_FOUND', message: 'no such path' }) };
}

function refundBody(outRefundNo: string, outTradeNo: string, refund: number, total: number) {
  return {
    refund_id: '50000000382019052709732678859',
    out_refund_no: outRefundNo,
    transaction_id: '4200000001',
    out_trade_no: outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    create_time: '2026-11-25T20:00:00+08:00',
    status: 'PROCESSING',
    amount: {
      total,
      refund,
      payer_total: total,
      payer_refund: refund,
      settlement_refund: refund,
      settlement_total: total,
      discount_refund: 0,
      currency: 'CNY',
    },
  };
}

before(async () => {
  [k, ca] = await Promise.all([makeTestKeys(), createCa()]);
  pool = await Promise.all([
    platformCert(),
    platformCert(),
    platformCert({ notBefore: new Date(Date.now() - 3600_000) }),
    platformCert({
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    }),
  ]);
  apiV3Text = k.apiV3KeyText;
  signWith = { key: k.wechatPublic.privateKey, serial: k.wechatPublic.keyId };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      recorded.push({ method: req.method!, url: req.url!, body, ...checkAuth(req, body) });
      const r = route(req, body);
      if (r === 'hang') return;
      const ct = r.body.startsWith('<') ? 'text/html' : 'application/json';
      wechatSign(res, r.body, r.sign ?? 'default', r.signWith ?? signWith);
      res.setHeader('Request-ID', `08F4D1C2B00610${recorded.length}`);
      if (r.status !== 204) res.setHeader('Content-Type', ct);
      res.writeHead(r.status).end(r.body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
  k.cleanup();
});

function publicKeyClient(timeoutMs?: number): WxpayV3Client {
  return new WxpayV3Client({
    signer: new RequestSigner(k.mchid, new RsaSigner(k.merchant.privateKey, k.merchant.serial)),
    verifier: new PublicKeyVerifier(k.wechatPublic.keyId, k.wechatPublic.publicKey),
    baseURL: base,
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

/** A client answer that did not verify: retryable, its verification error as the cause. */
function unverified(cls: new (...args: never[]) => Error): (e: unknown) => boolean {
  return (e) => e instanceof WxpayUnverifiedAnswerError && e.retryable && e.cause instanceof cls;
}

/** Every error the client produces must keep the Authorization header and signatures out. */
function assertNoSecrets(e: unknown): void {
  const text = `${(e as Error).message} ${JSON.stringify(e)} ${String((e as Error).stack)}`;
  assert.ok(!text.includes('WECHATPAY2-SHA256-RSA2048'), 'Authorization header leaked');
  assert.ok(!text.includes(k.apiV3KeyText), 'APIv3 key leaked');
  assert.ok(!text.includes('PRIVATE KEY'), 'private key leaked');
}

describe('v3 client: endpoints (public-key mode)', () => {
  test('JSAPI prepay: signed request verified by the server, mchid filled in, prepay_id returned', async () => {
    const c = publicKeyClient();
    recorded.length = 0;
    const r = await c.jsapiPrepay({
      appid: k.appid,
      description: '测试商品',
      out_trade_no: 'T20261125A1',
      notify_url: 'https://example.com/pay/notify',
      amount: { total: 1999, currency: 'CNY' },
      payer: { openid: 'oUser1' },
    });
    assert.equal(r.prepay_id, 'wxT20261125A1');
    assert.equal(recorded.length, 1);
    assert.equal(recorded[0].authOk, true);
    assert.equal(recorded[0].authMchid, k.mchid);
    assert.equal(JSON.parse(recorded[0].body).mchid, k.mchid);
    c.close();
  });

  test('queries by out_trade_no and transaction_id sign the path with its query', async () => {
    const c = publicKeyClient();
    recorded.length = 0;
    const a = await c.queryByOutTradeNo('T2026/1 x');
    assert.equal(a.out_trade_no, 'T2026/1 x');
    assert.equal(a.mchid, k.mchid);
    assert.equal(a.trade_state, 'NOTPAY');
    const b = await c.queryByTransactionId('4200000002');
    assert.equal(b.transaction_id, '4200000002');
    assert.deepEqual(
      recorded.map((r) => [r.url, r.authOk]),
      [
        [`/v3/pay/transactions/out-trade-no/T2026%2F1%20x?mchid=${k.mchid}`, true],
        [`/v3/pay/transactions/id/4200000002?mchid=${k.mchid}`, true],
      ],
    );
    c.close();
  });

  test('a pooled connection keeps the keep-alive delay axios sets per request: reusing it reconfigures nothing', async () => {
    const c = publicKeyClient();
    await c.queryByOutTradeNo('T1');
    await c.queryByOutTradeNo('T2');
    // axios sets 60 s on each request's socket; an agent with another delay set it back when the socket
    // returned to the pool, so every call cost setsockopt system calls (Node skips unchanged values).
    const agent = (c as unknown as { agents: Array<{ freeSockets: Record<string, object[]> }> }).agents[0];
    const pooled = Object.values(agent.freeSockets).flat();
    assert.equal(pooled.length, 1, 'the two calls shared one kept-alive connection');
    const delayKey = Object.getOwnPropertySymbols(pooled[0]).find(
      (sym) => sym.description === 'kSetKeepAliveInitialDelay',
    );
    assert.ok(delayKey, 'this Node version keeps the keep-alive delay on the socket');
    assert.equal((pooled[0] as Record<symbol, unknown>)[delayKey], 60, 'seconds, as axios sets it');
    c.close();
  });

  test('close answers 204 with an empty, signed body', async () => {
    const c = publicKeyClient();
    recorded.length = 0;
    assert.equal(await c.closeOrder('T20261125A1'), undefined);
    assert.equal(recorded[0].url, '/v3/pay/transactions/out-trade-no/T20261125A1/close');
    assert.deepEqual(JSON.parse(recorded[0].body), { mchid: k.mchid });
    assert.equal(recorded[0].authOk, true);
    // An unsigned 204 is refused like any unsigned success.
    queue.push({ status: 204, body: '', sign: 'none' });
    await assert.rejects(c.closeOrder('T20261125A1'), unverified(E.WxpayMissingHeaderError));
    c.close();
  });

  test('refund create and query', async () => {
    const c = publicKeyClient();
    const r = await c.createRefund({
      out_trade_no: 'T1',
      out_refund_no: 'R1',
      reason: '不想要了',
      amount: { refund: 50, total: 100, currency: 'CNY' },
    });
    assert.equal(r.status, 'PROCESSING');
    assert.equal(r.amount.refund, 50);
    const q = await c.queryRefund('R1');
    assert.equal(q.status, 'SUCCESS');
    assert.equal(q.out_refund_no, 'R1');
    c.close();
  });
});

describe('v3 client: refusals and failures', () => {
  test('unsigned, forged and SIGNTEST successes are never returned as data: unverified, retryable', async () => {
    const c = publicKeyClient();
    const cases: Array<[Canned['sign'], new (...args: never[]) => Error, RegExp]> = [
      ['none', E.WxpayMissingHeaderError, /is not trusted because it is not signed/],
      [
        'forged',
        E.WxpayBadSignatureError,
        /its signature does not verify \(response signature does not verify/,
      ],
      ['signtest', E.WxpaySigntestError, /SIGNTEST/],
    ];
    for (const [sign, cls, msg] of cases) {
      queue.push({ status: 200, body: JSON.stringify({ prepay_id: 'wx_forged' }), sign });
      await assert.rejects(
        c.jsapiPrepay({
          appid: k.appid,
          description: 'd',
          out_trade_no: 'T3',
          notify_url: 'https://e.com/n',
          amount: { total: 1 },
          payer: { openid: 'o' },
        }),
        (e: any) => {
          assert.ok(e instanceof WxpayUnverifiedAnswerError && e.retryable, e.message);
          assert.ok(e.cause instanceof cls, String(e.cause));
          assert.equal(e.status, 200);
          assert.match((e as Error).message, msg);
          assertNoSecrets(e);
          return true;
        },
      );
    }
    // A response signed under an unknown PUB_KEY_ID names the variable to set.
    queue.push({
      status: 200,
      body: '{}',
      signWith: { key: k.wechatPublic.privateKey, serial: 'PUB_KEY_ID_999' },
    });
    await assert.rejects(
      c.queryRefund('R1'),
      (e: any) => unverified(E.WxpayUnknownSerialError)(e) && /WXPAY_PUBLIC_KEY_ID/.test(e.message),
    );
    c.close();
  });

  test('WeChat error bodies map to "upstream said no" with the code, detail and a hint', async () => {
    const c = publicKeyClient();
    const cases: Array<[number, string, RegExp]> = [
      [400, 'PARAM_ERROR', /detail field/],
      [403, 'ORDERPAID', /query it/],
      [404, 'ORDER_NOT_EXIST', /out_trade_no/],
      [403, 'NOT_ENOUGH', /balance/],
      [401, 'SIGN_ERROR', /WXPAY_SERIAL_NO/],
    ];
    for (const [status, code, hint] of cases) {
      const detail = { field: 'amount.total', value: 0, issue: 'must be > 0', location: 'body' };
      queue.push({ status, body: JSON.stringify({ code, message: '错误说明', detail }) });
      await assert.rejects(c.queryByOutTradeNo('T4'), (e: any) => {
        assert.ok(
          e instanceof WxpayUpstreamError && !(e instanceof WxpayRateLimitedError),
          `${code}: ${e.message}`,
        );
        assert.equal(e.status, status);
        assert.equal(e.upstreamCode, code);
        assert.deepEqual(e.detail, detail);
        assert.match(
          e.message,
          new RegExp(`WeChat Pay refused GET /v3/pay/transactions/out-trade-no/T4: ${code} \\(错误说明\\)`),
        );
        assert.match(e.message, hint);
        assert.ok(!e.message.includes('mchid='), 'the query string is left out');
        assert.match(e.requestId ?? '', /^08F4D1C2B00610\d+$/);
        assert.ok(e.message.endsWith(`[Request-ID ${e.requestId}]`));
        assertNoSecrets(e);
        return true;
      });
    }
  });

  test('a signed 200 whose body is not JSON → malformed-json naming the endpoint', async () => {
    const c = publicKeyClient();
    queue.push({ status: 200, body: '<xml>not json</xml>' });
    await assert.rejects(
      c.queryRefund('R9'),
      (e: any) =>
        e instanceof E.WxpayMalformedJsonError &&
        e.subject === 'response' &&
        /body of GET \/v3\/refund\/domestic\/refunds\/R9 is not valid JSON/.test(e.message),
    );
    c.close();
  });

  test('an error answer whose signature is forged is no verdict: unverified, retryable', async () => {
    const c = publicKeyClient();
    queue.push({ status: 403, body: JSON.stringify({ code: 'ORDERPAID', message: 'x' }), sign: 'forged' });
    await assert.rejects(c.closeOrder('T5'), (e: any) => {
      assert.ok(e instanceof WxpayUnverifiedAnswerError, e.message);
      assert.ok(!(e instanceof WxpayUpstreamError));
      assert.equal(e.reason, 'unverified');
      assert.equal(e.claimedCode, 'ORDERPAID');
      assert.equal(e.upstreamCode, undefined, 'the claimed code is not offered as WeChat’s');
      assert.ok(e.cause instanceof E.WxpayBadSignatureError);
      assert.match(e.message, /its signature does not verify/);
      return true;
    });
    c.close();
  });

  test('unsigned 4xx answers are no verdict: ORDER_NOT_EXIST, NOT_ENOUGH, PARAM_ERROR, SIGN_ERROR → unverified, retryable', async () => {
    const c = publicKeyClient();
    const refund = () =>
      c.createRefund({
        out_trade_no: 'T1',
        out_refund_no: 'R7',
        amount: { refund: 1, total: 100, currency: 'CNY' },
      });
    const cases: Array<[number, string, () => Promise<unknown>, RegExp]> = [
      [404, 'ORDER_NOT_EXIST', () => c.queryByOutTradeNo('T8'), /WXPAY_BASE_URL reaches WeChat Pay directly/],
      [404, 'RESOURCE_NOT_EXISTS', () => c.queryRefund('R7'), /WXPAY_BASE_URL/],
      [403, 'NOT_ENOUGH', refund, /WXPAY_BASE_URL/],
      [400, 'PARAM_ERROR', refund, /WXPAY_BASE_URL/],
      [401, 'SIGN_ERROR', () => c.closeOrder('T8'), /WXPAY_MCHID, WXPAY_SERIAL_NO and WXPAY_PRIVATE_KEY/],
    ];
    for (const [status, code, call, fix] of cases) {
      queue.push({ status, body: JSON.stringify({ code, message: '伪造' }), sign: 'none' });
      await assert.rejects(call(), (e: any) => {
        assert.ok(
          e instanceof WxpayUnavailableError && e instanceof WxpayUnverifiedAnswerError,
          `${code}: ${e.message}`,
        );
        assert.ok(!(e instanceof WxpayUpstreamError), `${code} must not be a refusal`);
        assert.equal(e.retryable, true);
        assert.equal(e.status, status);
        assert.equal(e.claimedCode, code);
        assert.equal(e.upstreamCode, undefined);
        assert.match(
          e.message,
          new RegExp(`\\(HTTP ${status} ${code}\\) is not trusted because it is not signed`),
        );
        assert.match(e.message, fix);
        assert.match(e.requestId ?? '', /^08F4D1C2B00610\d+$/);
        assertNoSecrets(e);
        return true;
      });
    }
    // The same answers signed by WeChat are its verdict, as before.
    queue.push({ status: 404, body: JSON.stringify({ code: 'ORDER_NOT_EXIST', message: '订单不存在' }) });
    await assert.rejects(
      c.queryByOutTradeNo('T8'),
      (e: any) => e instanceof WxpayUpstreamError && e.upstreamCode === 'ORDER_NOT_EXIST' && e.status === 404,
    );
    c.close();
  });

  test('FREQUENCY_LIMITED and 429 → rate-limited; an unsigned 429 is unverified (retryable, its body not trusted)', async () => {
    const c = publicKeyClient();
    queue.push({ status: 429, body: JSON.stringify({ code: 'FREQUENCY_LIMITED', message: '频率超限' }) });
    await assert.rejects(
      c.queryRefund('R1'),
      (e: any) =>
        e instanceof WxpayRateLimitedError &&
        e.code === 'WXPAY_RATE_LIMITED' &&
        /retry later/.test(e.message),
    );
    queue.push({
      status: 429,
      body: JSON.stringify({ code: 'ORDER_NOT_EXIST', message: 'x' }),
      sign: 'none',
    });
    await assert.rejects(
      c.queryRefund('R1'),
      (e: any) => e instanceof WxpayUnverifiedAnswerError && e.retryable && e.upstreamCode === undefined,
    );
    c.close();
  });

  test('SYSTEM_ERROR and unsigned 5xx → unavailable, retryable', async () => {
    const c = publicKeyClient();
    queue.push({ status: 500, body: JSON.stringify({ code: 'SYSTEM_ERROR', message: '系统错误' }) });
    await assert.rejects(
      c.createRefund({
        out_trade_no: 'T1',
        out_refund_no: 'R2',
        amount: { refund: 1, total: 100, currency: 'CNY' },
      }),
      (e: any) => {
        assert.ok(e instanceof WxpayUnavailableError);
        assert.equal(e.reason, 'system-error');
        assert.equal(e.retryable, true);
        assert.match(e.message, /safe to retry with the same out_trade_no/);
        return true;
      },
    );
    queue.push({ status: 502, body: '<html>Bad Gateway</html>', sign: 'none' });
    await assert.rejects(
      c.queryByOutTradeNo('T1'),
      (e: any) => e instanceof WxpayUnavailableError && e.reason === 'server-error' && e.status === 502,
    );
    c.close();
  });

  test('a hang past the timeout → unavailable (timeout) within the bound', async () => {
    const c = publicKeyClient(300);
    const started = Date.now();
    await assert.rejects(c.queryByOutTradeNo('HANG'), (e: any) => {
      assert.ok(e instanceof WxpayUnavailableError, e.message);
      assert.equal(e.reason, 'timeout');
      assert.match(e.message, /within 300 ms/);
      assertNoSecrets(e);
      return true;
    });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    c.close();
  });

  test('a kept-alive connection reset as it is reused: one retry on a fresh connection, freshly signed; a server that always resets is reported after it', async () => {
    // The server closes idle keep-alive connections (WeChat's nginx after 8 s, node's default 5 s);
    // a request racing that close is reset before any answer. Here: reset on every reused socket.
    const seen = new WeakSet<object>();
    const auths: string[] = [];
    let resets = 0;
    const s = createServer((req, res) => {
      const reused = seen.has(req.socket);
      seen.add(req.socket);
      req.resume();
      req.on('end', () => {
        auths.push(req.headers.authorization ?? '');
        if ((reused && req.url!.includes('RESET')) || req.url!.includes('ALWAYS')) {
          resets++;
          return void req.socket.destroy();
        }
        const body = JSON.stringify({
          appid: k.appid,
          mchid: k.mchid,
          out_trade_no: 'T1',
          transaction_id: '4200000001',
          trade_type: 'JSAPI',
          trade_state: 'NOTPAY',
          trade_state_desc: '订单未支付',
          amount: { total: 100, currency: 'CNY' },
        });
        wechatSign(res, body, 'default', signWith);
        res.setHeader('Content-Type', 'application/json');
        res.writeHead(200).end(body);
      });
    });
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    const c = new WxpayV3Client({
      signer: new RequestSigner(k.mchid, new RsaSigner(k.merchant.privateKey, k.merchant.serial)),
      verifier: new PublicKeyVerifier(k.wechatPublic.keyId, k.wechatPublic.publicKey),
      baseURL: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    });
    try {
      await c.queryByOutTradeNo('FIRST'); // opens the connection that is kept alive
      const r = await c.queryByOutTradeNo('RESET1'); // reused → reset → retried on a new connection
      assert.equal(r.trade_state, 'NOTPAY');
      assert.equal(resets, 1);
      assert.equal(auths.length, 3);
      assert.notEqual(auths[2], auths[1], 'the retry is signed anew (fresh nonce and timestamp)');
      // a server that resets every time: one retry only, then "unavailable" to the caller
      await c.queryByOutTradeNo('FIRST');
      const before = auths.length;
      await assert.rejects(
        c.queryByOutTradeNo('ALWAYS'),
        (e: any) =>
          e instanceof WxpayUnavailableError && e.reason === 'network' && (assertNoSecrets(e), true),
      );
      assert.equal(auths.length - before, 2, 'the first attempt and one retry');
    } finally {
      c.close();
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  });

  test('nothing listening → unavailable (network) naming WXPAY_BASE_URL', async () => {
    const s = createServer();
    await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
    const port = (s.address() as AddressInfo).port;
    await new Promise((ok) => s.close(ok));
    const c = new WxpayV3Client({
      signer: new RequestSigner(k.mchid, new RsaSigner(k.merchant.privateKey, k.merchant.serial)),
      verifier: new PublicKeyVerifier(k.wechatPublic.keyId, k.wechatPublic.publicKey),
      baseURL: `http://127.0.0.1:${port}`,
    });
    await assert.rejects(
      c.queryRefund('R1'),
      (e: any) =>
        e instanceof WxpayUnavailableError &&
        e.reason === 'network' &&
        /ECONNREFUSED.*WXPAY_BASE_URL/.test(e.message) &&
        (assertNoSecrets(e), true),
    );
    assert.throws(
      () =>
        new WxpayV3Client({
          signer: new RequestSigner(k.mchid, new RsaSigner(k.merchant.privateKey, k.merchant.serial)),
          verifier: new PublicKeyVerifier(k.wechatPublic.keyId, k.wechatPublic.publicKey),
          baseURL: 'not a url',
        }),
      /WXPAY_BASE_URL/,
    );
  });
});

describe('certificate store through the client', () => {
  test('a failing certificate download inside a query is never its refusal', async () => {
    let now = Date.now();
    const wx = createWxpayV3({
      mchid: k.mchid,
      serialNo: k.merchant.serial,
      privateKey: k.merchant.privateKey,
      apiV3Key: parseApiV3Key(apiV3Text),
      baseURL: base,
      clock: () => now,
    });
    try {
      // The query's answer names a serial this cold instance lacks; the download it triggers is
      // answered 404 ORDER_NOT_EXIST (signed or not): "unavailable", not "the order does not exist".
      for (const sign of ['none', 'default'] as const) {
        queue.push(
          { status: 200, body: '{}', signWith: pool[1].signing },
          { status: 404, body: JSON.stringify({ code: 'ORDER_NOT_EXIST', message: '伪造' }), sign },
        );
        await assert.rejects(wx.client.queryByOutTradeNo('T9'), (e: any) => {
          assert.ok(e instanceof WxpayUnverifiedAnswerError && e.retryable, e.message);
          assert.ok(!(e instanceof WxpayUpstreamError));
          assert.equal(e.claimedCode, 'ORDER_NOT_EXIST');
          assert.match(
            e.message,
            /^the platform certificate download failed: WeChat Pay refused GET \/v3\/certificates/,
          );
          return true;
        });
        now += 61_000; // past the refresh limit: the next query downloads again
      }
      queue.length = 0;
    } finally {
      wx.client.close();
    }
  });

  test('certificate mode: bootstrap download, verification, rate-limited refresh, rotation', async () => {
    const first = pool[0];
    certEntries = [first];
    certSigner = first.signing; // the download is signed by the certificate it carries
    signWith = first.signing;
    let now = Date.now();
    const wx = createWxpayV3({
      mchid: k.mchid,
      serialNo: k.merchant.serial,
      privateKey: k.merchant.privateKey,
      apiV3Key: parseApiV3Key(apiV3Text),
      baseURL: base,
      clock: () => now,
    });
    try {
      const r = await wx.client.queryByOutTradeNo('T6');
      assert.equal(r.out_trade_no, 'T6');
      assert.equal(wx.certificates!.downloads, 1);
      assert.deepEqual(
        wx.certificates!.certificates.map((c) => c.serial),
        [first.serial],
      );
      await wx.client.queryByOutTradeNo('T7');
      assert.equal(wx.certificates!.downloads, 1, 'cached per instance');

      // Unknown serial right after the first download: no new download within the minute.
      const stranger0 = pool[1];
      queue.push({ status: 200, body: '{}', signWith: stranger0.signing });
      await assert.rejects(wx.client.queryRefund('R1'), unverified(E.WxpayUnknownSerialError));
      assert.equal(wx.certificates!.downloads, 1, 'rate-limited to once per minute');

      // A minute later: one refresh, then refused; a second one within the minute does not download.
      now += 61_000;
      const stranger = pool[1];
      queue.push({ status: 200, body: '{}', signWith: stranger.signing });
      await assert.rejects(
        wx.client.queryRefund('R1'),
        (e: any) =>
          unverified(E.WxpayUnknownSerialError)(e) &&
          /matches none of the platform certificates.*at most once per 60 s/.test(e.message),
      );
      assert.equal(wx.certificates!.downloads, 2);
      queue.push({ status: 200, body: '{}', signWith: stranger.signing });
      await assert.rejects(wx.client.queryRefund('R1'), unverified(E.WxpayUnknownSerialError));
      assert.equal(wx.certificates!.downloads, 2, 'rate-limited to once per minute');

      // Rotation a minute later: WeChat now lists a second certificate and signs with it.
      now += 61_000;
      const second = pool[2];
      certEntries = [first, second];
      signWith = second.signing;
      assert.equal((await wx.client.queryByOutTradeNo('T8')).out_trade_no, 'T8');
      assert.equal(wx.certificates!.downloads, 3);
      // The newest valid certificate is the one sensitive fields are encrypted for.
      const enc = await wx.encryptSensitive('张三');
      assert.equal(enc.serial, second.serial);
    } finally {
      wx.client.close();
      certSigner = undefined;
      signWith = { key: k.wechatPublic.privateKey, serial: k.wechatPublic.keyId };
    }
  });

  test('concurrent first calls share one certificate download', async () => {
    const cert = pool[0];
    certEntries = [cert];
    certSigner = cert.signing;
    signWith = cert.signing;
    const wx = createWxpayV3({
      mchid: k.mchid,
      serialNo: k.merchant.serial,
      privateKey: k.merchant.privateKey,
      apiV3Key: parseApiV3Key(apiV3Text),
      baseURL: base,
    });
    try {
      const results = await Promise.all(
        ['A', 'B', 'C', 'D', 'E'].map((x) => wx.client.queryByOutTradeNo(`TC${x}`)),
      );
      assert.deepEqual(
        results.map((r) => r.out_trade_no),
        ['TCA', 'TCB', 'TCC', 'TCD', 'TCE'],
      );
      assert.equal(wx.certificates!.downloads, 1);
    } finally {
      wx.client.close();
      certSigner = undefined;
      signWith = { key: k.wechatPublic.privateKey, serial: k.wechatPublic.keyId };
    }
  });

  test('a notification signed by a not-yet-downloaded certificate makes the parser download once, then verifies', async () => {
    const cert = pool[0];
    certEntries = [cert];
    certSigner = cert.signing;
    const wx = createWxpayV3({
      mchid: k.mchid,
      serialNo: k.merchant.serial,
      privateKey: k.merchant.privateKey,
      apiV3Key: parseApiV3Key(apiV3Text),
      baseURL: base,
    });
    try {
      const resource = {
        appid: k.appid,
        mchid: k.mchid,
        out_trade_no: 'TN1',
        transaction_id: '4200000009',
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        bank_type: 'OTHERS',
        success_time: '2026-11-25T20:00:00+08:00',
        payer: { openid: 'oN' },
        amount: { total: 5, payer_total: 5, currency: 'CNY', payer_currency: 'CNY' },
      } as const;
      const n = buildTestNotification({
        apiV3Key: parseApiV3Key(apiV3Text),
        privateKey: cert.signing.key,
        serial: cert.serial,
        eventType: 'TRANSACTION.SUCCESS',
        resource,
      });
      const parsed = await wx.notifications!.parseTransaction(n.headers, n.body);
      assert.equal(parsed.resource.out_trade_no, 'TN1');
      assert.equal(parsed.serial, cert.serial);
      assert.equal(wx.certificates!.downloads, 1);
      await wx.notifications!.parseTransaction(n.headers, n.body);
      assert.equal(wx.certificates!.downloads, 1, 'cached');
    } finally {
      wx.client.close();
      certSigner = undefined;
    }
  });

  test('an expired certificate in the list is never used: its signatures are refused, encryption picks a valid one', async () => {
    const [valid, , , expired] = pool as [PlatformCert, PlatformCert, PlatformCert, PlatformCert];
    certEntries = [expired, valid];
    certSigner = valid.signing;
    const wx = createWxpayV3({
      mchid: k.mchid,
      serialNo: k.merchant.serial,
      privateKey: k.merchant.privateKey,
      apiV3Key: parseApiV3Key(apiV3Text),
      baseURL: base,
    });
    try {
      assert.equal((await wx.encryptionKey()).serial, valid.serial);
      assert.equal(wx.certificates!.downloads, 1);
      queue.push({ status: 200, body: '{}', signWith: expired.signing });
      await assert.rejects(
        wx.client.queryRefund('R1'),
        (e: any) =>
          unverified(E.WxpayCertificateExpiredError)(e) &&
          e.cause.serial === expired.serial &&
          /valid only from/.test(e.message),
      );
    } finally {
      wx.client.close();
      certSigner = undefined;
    }
  });

  test('downloads with tampered certificates or wrong signatures are refused', async () => {
    const good = pool[0];
    const other = pool[1];
    const store = (download: () => Promise<any>) =>
      new CertificateStore({ apiV3Key: parseApiV3Key(apiV3Text), download });
    const c = publicKeyClient();
    try {
      certEntries = [good];
      certSigner = good.signing;
      const raw = await c.downloadCertificates();
      assert.equal((await store(async () => raw).load())[0].serial, good.serial);
      // Tampered ciphertext → decryption error naming WXPAY_APIV3_KEY.
      const tampered = JSON.parse(raw.body.toString());
      tampered.data[0].encrypt_certificate.ciphertext = Buffer.from('x'.repeat(64)).toString('base64');
      await assert.rejects(
        store(async () => ({ ...raw, data: tampered })).load(),
        (e: any) =>
          e instanceof E.WxpayDecryptionError &&
          e.subject === 'certificate download' &&
          /WXPAY_APIV3_KEY/.test(e.message),
      );
      // serial_no that does not match the certificate.
      const lying = JSON.parse(raw.body.toString());
      lying.data[0].serial_no = other.serial;
      await assert.rejects(
        store(async () => ({ ...raw, data: lying })).load(),
        (e: any) => e instanceof E.WxpayMalformedResourceError && /serial_no/.test(e.message),
      );
      // Signed by a certificate that is neither carried nor known → unknown serial.
      certSigner = other.signing;
      const unsigned = await c.downloadCertificates();
      await assert.rejects(store(async () => unsigned).load(), E.WxpayUnknownSerialError);
      // Body altered after signing → bad signature.
      certSigner = good.signing;
      const fine = await c.downloadCertificates();
      await assert.rejects(
        store(async () => ({ ...fine, body: Buffer.concat([fine.body, Buffer.from(' ')]) })).load(),
        E.WxpayBadSignatureError,
      );
    } finally {
      c.close();
      certSigner = undefined;
    }
  });

  test('migration: public key and certificates both verify; the download may be signed by the public key', async () => {
    const cert = pool[0];
    certEntries = [cert];
    certSigner = { key: k.wechatPublic.privateKey, serial: k.wechatPublic.keyId };
    const wx = createWxpayV3({
      mchid: k.mchid,
      serialNo: k.merchant.serial,
      privateKey: k.merchant.privateKey,
      apiV3Key: parseApiV3Key(apiV3Text),
      publicKey: { id: k.wechatPublic.keyId, key: k.wechatPublic.publicKey },
      baseURL: base,
    });
    try {
      signWith = { key: k.wechatPublic.privateKey, serial: k.wechatPublic.keyId };
      await wx.client.queryRefund('R1');
      assert.equal(wx.certificates!.downloads, 0, 'public-key responses need no download');
      signWith = cert.signing;
      await wx.client.queryRefund('R1');
      assert.equal(wx.certificates!.downloads, 1);
      assert.ok(wx.verifier instanceof CompositeVerifier);
      // Public-key mode encrypts for the public key.
      assert.equal((await wx.encryptSensitive('x')).serial, k.wechatPublic.keyId);
      const p = wx.paymentParams(k.appid, 'wx123');
      assert.ok(
        rsaVerify(
          'sha256',
          Buffer.from(`${k.appid}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`),
          k.merchant.publicKey,
          Buffer.from(p.paySign, 'base64'),
        ),
      );
    } finally {
      wx.client.close();
      certSigner = undefined;
      signWith = { key: k.wechatPublic.privateKey, serial: k.wechatPublic.keyId };
    }
  });
});
