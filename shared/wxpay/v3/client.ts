// WeChat Pay API v3 over axios: signs every request, verifies every response signature, maps
// failures to typed errors and bounds each call below a cloud function's timeout. Only a verified
// answer yields data or a refusal (WxpayUpstreamError); an unsigned or forged one, success or error,
// is WxpayUnverifiedAnswerError (unavailable: retry), because a refusal makes callers close orders and
// fail refunds. Axios errors are never attached as `cause`: their config
// holds the Authorization header.
// Over 250 lines because every v3 endpoint the kit calls (pay, refund, certificates, bills) goes through
// one signing and verification path here.
import type { AxiosInstance, CreateAxiosDefaults } from 'axios';
import { loadAxios } from '../../http/lazy-axios';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import {
  WxpayConfigError,
  WxpayUnavailableError,
  WxpayUnverifiedAnswerError,
  WxpayUpstreamError,
  type WxpayError,
} from '../errors';
import { retryingStaleConnection } from '../stale-connection';
import { WxpayMalformedJsonError, WxpayVerificationError } from './errors';
import { errorFromResponse } from './http-errors';
import { headerValue, type HeaderBag } from './headers';
import type { RequestSigner } from './signer';
import { Validator } from './validator';
import type { Verifier } from './verifier';
import type {
  CertificatesResponse,
  CreateRefundRequest,
  JsapiPrepayRequest,
  JsapiPrepayResponse,
  Refund,
  Transaction,
} from './types';

export const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';
/** The TCP keep-alive delay axios's http adapter sets on each request's socket (`setKeepAlive(true, 60000)`). */
const AXIOS_SOCKET_KEEPALIVE_MS = 60_000;
/** Below the 10–20 s a payment function typically gets, so it can still answer the mini-program. */
export const DEFAULT_TIMEOUT_MS = 5000;

export interface WxpayV3ClientOptions {
  signer: RequestSigner;
  /** Verifies response signatures (CompositeVerifier / CertificateStore / PublicKeyVerifier). */
  verifier: Verifier;
  /** WXPAY_BASE_URL. */
  baseURL?: string;
  timeoutMs?: number;
  clock?: () => number;
  userAgent?: string;
}

export interface RawResponse {
  status: number;
  headers: HeaderBag;
  body: Buffer;
}

export interface CallOptions {
  /** Extra request headers, e.g. Wechatpay-Serial when a body carries OAEP-encrypted fields. */
  headers?: Record<string, string>;
}

export class WxpayV3Client {
  readonly mchid: string;
  readonly baseURL: string;
  readonly timeoutMs: number;
  readonly validator: Validator;
  private readonly signer: RequestSigner;
  private readonly pathPrefix: string;
  private readonly httpDefaults: CreateAxiosDefaults;
  private httpInstance: AxiosInstance | undefined;
  private readonly agents: Array<HttpAgent | HttpsAgent>;

