// The v2 client against a tiny real WeChat-Pay-v2-like server (node:http / node:https) that checks
// requests with the third-party wechatpay-axios-plugin's Hash.sign and parses them with
// fast-xml-parser, so nothing on the server side is our own code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { XMLParser } from 'fast-xml-parser';
import { Hash } from 'wechatpay-axios-plugin';
import { ensureLocalData, type LocalData } from '../../../local/setup/local-data';
import { createConfig } from '../../config/config';
import { Secret } from '../../config/secret';
import { ConfigError } from '../../config/errors';
import {
  WxpayRateLimitedError,
  WxpayUnavailableError,
  WxpayUnverifiedAnswerError,
  WxpayUpstreamError,
} from '../errors';
import { V2Client, WxpayV2SignatureError, v2Time, type V2SignType } from './index';

const APPID = 'wx0123456789abcdef';
const MCHID = '1900000109';
const KEY = 'Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe';

type Mode =
  | 'ok'
  | 'md5-answer'
  | 'return-fail'
  | 'return-fail-signed'
  | 'bad-sign'
  | 'bad-sign-refusal'
  | 'http-500'
  | 'http-404'
  | 'hang'
  | `err:${string}`
  | 'reset-reused';

interface Seen {
  path: string;
  fields: Record<string, string>;
  signValid: boolean;
  peerSerial?: string;
}

const parser = new XMLParser({ parseTagValue: false, processEntities: true });
const xml = (fields: Record<string, string>) =>
  `<xml>${Object.entries(fields)
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')}</xml>`;

function fakeWxpay(signType: () => V2SignType, state: { mode: Mode; seen: Seen[] }) {
  const sockets = new WeakSet<object>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const reused = sockets.has(req.socket);
    sockets.add(req.socket);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const fields = (parser.parse(body) as { xml: Record<string, string> }).xml;
      const type = signType();
      const signValid =
        fields.sign === Hash.sign((fields.sign_type ?? 'MD5') as V2SignType, fields, KEY) &&
        fields.sign_type === type;
      const socket = req.socket as TLSSocket;
      const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
      state.seen.push({ path: req.url ?? '', fields, signValid, peerSerial: peer?.serialNumber });
      const mode = state.mode;
      if (mode === 'hang') return; // never answers; the client must give up
      // the server closed this kept-alive connection just as the request came in
      if (mode === 'reset-reused' && reused) return void req.socket.destroy();
      if (mode === 'http-500') return void res.writeHead(502).end('<html>bad gateway</html>');
      if (mode === 'http-404') return void res.writeHead(404).end('not found');
      if (mode === 'return-fail' || !signValid)
        return void res.writeHead(200).end(xml({ return_code: 'FAIL', return_msg: '签名错误' }));
      if (mode === 'return-fail-signed') {
        const fail: Record<string, string> = { return_code: 'FAIL', return_msg: 'XML_FORMAT_ERROR' };
        fail.sign = Hash.sign(type, fail, KEY);
        return void res.writeHead(200).end(xml(fail));
      }
      const out: Record<string, string> = {
        return_code: 'SUCCESS',
        return_msg: 'OK',
        appid: APPID,
        mch_id: MCHID,
        nonce_str: 'srvnonce123',
        result_code: 'SUCCESS',
      };
      if (mode.startsWith('err:'))
        Object.assign(out, { result_code: 'FAIL', err_code: mode.slice(4), err_code_des: '描述' });
      else if (mode === 'bad-sign-refusal')
        Object.assign(out, {
          result_code: 'FAIL',
          err_code: 'ORDERNOTEXIST',
          err_code_des: '此交易订单号不存在',
        });
      else if (req.url === '/pay/unifiedorder')
        Object.assign(out, { trade_type: 'JSAPI', prepay_id: `wx_prepay_${fields.out_trade_no}` });
      else if (req.url === '/pay/orderquery')
        Object.assign(out, {
          trade_state: 'SUCCESS',
          out_trade_no: fields.out_trade_no,
          transaction_id: '4200000001',
          openid: 'oPayer_12345',
          total_fee: '2500',
          cash_fee: '2500',
          time_end: '20261125120000',
          trade_state_desc: '支付成功',
        });
      else if (req.url === '/secapi/pay/refund')
        Object.assign(out, {
          refund_id: '50300000001',
          out_refund_no: fields.out_refund_no,
          out_trade_no: fields.out_trade_no,
          transaction_id: '4200000001',
          refund_fee: fields.refund_fee,
          total_fee: fields.total_fee,
          cash_fee: fields.total_fee,
        });
      else if (req.url === '/pay/refundquery')
        Object.assign(out, {
          out_trade_no: 'T1',
          transaction_id: '4200000001',
          total_fee: '2500',
          refund_count: '1',
          out_refund_no_0: fields.out_refund_no,
          refund_id_0: '50300000001',
          refund_fee_0: '1000',
          refund_status_0: 'PROCESSING',
          refund_recv_accout_0: '支付用户的零钱',
        });
      out.sign = Hash.sign(mode === 'md5-answer' ? 'MD5' : type, out, KEY);
      if (mode === 'bad-sign' || mode === 'bad-sign-refusal')
        out.sign = out.sign.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
      res.writeHead(200, { 'content-type': 'text/xml' }).end(xml(out));
    });
  };
}

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });

let signType: V2SignType = 'HMAC-SHA256';
const state: { mode: Mode; seen: Seen[] } = { mode: 'ok', seen: [] };
let httpServer: Server;
let baseUrl: string;

before(async () => {
  httpServer = createServer(fakeWxpay(() => signType, state));
  baseUrl = `http://127.0.0.1:${await listen(httpServer)}`;
});
after(() => close(httpServer));

const client = (opts: { timeoutMs?: number; type?: V2SignType } = {}) =>
  new V2Client(
    { appid: APPID, mchid: MCHID, baseUrl, apiV2Key: new Secret(KEY), signType: opts.type ?? signType },
    { timeoutMs: opts.timeoutMs ?? 2_000 },
  );

async function rejectsWith<T extends Error>(
  p: Promise<unknown>,
  cls: new (...a: never[]) => T,
  check: (e: T) => boolean = () => true,
): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${inspect(err)}`);
    assert.ok(check(err), `unexpected ${inspect(err)}`);
    assert.ok(!inspect(err, { depth: 10 }).includes(KEY), 'errors never carry the API v2 key');
    return err;
  }
  assert.fail(`expected ${cls.name}`);
}

describe('v2 client over http', () => {
  for (const type of ['HMAC-SHA256', 'MD5'] as const) {
    test(`${type}: unifiedorder sends a signed JSAPI order and returns the prepay_id`, async () => {
      signType = type;
      state.mode = 'ok';
      state.seen = [];
      const expire = new Date(Date.UTC(2026, 10, 25, 4, 5, 6));
      const r = await client({ type }).unifiedOrder({
        outTradeNo: 'T20261125abc',
        totalFee: 2500,
        body: '小店-2件',
        openid: 'oPayer_12345',
        notifyUrl: 'http://127.0.0.1:3000/pay/notify',
        timeExpire: expire,
      });
      assert.equal(r.prepayId, 'wx_prepay_T20261125abc');
      const seen = state.seen[0];
      assert.equal(seen.path, '/pay/unifiedorder');
      assert.equal(seen.signValid, true, 'the third-party signer agrees with our request sign');
      assert.equal(seen.fields.trade_type, 'JSAPI');
      assert.equal(seen.fields.total_fee, '2500');
      assert.equal(seen.fields.body, '小店-2件');
      assert.equal(seen.fields.appid, APPID);
      assert.equal(seen.fields.mch_id, MCHID);
      assert.equal(seen.fields.sign_type, type);
      assert.equal(seen.fields.time_expire, '20261125120506', 'Beijing time');
      assert.match(seen.fields.nonce_str, /^[0-9a-f]{32}$/);
    });
  }

  test('orderquery, closeorder, refund (plain http needs no certificate), refundquery', async () => {
    signType = 'HMAC-SHA256';
    state.mode = 'ok';
    state.seen = [];
    const c = client();
    const q = await c.orderQuery({ outTradeNo: 'T1' });
    assert.deepEqual(
      { ...q, raw: undefined },
      {
        tradeState: 'SUCCESS',
        tradeStateDesc: '支付成功',
        outTradeNo: 'T1',
        transactionId: '4200000001',
        openid: 'oPayer_12345',
        totalFee: 2500,
        cashFee: 2500,
        timeEnd: '20261125120000',
        raw: undefined,
      },
    );
    await c.closeOrder({ outTradeNo: 'T1' });
    const r = await c.refund({
      outTradeNo: 'T1',
      outRefundNo: 'R1',
      totalFee: 2500,
      refundFee: 1000,
      refundDesc: '退货',
    });
    assert.deepEqual(
      { ...r, raw: undefined },
      {
        refundId: '50300000001',
        outRefundNo: 'R1',
        outTradeNo: 'T1',
        transactionId: '4200000001',
        refundFee: 1000,
        totalFee: 2500,
        raw: undefined,
      },
    );
    const rq = await c.refundQuery({ outRefundNo: 'R1' });
    assert.deepEqual(rq.refunds, [
      {
        outRefundNo: 'R1',
        refundId: '50300000001',
        refundFee: 1000,
        status: 'PROCESSING',
        recvAccount: '支付用户的零钱',
      },
    ]);
    assert.equal(rq.totalFee, 2500);
    assert.deepEqual(
      state.seen.map((s) => [s.path, s.signValid, s.peerSerial]),
      [
        ['/pay/orderquery', true, undefined],
        ['/pay/closeorder', true, undefined],
        ['/secapi/pay/refund', true, undefined],
        ['/pay/refundquery', true, undefined],
      ],
    );
    assert.equal(state.seen[2].fields.refund_desc, '退货');
  });

  test('invalid amounts are refused before anything is sent', async () => {
    state.seen = [];
    await assert.rejects(
      client().refund({ outTradeNo: 'T1', outRefundNo: 'R1', totalFee: 2500, refundFee: 10.5 }),
      TypeError,
    );
    await assert.rejects(
      client().unifiedOrder({ outTradeNo: 'T1', totalFee: 0, body: 'x', openid: 'o', notifyUrl: 'http://x' }),
      TypeError,
    );
    assert.equal(state.seen.length, 0);
  });

  test('err_code mapping: refused vs rate-limited vs retryable', async () => {
    signType = 'HMAC-SHA256';
    state.mode = 'err:ORDERPAID';
    const paid = await rejectsWith(
      client().unifiedOrder({
        outTradeNo: 'T2',
        totalFee: 1,
        body: 'x',
        openid: 'oPayer_12345',
        notifyUrl: 'http://127.0.0.1/n',
      }),
      WxpayUpstreamError,
      (e) => e.upstreamCode === 'ORDERPAID',
    );
    assert.ok(!(paid instanceof WxpayRateLimitedError));
    state.mode = 'err:SYSTEMERROR';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T2' }),
      WxpayUnavailableError,
      (e) => e.reason === 'system-error' && e.upstreamCode === 'SYSTEMERROR' && e.retryable,
    );
    state.mode = 'err:BIZERR_NEED_RETRY';
    await rejectsWith(
      client().refund({ outTradeNo: 'T2', outRefundNo: 'R2', totalFee: 2, refundFee: 1 }),
      WxpayUnavailableError,
      (e) => e.upstreamCode === 'BIZERR_NEED_RETRY',
    );
    state.mode = 'err:FREQUENCY_LIMITED';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T2' }),
      WxpayRateLimitedError,
      (e) => e.upstreamCode === 'FREQUENCY_LIMITED',
    );
    state.mode = 'err:ORDERNOTEXIST';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T2' }),
      WxpayUpstreamError,
      (e) => e.upstreamCode === 'ORDERNOTEXIST' && /ORDERNOTEXIST \(描述\)/.test(e.message),
    );
  });

  test('a kept-alive connection reset as it is reused is retried once on a fresh one', async () => {
    state.mode = 'ok';
    state.seen = [];
    const c = client();
    await c.orderQuery({ outTradeNo: 'T-keepalive' });
    state.mode = 'reset-reused';
    const r = await c.orderQuery({ outTradeNo: 'T-keepalive' });
    assert.equal(r.tradeState, 'SUCCESS');
    assert.equal(state.seen.length, 3, 'first call, the reset attempt, its retry');
    state.mode = 'ok';
  });

  test('an unsigned return_code FAIL (wrong key) is no refusal: unverified, retryable, naming the variables to check', async () => {
    state.mode = 'ok';
    const wrongKey = new V2Client({
      appid: APPID,
      mchid: MCHID,
      baseUrl,
      apiV2Key: 'WRONGKEYWRONGKEYWRONGKEYWRONGKEY',
      signType: 'HMAC-SHA256',
    });
    await rejectsWith(
      wrongKey.orderQuery({ outTradeNo: 'T3' }),
      WxpayUnverifiedAnswerError,
      (e) =>
        !((e as unknown) instanceof WxpayUpstreamError) &&
        e.retryable &&
        e.reason === 'unverified' &&
        e.upstreamCode === undefined &&
        /return_code FAIL \(签名错误\) without a valid sign/.test(e.message) &&
        /WXPAY_APIV2_KEY and WXPAY_V2_SIGN_TYPE/.test(e.message) &&
        !e.message.includes('WRONGKEY'),
    );
    // a request signed MD5 while WeChat expects HMAC is answered the same way
    signType = 'HMAC-SHA256';
    await rejectsWith(client({ type: 'MD5' }).orderQuery({ outTradeNo: 'T3' }), WxpayUnverifiedAnswerError);
    // anyone on the path can write a return_code FAIL for a refund: it never fails the refund
    state.mode = 'return-fail';
    await rejectsWith(
      client().refund({ outTradeNo: 'T3', outRefundNo: 'R3', totalFee: 2, refundFee: 1 }),
      WxpayUnavailableError,
      (e) => e.reason === 'unverified' && !((e as unknown) instanceof WxpayUpstreamError),
    );
  });

  test('a return_code FAIL whose sign verifies is WeChat Pay’s refusal', async () => {
    state.mode = 'return-fail-signed';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T3' }),
      WxpayUpstreamError,
      (e) => e.upstreamCode === 'XML_FORMAT_ERROR' && /refused the request: XML_FORMAT_ERROR/.test(e.message),
    );
    state.mode = 'ok';
  });

  test('an MD5-signed answer to an HMAC-SHA256 request verifies (the sign length names the algorithm)', async () => {
    signType = 'HMAC-SHA256';
    state.mode = 'md5-answer';
    assert.equal((await client().orderQuery({ outTradeNo: 'T4' })).tradeState, 'SUCCESS');
  });

  test('an answer whose sign does not verify is unverified (retryable): neither its data nor its refusal is used', async () => {
    state.mode = 'bad-sign';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T4' }),
      WxpayUnverifiedAnswerError,
      (e) =>
        e.retryable &&
        e.cause instanceof WxpayV2SignatureError &&
        e.cause.subject === 'response' &&
        /does not verify with WXPAY_APIV2_KEY/.test(e.message),
    );
    // result_code FAIL ORDERNOTEXIST under a bad sign: not "the order does not exist"
    state.mode = 'bad-sign-refusal';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T4' }),
      WxpayUnverifiedAnswerError,
      (e) => e.claimedCode === 'ORDERNOTEXIST' && e.upstreamCode === undefined,
    );
    state.mode = 'ok';
  });

  test('5xx, 404 and hangs are unavailable (retryable; a 404 names WXPAY_BASE_URL); refused connection is network', async () => {
    state.mode = 'http-500';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T5' }),
      WxpayUnavailableError,
      (e) => e.reason === 'server-error' && e.status === 502,
    );
    state.mode = 'http-404';
    await rejectsWith(
      client().orderQuery({ outTradeNo: 'T5' }),
      WxpayUnverifiedAnswerError,
      (e) => e.status === 404 && e.retryable && /WXPAY_BASE_URL/.test(e.message),
    );
    state.mode = 'hang';
    const started = Date.now();
    await rejectsWith(
      client({ timeoutMs: 300 }).orderQuery({ outTradeNo: 'T5' }),
      WxpayUnavailableError,
      (e) => e.reason === 'timeout' && /300 ms/.test(e.message),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 2_000, `gave up after ${elapsed} ms`);
    const dead = createServer();
    const port = await listen(dead);
    await close(dead);
    const unreachable = new V2Client(
      { appid: APPID, mchid: MCHID, baseUrl: `http://127.0.0.1:${port}`, apiV2Key: KEY, signType: 'MD5' },
      { timeoutMs: 1_000 },
    );
    await rejectsWith(
      unreachable.orderQuery({ outTradeNo: 'T5' }),
      WxpayUnavailableError,
      (e) => e.reason === 'network' && /ECONNREFUSED/.test(e.message),
    );
    state.mode = 'ok';
  });
});

