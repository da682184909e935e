// WeChat Pay v2 (legacy XML API) client over axios: signs each request, verifies the response sign,
// checks return_code, and maps result_code/err_code to the shared WxpayError classes (refused vs
// unavailable-and-retryable). Only an answer whose sign verifies is data or a refusal; anything else
// (another HTTP status, an unsigned return_code FAIL, a bad sign) is WxpayUnverifiedAnswerError. /secapi/ paths over https present the merchant API certificate; the
// choice depends only on the URL scheme and on whether a certificate was configured.
// Over 250 lines because it holds the v2 endpoints with their XML field mappings and result-code tables; a
// candidate to split per endpoint.
import { Agent as HttpsAgent } from 'node:https';
import { Readable } from 'node:stream';
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { AxiosInstance, AxiosResponse, CreateAxiosDefaults } from 'axios';
import { loadAxios } from '../../http/lazy-axios';
import { ConfigError } from '../../config/errors';
import {
  WxpayRateLimitedError,
  WxpayUnavailableError,
  WxpayUnverifiedAnswerError,
  WxpayUpstreamError,
} from '../errors';
import { retryingStaleConnection } from '../stale-connection';
import { WxpayV2SignatureError } from './errors';
import { newV2Nonce } from './pay-sign';
import { signV2, verifyV2Sign, type V2Fields, type V2Key, type V2SignType } from './sign';
import { buildV2Xml, parseV2Xml } from './xml';

export interface V2ClientConfig {
  appid: string;
  mchid: string;
  /** e.g. https://api.mch.weixin.qq.com, or the local simulator's http URL; no trailing slash. */
  baseUrl: string;
  apiV2Key: V2Key;
  signType: V2SignType;
}

export interface V2ClientOptions {
  /** The merchant API certificate and its key, for /secapi/ paths over https (config.v2ClientCertificate()). */
  clientCertificate?: { privateKey: KeyObject; certificate: X509Certificate };
  /** Extra trust anchors for the server certificate (a private CA in front of the API); default: Node's. */
  serverCa?: string | Buffer;
  /** Whole-request deadline; default 10 s (WeChat answers in well under 1 s). */
  timeoutMs?: number;
  nonce?: () => string;
}

export type V2Response = Record<string, string>;

export interface V2UnifiedOrderInput {
  outTradeNo: string;
  /** Fen. */
  totalFee: number;
  /** Shown to the payer, e.g. "Shop-2 items". */
  body: string;
  openid: string;
  notifyUrl: string;
  /** The payer's IP as the platform saw it; WeChat requires a value. */
  spbillCreateIp?: string;
  timeExpire?: Date;
  attach?: string;
}

export interface V2UnifiedOrderResult {
  prepayId: string;
  raw: V2Response;
}

export type V2TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

export interface V2OrderQueryResult {
  tradeState: V2TradeState;
  tradeStateDesc?: string;
  outTradeNo: string;
  transactionId?: string;
  openid?: string;
  /** Fen; present once the order has been paid. */
  totalFee?: number;
  cashFee?: number;
  /** yyyyMMddHHmmss, Beijing time. */
  timeEnd?: string;
  raw: V2Response;
}

export interface V2RefundInput {
  outTradeNo: string;
  outRefundNo: string;
  /** Fen: the order's total. */
  totalFee: number;
  /** Fen: this refund. */
  refundFee: number;
  refundDesc?: string;
  notifyUrl?: string;
}

export interface V2RefundResult {
  refundId: string;
  outRefundNo: string;
  outTradeNo: string;
  transactionId?: string;
  refundFee: number;
  totalFee: number;
  raw: V2Response;
}

export type V2RefundStatus = 'SUCCESS' | 'REFUNDCLOSE' | 'PROCESSING' | 'CHANGE';

export interface V2RefundQueryItem {
  outRefundNo: string;
  refundId: string;
  refundFee: number;
  status: V2RefundStatus;
  /** "yyyy-MM-dd HH:mm:ss", Beijing time. */
  successTime?: string;
  recvAccount?: string;
}

export interface V2RefundQueryResult {
  outTradeNo: string;
  transactionId?: string;
  totalFee: number;
  refunds: V2RefundQueryItem[];
  raw: V2Response;
}