  constructor(opts: WxpayV3ClientOptions) {
    this.signer = opts.signer;
    this.mchid = opts.signer.mchid;
    this.validator = new Validator({ verifier: opts.verifier, ...(opts.clock ? { clock: opts.clock } : {}) });
    const base = opts.baseURL ?? DEFAULT_BASE_URL;
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new WxpayConfigError(
        `WXPAY_BASE_URL is not a URL; use ${DEFAULT_BASE_URL} (or the local simulator's http://127.0.0.1:<port>)`,
        'WXPAY_BASE_URL',
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new WxpayConfigError('WXPAY_BASE_URL must be an http(s) URL', 'WXPAY_BASE_URL');
    this.baseURL = url.origin;
    // WeChat verifies the signature over the path it receives; sign the full path we send.
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0))
      throw new WxpayConfigError('the WeChat Pay client timeout must be a positive number of milliseconds');
    // axios sets TCP keep-alive to 60 s on the socket of every request and the agent set it back to its
    // own 1 s when the socket returned to the pool: eight setsockopt calls per WeChat Pay call (strace).
    // With the same 60 s here Node sees no change and makes none.
    const keepAliveMsecs = AXIOS_SOCKET_KEEPALIVE_MS;
    const httpAgent = new HttpAgent({ keepAlive: true, keepAliveMsecs, maxSockets: 16 });
    const httpsAgent = new HttpsAgent({ keepAlive: true, keepAliveMsecs, maxSockets: 16 });
    this.agents = [httpAgent, httpsAgent];
    this.httpDefaults = {
      baseURL: this.baseURL,
      timeout: this.timeoutMs,
      responseType: 'arraybuffer',
      // Our own bytes go out and raw bytes come back: the signatures cover exactly those.
      transformRequest: [(d: unknown) => d],
      transformResponse: [(d: unknown) => d],
      validateStatus: () => true,
      // WeChat's answers are a few KiB (the certificate list the largest); anything huge is not WeChat.
      maxContentLength: 4 << 20,
      maxRedirects: 0,
      proxy: false,
      decompress: true,
      httpAgent,
      httpsAgent,
      headers: { Accept: 'application/json', 'User-Agent': opts.userAgent ?? 'wxcloud-pay/0.1 (+node)' },
    };
  }

  private get http(): AxiosInstance {
    return (this.httpInstance ??= loadAxios().create(this.httpDefaults));
  }

  /**
   * Signs and sends; resolves with the raw answer whatever its status, rejects only when there is
   * no answer (WxpayUnavailableError: timeout or network).
   */
  async send(
    method: 'GET' | 'POST',
    pathWithQuery: string,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<RawResponse> {
    const fullPath = this.pathPrefix + pathWithQuery;
    const payload = body === undefined ? '' : JSON.stringify(body);
    const what = `${method} ${pathWithQuery.split('?')[0]}`;
    // Signed per attempt: a retry carries a fresh timestamp and nonce, as WeChat expects.
    const attempt = () => {
      const headers: Record<string, string> = {
        ...opts.headers,
        Authorization: this.signer.authorization({ method, pathWithQuery: fullPath, body: payload }),
      };
      if (method === 'POST') headers['Content-Type'] = 'application/json';
      return this.http.request<ArrayBuffer>({
        method,
        url: fullPath,
        data: method === 'POST' ? payload : undefined,
        headers,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    };
    try {
      const res = await retryingStaleConnection(attempt);
      const raw = res.data as unknown;
      const buf = Buffer.isBuffer(raw)
        ? raw
        : raw instanceof ArrayBuffer
          ? Buffer.from(raw)
          : Buffer.from(typeof raw === 'string' ? raw : JSON.stringify(raw ?? ''));
      const h = res.headers as unknown as { toJSON?: () => HeaderBag };
      return {
        status: res.status,
        headers: typeof h.toJSON === 'function' ? h.toJSON() : (res.headers as HeaderBag),
        body: buf,
      };
    } catch (err) {
      throw unavailable(what, err, this.timeoutMs);
    }
  }

  /** Sends, verifies the response signature, maps errors; resolves with the parsed JSON (undefined for 204). */
  async call<T>(
    method: 'GET' | 'POST',
    pathWithQuery: string,
    body?: unknown,
    opts?: CallOptions,
  ): Promise<{ status: number; data: T }> {
    const res = await this.send(method, pathWithQuery, body, opts);
    const what = `${method} ${pathWithQuery.split('?')[0]}`;
    if (res.status < 200 || res.status >= 300) {
      const verdict = errorFromResponse(what, res.status, res.body, headerValue(res.headers, 'request-id'));
      // 5xx / SYSTEM_ERROR mean "retry" whoever wrote them: nothing to prove.
      if (verdict instanceof WxpayUnavailableError) throw verdict;
      // A refusal is final for the caller (an order closed, a refund failed), so it must be WeChat's:
      // WeChat Pay signs its error answers; an unsigned or forged one could come from anyone on the path.
      try {
        await this.validator.validate('response', res.headers, res.body);
      } catch (err) {
        if (err instanceof WxpayVerificationError) throw unverifiedAnswer(what, res, verdict, err);
        throw err;
      }
      throw verdict;
    }
    try {
      await this.validator.validate('response', res.headers, res.body);
    } catch (err) {
      if (err instanceof WxpayVerificationError) throw unverifiedAnswer(what, res, undefined, err);
      throw err;
    }
    if (res.body.length === 0) return { status: res.status, data: undefined as T };
    try {
      return { status: res.status, data: JSON.parse(res.body.toString('utf8')) as T };
    } catch (cause) {
      throw new WxpayMalformedJsonError('response', `body of ${what}`, cause);
    }
  }

  /** Drops kept-alive sockets (tests, graceful shutdown); the client stays usable. */
  close(): void {
    for (const a of this.agents) a.destroy();
  }

  // ---- Endpoints ------------------------------------------------------------------------------

  /** POST /v3/pay/transactions/jsapi → prepay_id (valid for 2 hours). `mchid` defaults to the signer's. */
  async jsapiPrepay(
    req: Omit<JsapiPrepayRequest, 'mchid'> & { mchid?: string },
  ): Promise<JsapiPrepayResponse> {
    return (
      await this.call<JsapiPrepayResponse>('POST', '/v3/pay/transactions/jsapi', {
        ...req,
        mchid: req.mchid ?? this.mchid,
      })
    ).data;
  }

  /** GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid= */
  async queryByOutTradeNo(outTradeNo: string): Promise<Transaction> {
    return (
      await this.call<Transaction>(
        'GET',
        `/v3/pay/transactions/out-trade-no/${seg(outTradeNo)}?mchid=${seg(this.mchid)}`,
      )
    ).data;
  }

  /** GET /v3/pay/transactions/id/{transaction_id}?mchid= */
  async queryByTransactionId(transactionId: string): Promise<Transaction> {
    return (
      await this.call<Transaction>(
        'GET',
        `/v3/pay/transactions/id/${seg(transactionId)}?mchid=${seg(this.mchid)}`,
      )
    ).data;
  }

  /** POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close → 204. */
  async closeOrder(outTradeNo: string): Promise<void> {
    await this.call<void>('POST', `/v3/pay/transactions/out-trade-no/${seg(outTradeNo)}/close`, {
      mchid: this.mchid,
    });
  }

  /** POST /v3/refund/domestic/refunds */
  async createRefund(req: CreateRefundRequest): Promise<Refund> {
    return (await this.call<Refund>('POST', '/v3/refund/domestic/refunds', req)).data;
  }

  /** GET /v3/refund/domestic/refunds/{out_refund_no} */
  async queryRefund(outRefundNo: string): Promise<Refund> {
    return (await this.call<Refund>('GET', `/v3/refund/domestic/refunds/${seg(outRefundNo)}`)).data;
  }

  /**
   * GET /v3/certificates, unverified: the certificate store verifies it with the certificates it
   * carries (bootstrap) or the public key. A non-2xx answer cannot be verified here (the certificates
   * are what is missing), and a download runs inside other calls (a query, a refund) that must not
   * take its failure as their refusal: it is always "unavailable", its claim and hint in the message.
   */
  async downloadCertificates(): Promise<{ headers: HeaderBag; body: Buffer; data: CertificatesResponse }> {
    const res = await this.send('GET', '/v3/certificates');
    if (res.status !== 200) {
      const what = 'GET /v3/certificates';
      const verdict = errorFromResponse(what, res.status, res.body, headerValue(res.headers, 'request-id'));
      if (verdict instanceof WxpayUnavailableError) throw verdict;
      const claimed = verdict instanceof WxpayUpstreamError ? verdict.upstreamCode : undefined;
      const err = new WxpayUnverifiedAnswerError(
        `the platform certificate download failed: ${verdict.message}`,
        res.status,
        claimed,
      );
      if (verdict.requestId) err.requestId = verdict.requestId;
      throw err;
    }
    try {
      return {
        headers: res.headers,
        body: res.body,
        data: JSON.parse(res.body.toString('utf8')) as CertificatesResponse,
      };
    } catch (cause) {
      throw new WxpayMalformedJsonError('certificate download', 'body of GET /v3/certificates', cause);
    }
  }

  // ---- Bills (申请交易账单 / 申请资金账单 / 下载账单) ----------------------------------------------

  /** GET /v3/bill/tradebill: where the day's trade bill (gzip) can be downloaded, and its SHA1. */
  async applyTradeBill(
    billDate: string,
    billType: 'ALL' | 'SUCCESS' | 'REFUND' = 'ALL',
  ): Promise<BillLocation> {
    return (
      await this.call<BillLocation>(
        'GET',
        `/v3/bill/tradebill?bill_date=${seg(billDate)}&bill_type=${billType}&tar_type=GZIP`,
      )
    ).data;
  }

  /** GET /v3/bill/fundflowbill: the day's fund-flow bill of one account (gzip), and its SHA1. */
  async applyFundFlowBill(
    billDate: string,
    accountType: 'BASIC' | 'OPERATION' | 'FEES' = 'BASIC',
  ): Promise<BillLocation> {
    return (
      await this.call<BillLocation>(
        'GET',
        `/v3/bill/fundflowbill?bill_date=${seg(billDate)}&account_type=${accountType}&tar_type=GZIP`,
      )
    ).data;
  }

  /**
   * GET the `download_url` of a bill, signed like every request, as a stream of the file's bytes.
   * WeChat does not sign this answer (documented): the caller checks the bytes against hash_value.
   * Only URLs on WXPAY_BASE_URL's origin are followed, so the Authorization header never leaves it.
   */
  async downloadBill(downloadUrl: string, timeoutMs = BILL_DOWNLOAD_IDLE_TIMEOUT_MS): Promise<Readable> {
    let url: URL;
    try {
      url = new URL(downloadUrl.trim());
    } catch {
      throw new WxpayUnavailableError(
        'WeChat Pay answered a bill download_url that is not a URL; request the bill again',
        'server-error',
      );
    }
    if (url.origin !== this.baseURL)
      throw new WxpayUnavailableError(
        `the bill download_url is on ${url.origin}, not on WXPAY_BASE_URL (${this.baseURL}); refusing to send the merchant signature elsewhere`,
        'server-error',
      );
    const pathWithQuery = url.pathname + url.search;
    const what = `GET ${url.pathname}`;
    let res;
    try {
      res = await retryingStaleConnection(() =>
        this.http.request<Readable>({
          method: 'GET',
          url: pathWithQuery,
          headers: {
            Accept: '*/*',
            Authorization: this.signer.authorization({ method: 'GET', pathWithQuery }),
          },
          responseType: 'stream',
          // The file is gzip as such (tar_type=GZIP), not a transfer encoding: keep its bytes.
          decompress: false,
          // Idle time between bytes, not a bound on the whole file: a big bill takes as long as it takes.
          timeout: timeoutMs,
          maxContentLength: Infinity,
        }),
      );
    } catch (err) {
      throw unavailable(what, err, timeoutMs);
    }
    const stream = res.data;
    if (res.status !== 200) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of stream) {
        size += (c as Buffer).length;
        if (size > 64 * 1024) break;
        chunks.push(c as Buffer);
      }
      stream.destroy();
      const h = res.headers as unknown as { toJSON?: () => HeaderBag };
      const headers = typeof h.toJSON === 'function' ? h.toJSON() : (res.headers as HeaderBag);
      throw errorFromResponse(what, res.status, Buffer.concat(chunks), headerValue(headers, 'request-id'));
    }
    return stream;
  }
}