describe('v2 client over https with the merchant client certificate', () => {
  let dir: string;
  let local: LocalData;
  let httpsServer: Server;
  let httpsUrl: string;
  let serverCert: string;
  const tlsState: { mode: Mode; seen: Seen[] } = { mode: 'ok', seen: [] };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wxpay-v2-tls-'));
    local = await ensureLocalData(join(dir, 'local'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'server.key'),
        '-out',
        join(dir, 'server.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    serverCert = readFileSync(join(dir, 'server.crt'), 'utf8');
    httpsServer = createHttpsServer(
      {
        key: readFileSync(join(dir, 'server.key')),
        cert: serverCert,
        ca: local.keys.caCertificate,
        requestCert: true,
        rejectUnauthorized: false,
      },
      fakeWxpay(() => 'HMAC-SHA256', tlsState),
    );
    httpsUrl = `https://127.0.0.1:${await listen(httpsServer)}`;
  });
  after(async () => {
    await close(httpsServer);
    rmSync(dir, { recursive: true, force: true });
  });

  test('refund presents apiclient_cert from config; query paths need no client certificate', async () => {
    const config = createConfig({
      ...local.env,
      WXPAY_API_VERSION: 'v2',
      WXPAY_APIV2_KEY: KEY,
      WXPAY_BASE_URL: httpsUrl,
      WXPAY_MERCHANT_CERT: local.keys.merchantCertificate,
    });
    const pay = config.payV2();
    const c = new V2Client(
      { ...pay, appid: APPID, mchid: MCHID },
      { clientCertificate: config.v2ClientCertificate(), serverCa: serverCert },
    );
    tlsState.seen = [];
    const r = await c.refund({ outTradeNo: 'T9', outRefundNo: 'R9', totalFee: 100, refundFee: 100 });
    assert.equal(r.refundFee, 100);
    await c.orderQuery({ outTradeNo: 'T9' });
    const [refund, query] = tlsState.seen;
    assert.equal(refund.path, '/secapi/pay/refund');
    assert.equal(
      refund.peerSerial?.toUpperCase(),
      local.env.WXPAY_SERIAL_NO,
      'the server saw the merchant certificate',
    );
    assert.equal(refund.signValid, true);
    assert.equal(query.path, '/pay/orderquery');
    assert.equal(query.peerSerial, undefined, 'no client certificate where none is needed');
  });

  test('https refund without a certificate fails before sending, naming WXPAY_MERCHANT_CERT', async () => {
    tlsState.seen = [];
    const c = new V2Client(
      { appid: APPID, mchid: MCHID, baseUrl: httpsUrl, apiV2Key: KEY, signType: 'HMAC-SHA256' },
      { serverCa: serverCert },
    );
    await rejectsWith(
      c.refund({ outTradeNo: 'T9', outRefundNo: 'R9', totalFee: 100, refundFee: 100 }),
      ConfigError,
      (e) => e.variable === 'WXPAY_MERCHANT_CERT' && /apiclient_cert\.pem/.test(e.message),
    );
    assert.equal(tlsState.seen.length, 0);
    // an untrusted server certificate is a network failure, never silently accepted
    const untrusting = new V2Client(
      { appid: APPID, mchid: MCHID, baseUrl: httpsUrl, apiV2Key: KEY, signType: 'HMAC-SHA256' },
      { timeoutMs: 2_000 },
    );
    await rejectsWith(
      untrusting.orderQuery({ outTradeNo: 'T9' }),
      WxpayUnavailableError,
      (e) => e.reason === 'network',
    );
  });

  test('v2Time writes Beijing time', () => {
    assert.equal(v2Time(new Date('2026-12-31T16:00:00Z')), '20270101000000');
  });
});