/** err_codes after which the same request may simply be sent again. */
const RETRYABLE = new Set(['SYSTEMERROR', 'BIZERR_NEED_RETRY']);
const MAX_RESPONSE_BYTES = 256 * 1024;

/** yyyyMMddHHmmss in Beijing time (UTC+8), as v2 time fields are written. */
export function v2Time(at: Date): string {
  const d = new Date(at.getTime() + 8 * 3600_000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function fen(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new TypeError(`${name} must be a positive integer number of fen`);
  return value;
}

function intField(raw: V2Response, name: string, path: string): number {
  const v = raw[name];
  if (v === undefined || !/^\d+$/.test(v))
    throw new WxpayUnavailableError(
      `WeChat Pay v2 ${path} answered without a valid ${name}`,
      'server-error',
      200,
    );
  return Number(v);
}

function optionalInt(raw: V2Response, name: string): number | undefined {
  const v = raw[name];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

function textField(raw: V2Response, name: string, path: string): string {
  const v = raw[name];
  if (!v)
    throw new WxpayUnavailableError(`WeChat Pay v2 ${path} answered without ${name}`, 'server-error', 200);
  return v;
}

function pick<T extends object>(target: T, values: Partial<Record<keyof T, string | number | undefined>>): T {
  for (const [k, v] of Object.entries(values))
    if (v !== undefined && v !== '') (target as Record<string, unknown>)[k] = v;
  return target;
}

export class V2Client {
  readonly #config: V2ClientConfig;
  readonly #options: V2ClientOptions;
  readonly #httpDefaults: CreateAxiosDefaults;
  #httpInstance: AxiosInstance | undefined;
  #serverAgent: HttpsAgent | undefined;
  #certificateAgent: HttpsAgent | undefined;

  constructor(config: V2ClientConfig, options: V2ClientOptions = {}) {
    this.#config = config;
    this.#options = options;
    this.#httpDefaults = {
      baseURL: config.baseUrl,
      timeout: options.timeoutMs ?? 10_000,
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxContentLength: MAX_RESPONSE_BYTES,
      maxRedirects: 0,
      proxy: false,
      headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml' },
    };
  }

  get #http(): AxiosInstance {
    return (this.#httpInstance ??= loadAxios().create(this.#httpDefaults));
  }

  #httpsAgent(path: string): HttpsAgent | undefined {
    if (!this.#config.baseUrl.startsWith('https:')) return undefined;
    const secure = path.startsWith('/secapi/');
    if (!secure && this.#options.serverCa === undefined) return undefined;
    if (secure && !this.#options.clientCertificate) {
      // A deployment problem, reported like every other one (the envelope's INTERNAL, naming the variable).
      throw new ConfigError(
        'WXPAY_MERCHANT_CERT',
        `WXPAY_MERCHANT_CERT is not set; WeChat Pay v2 ${path} over https needs the merchant API certificate: set it to apiclient_cert.pem and WXPAY_PRIVATE_KEY to apiclient_key.pem`,
      );
    }
    if (!secure)
      return (this.#serverAgent ??= new HttpsAgent({ keepAlive: true, ca: this.#options.serverCa }));
    const cert = this.#options.clientCertificate!;
    // One agent per client: the PEM export and TLS context setup happen once per instance.
    return (this.#certificateAgent ??= new HttpsAgent({
      keepAlive: true,
      key: cert.privateKey.export({ type: 'pkcs8', format: 'pem' }),
      cert: cert.certificate.toString(),
      ...(this.#options.serverCa !== undefined ? { ca: this.#options.serverCa } : {}),
    }));
  }

  /** Signs and sends `fields` to `path`, returns the verified response fields (result_code SUCCESS). */
  async request(path: string, fields: V2Fields): Promise<V2Response> {
    const { appid, mchid, apiV2Key, signType } = this.#config;
    const message: Record<string, string | number | undefined> = {
      appid,
      mch_id: mchid,
      nonce_str: (this.#options.nonce ?? newV2Nonce)(),
      sign_type: signType,
      ...fields,
    };
    message.sign = signV2(message, apiV2Key, signType);
    const httpsAgent = this.#httpsAgent(path);
    // axios' timeout is per socket inactivity; the signal bounds the whole exchange.
    const timeoutMs = this.#options.timeoutMs ?? 10_000;

    let response: AxiosResponse<string>;
    try {
      response = await retryingStaleConnection(() =>
        this.#http.post<string>(path, buildV2Xml(message), {
          httpsAgent,
          signal: AbortSignal.timeout(timeoutMs),
        }),
      );
    } catch (err) {
      // Never pass the axios error on: its config holds the request. Only its class of failure matters.
      const code = (err as { code?: unknown }).code;
      const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === 'ERR_CANCELED';
      throw new WxpayUnavailableError(
        timedOut
          ? `WeChat Pay v2 ${path} did not answer within ${timeoutMs} ms; retry the same request`
          : `WeChat Pay v2 ${path} could not be reached (${typeof code === 'string' ? code : 'network error'}); check WXPAY_BASE_URL and retry`,
        timedOut ? 'timeout' : 'network',
      );
    }
    if (response.status >= 500)
      throw new WxpayUnavailableError(
        `WeChat Pay v2 ${path} answered HTTP ${response.status}; retry the same request`,
        'server-error',
        response.status,
      );
    if (response.status !== 200) {
      // v2 answers every request with HTTP 200 and XML: anything else was not written by WeChat Pay.
      throw new WxpayUnverifiedAnswerError(
        `WeChat Pay v2 ${path} answered HTTP ${response.status}, which is not a WeChat Pay answer (those are HTTP 200 XML) and is not taken as a refusal; retry the same request; if it persists, check WXPAY_BASE_URL`,
        response.status,
        `HTTP_${response.status}`,
      );
    }
    const raw = parseV2Xml(typeof response.data === 'string' ? response.data : '', {
      maxBytes: MAX_RESPONSE_BYTES,
    });
    // Some v2 endpoints answer MD5 whatever the request used (wechatpay-axios-plugin tells them apart
    // the same way): the sign's length names the algorithm; both are keyed with the API v2 key.
    const answerType: V2SignType = raw.sign?.length === 64 ? 'HMAC-SHA256' : 'MD5';
    const signed = verifyV2Sign(raw, apiV2Key, answerType);

    if (raw.return_code !== 'SUCCESS') {
      const msg = (raw.return_msg ?? '').slice(0, 128);
      if (/SYSTEMERROR|系统繁忙|系统错误/.test(msg))
        throw new WxpayUnavailableError(
          `WeChat Pay v2 ${path} is busy (${msg}); retry the same request`,
          'system-error',
          200,
          'SYSTEMERROR',
        );
      const hint = /签名|sign/i.test(msg)
        ? ' — check that WXPAY_APIV2_KEY and WXPAY_V2_SIGN_TYPE match 商户平台'
        : /appid|mch_id/i.test(msg)
          ? ' — check WX_APPID and WXPAY_MCHID'
          : '';
      const code = /^[A-Z_]+$/.test(msg) ? msg : 'FAIL';
      // WeChat Pay does not sign return_code FAIL ("the request was not processed": bad sign, bad
      // XML, missing parameter), so anyone between us and WeChat can write one. Taken as a refusal
      // it would fail a refund that WeChat may have performed on an earlier attempt; as "unavailable"
      // it costs only a retry, which repeats the same FAIL when it was genuine. Only a FAIL whose sign
      // verifies (never seen from WeChat, but then provably its own) is a refusal.
      if (!signed) {
        throw new WxpayUnverifiedAnswerError(
          `WeChat Pay v2 ${path} answered return_code FAIL (${msg || 'no return_msg'}) without a valid sign, so it is not taken as a refusal; retry the same request; if it persists${hint || ', check WXPAY_BASE_URL'}`,
          200,
          code,
        );
      }
      throw new WxpayUpstreamError(
        `WeChat Pay v2 ${path} refused the request: ${msg || 'return_code FAIL'}${hint}`,
        200,
        code,
      );
    }
    if (!signed) {
      throw new WxpayUnverifiedAnswerError(
        `WeChat Pay v2 ${path} answered with a sign that does not verify with WXPAY_APIV2_KEY, so neither its data nor its result_code is used; retry the same request; if it persists, check the key, or what between you and WeChat Pay alters the answer`,
        200,
        raw.result_code === 'SUCCESS' ? undefined : raw.err_code || 'FAIL',
        {
          cause: new WxpayV2SignatureError(
            'response',
            `the sign of the ${path} answer does not verify with WXPAY_APIV2_KEY`,
          ),
        },
      );
    }
    if (raw.result_code !== 'SUCCESS') {
      const errCode = raw.err_code || 'FAIL';
      const text = `WeChat Pay v2 ${path} answered ${errCode}${raw.err_code_des ? ` (${raw.err_code_des.slice(0, 128)})` : ''}`;
      if (RETRYABLE.has(errCode))
        throw new WxpayUnavailableError(`${text}; retry the same request`, 'system-error', 200, errCode);
      if (errCode === 'FREQUENCY_LIMITED')
        throw new WxpayRateLimitedError(`${text}; slow down and retry later`, 200, errCode);
      throw new WxpayUpstreamError(
        text,
        200,
        errCode,
        raw.err_code_des ? { err_code_des: raw.err_code_des } : undefined,
      );
    }
    return raw;
  }

  /** /pay/unifiedorder with trade_type JSAPI: the prepay_id for wx.requestPayment. */
  async unifiedOrder(input: V2UnifiedOrderInput): Promise<V2UnifiedOrderResult> {
    const path = '/pay/unifiedorder';
    const raw = await this.request(path, {
      body: input.body,
      out_trade_no: input.outTradeNo,
      total_fee: fen(input.totalFee, 'totalFee'),
      spbill_create_ip: input.spbillCreateIp || '127.0.0.1',
      notify_url: input.notifyUrl,
      trade_type: 'JSAPI',
      openid: input.openid,
      time_expire: input.timeExpire ? v2Time(input.timeExpire) : undefined,
      attach: input.attach,
    });
    return { prepayId: textField(raw, 'prepay_id', path), raw };
  }

  async orderQuery(input: { outTradeNo: string }): Promise<V2OrderQueryResult> {
    const path = '/pay/orderquery';
    const raw = await this.request(path, { out_trade_no: input.outTradeNo });
    return pick<V2OrderQueryResult>(
      {
        tradeState: textField(raw, 'trade_state', path) as V2TradeState,
        outTradeNo: textField(raw, 'out_trade_no', path),
        raw,
      },
      {
        tradeStateDesc: raw.trade_state_desc,
        transactionId: raw.transaction_id,
        openid: raw.openid,
        totalFee: optionalInt(raw, 'total_fee'),
        cashFee: optionalInt(raw, 'cash_fee'),
        timeEnd: raw.time_end,
      },
    );
  }

  async closeOrder(input: { outTradeNo: string }): Promise<void> {
    await this.request('/pay/closeorder', { out_trade_no: input.outTradeNo });
  }

  /** /secapi/pay/refund (merchant certificate over https). */
  async refund(input: V2RefundInput): Promise<V2RefundResult> {
    const path = '/secapi/pay/refund';
    const raw = await this.request(path, {
      out_trade_no: input.outTradeNo,
      out_refund_no: input.outRefundNo,
      total_fee: fen(input.totalFee, 'totalFee'),
      refund_fee: fen(input.refundFee, 'refundFee'),
      refund_desc: input.refundDesc,
      notify_url: input.notifyUrl,
    });
    return pick<V2RefundResult>(
      {
        refundId: textField(raw, 'refund_id', path),
        outRefundNo: textField(raw, 'out_refund_no', path),
        outTradeNo: textField(raw, 'out_trade_no', path),
        refundFee: intField(raw, 'refund_fee', path),
        totalFee: intField(raw, 'total_fee', path),
        raw,
      },
      { transactionId: raw.transaction_id },
    );
  }

  async refundQuery(input: { outRefundNo: string }): Promise<V2RefundQueryResult> {
    const path = '/pay/refundquery';
    const raw = await this.request(path, { out_refund_no: input.outRefundNo });
    const count = intField(raw, 'refund_count', path);
    const refunds: V2RefundQueryItem[] = [];
    for (let i = 0; i < Math.min(count, 50); i++) {
      refunds.push(
        pick<V2RefundQueryItem>(
          {
            outRefundNo: textField(raw, `out_refund_no_${i}`, path),
            refundId: textField(raw, `refund_id_${i}`, path),
            refundFee: intField(raw, `refund_fee_${i}`, path),
            status: textField(raw, `refund_status_${i}`, path) as V2RefundStatus,
          },
          { successTime: raw[`refund_success_time_${i}`], recvAccount: raw[`refund_recv_accout_${i}`] },
        ),
      );
    }
    return pick<V2RefundQueryResult>(
      {
        outTradeNo: textField(raw, 'out_trade_no', path),
        totalFee: intField(raw, 'total_fee', path),
        refunds,
        raw,
      },
      { transactionId: raw.transaction_id },
    );
  }

  /**
   * /pay/downloadbill with tar_type GZIP: the day's trade bill (`billDate` yyyyMMdd) as a stream of
   * gzip bytes. WeChat answers XML with return_code FAIL instead when there is no bill (yet):
   * WxpayUpstreamError with upstreamCode NO_BILL_EXIST / BILL_CREATING. v2 bills carry no hash.
   */
  async downloadBill(input: {
    billDate: string;
    billType?: 'ALL' | 'SUCCESS' | 'REFUND';
  }): Promise<Readable> {
    const path = '/pay/downloadbill';
    const { appid, mchid, apiV2Key, signType } = this.#config;
    const message: Record<string, string | number | undefined> = {
      appid,
      mch_id: mchid,
      nonce_str: (this.#options.nonce ?? newV2Nonce)(),
      sign_type: signType,
      bill_date: input.billDate,
      bill_type: input.billType ?? 'ALL',
      tar_type: 'GZIP',
    };
    message.sign = signV2(message, apiV2Key, signType);
    const idleMs = Math.max(this.#options.timeoutMs ?? 10_000, 30_000);
    let response: AxiosResponse<Readable>;
    try {
      response = await retryingStaleConnection(() =>
        this.#http.post<Readable>(path, buildV2Xml(message), {
          httpsAgent: this.#httpsAgent(path),
          responseType: 'stream',
          decompress: false,
          timeout: idleMs,
          maxContentLength: Infinity,
        }),
      );
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new WxpayUnavailableError(
        `WeChat Pay v2 ${path} could not be reached (${typeof code === 'string' ? code : 'network error'}); check WXPAY_BASE_URL and retry`,
        code === 'ECONNABORTED' || code === 'ETIMEDOUT' ? 'timeout' : 'network',
      );
    }
    const body = response.data;
    const it = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await it.next();
    const head = first.done ? Buffer.alloc(0) : first.value;
    if (response.status === 200 && head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      return Readable.from(
        (async function* () {
          yield head;
          for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
        })(),
        { objectMode: false },
      );
    }
    // Not a bill: an XML refusal (small), read whole and mapped like every other v2 failure.
    const chunks = [head];
    let size = head.length;
    for (let n = await it.next(); !n.done && size <= MAX_RESPONSE_BYTES; n = await it.next()) {
      chunks.push(n.value);
      size += n.value.length;
    }
    body.destroy();
    if (response.status >= 500)
      throw new WxpayUnavailableError(
        `WeChat Pay v2 ${path} answered HTTP ${response.status}; retry the same request`,
        'server-error',
        response.status,
      );
    let raw: V2Response;
    try {
      raw = parseV2Xml(Buffer.concat(chunks).toString('utf8'), { maxBytes: MAX_RESPONSE_BYTES });
    } catch {
      throw new WxpayUnavailableError(
        `WeChat Pay v2 ${path} answered neither a gzip bill nor XML; retry later`,
        'server-error',
        response.status,
      );
    }
    const msg = (raw.return_msg ?? '').slice(0, 128);
    if (/SYSTEMERROR|系统/.test(msg))
      throw new WxpayUnavailableError(
        `WeChat Pay v2 ${path} is busy (${msg}); retry later`,
        'system-error',
        200,
        'SYSTEMERROR',
      );
    const upstreamCode =
      /^[A-Za-z ]+$/.test(msg) && msg ? msg.trim().toUpperCase().replace(/ +/g, '_') : 'FAIL';
    throw new WxpayUpstreamError(
      `WeChat Pay v2 ${path} has no bill for ${input.billDate}: ${msg || 'return_code FAIL'}${raw.error_code ? ` (error_code ${raw.error_code})` : ''}`,
      200,
      upstreamCode,
    );
  }
}

export function createV2Client(config: V2ClientConfig, options?: V2ClientOptions): V2Client {
  return new V2Client(config, options);
}