function seg(s: string): string {
  return encodeURIComponent(s);
}

/** A bill's download address and the digest of its content (申请账单 answer). */
export interface BillLocation {
  download_url: string;
  /** SHA1 (the only type WeChat documents). */
  hash_type: string;
  /** Hex digest of the bill as decompressed (hash_value is documented over the original, un-gzipped file). */
  hash_value: string;
}

/** A bill download may stall this long between two chunks before it is given up. */
export const BILL_DOWNLOAD_IDLE_TIMEOUT_MS = 30_000;

const TIMEOUT_CODES = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'ERR_CANCELED',
  'ABORT_ERR',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function unavailable(what: string, err: unknown, timeoutMs: number): WxpayUnavailableError {
  const code = (err as { code?: unknown })?.code;
  const c = typeof code === 'string' ? code : 'ERR_NETWORK';
  if (TIMEOUT_CODES.has(c) || (err as { name?: unknown })?.name === 'TimeoutError') {
    return new WxpayUnavailableError(
      `WeChat Pay did not answer ${what} within ${timeoutMs} ms; safe to retry with the same out_trade_no / out_refund_no`,
      'timeout',
    );
  }
  return new WxpayUnavailableError(
    `WeChat Pay is unreachable for ${what} (${c}); check WXPAY_BASE_URL and the network, then retry`,
    'network',
  );
}

/**
 * An answer that does not verify is not WeChat's: neither data nor a refusal, but "unavailable"
 * (retry with the same out_* number). The verification error stays the `cause`. WeChat Pay leaves
 * unsigned only the answers to requests it could not authenticate (401 SIGN_ERROR), hence the hint
 * for a persistent 401.
 */
function unverifiedAnswer(
  what: string,
  res: RawResponse,
  claimed: WxpayError | undefined,
  why: WxpayVerificationError,
): WxpayUnverifiedAnswerError {
  const code = claimed instanceof WxpayUpstreamError ? claimed.upstreamCode : undefined;
  const how = Validator.isSigned(res.headers)
    ? `its signature does not verify (${why.message})`
    : 'it is not signed';
  const fix =
    res.status === 401
      ? 'if it persists, WeChat Pay cannot authenticate our requests: check WXPAY_MCHID, WXPAY_SERIAL_NO and WXPAY_PRIVATE_KEY'
      : 'if it persists, check that WXPAY_BASE_URL reaches WeChat Pay directly (a proxy or gateway answering in its place does not sign)';
  const err = new WxpayUnverifiedAnswerError(
    `WeChat Pay's answer to ${what} (HTTP ${res.status}${code ? ` ${code}` : ''}) is not trusted because ${how}; retry with the same out_trade_no / out_refund_no; ${fix}`,
    res.status,
    code,
    { cause: why },
  );
  const requestId = headerValue(res.headers, 'request-id');
  if (requestId && /^[\w.-]{1,128}$/.test(requestId)) {
    err.requestId = requestId;
    err.message += ` [Request-ID ${requestId}]`;
  }
  return err;
}
