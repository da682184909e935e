// wx.login code → openid through WeChat's jscode2session. The request URL carries WX_APPSECRET in its
// query string, so nothing derived from the HTTP exchange (axios errors hold the URL) ever leaves
// this module: failures are rebuilt as typed errors from the errcode or the class of failure only.
// session_key comes back as a non-enumerable Secret: spreads, JSON and console.log never show it.
import type { AxiosResponse } from 'axios';
import { loadAxios } from '../http/lazy-axios';
import type { WechatApiConfig } from '../config/config';
import { ConfigError } from '../config/errors';
import { Secret } from '../config/secret';
import { AppError } from '../domain/errors';

export interface Code2SessionOptions {
  /** Whole-request deadline; default 5 s. */
  timeoutMs?: number;
}

export interface Code2SessionResult {
  openid: string;
  unionid?: string;
  /** Non-enumerable; only for decrypting wx.getPhoneNumber-style payloads. Never store or log it. */
  readonly sessionKey: Secret;
}

/** A jscode2session failure, already in the callable envelope's terms (docs/product.md#login). */
export class WechatApiError extends AppError {
  constructor(
    code: 'INVALID_ARGUMENT' | 'RATE_LIMITED' | 'UPSTREAM_ERROR' | 'UPSTREAM_UNAVAILABLE',
    message: string,
    /** WeChat's errcode when it answered with one. */
    readonly errcode?: number,
  ) {
    super(code, message, errcode === undefined ? undefined : String(errcode));
  }

  get retryable(): boolean {
    return this.code === 'UPSTREAM_UNAVAILABLE' || this.code === 'RATE_LIMITED';
  }
}

interface Jscode2sessionBody {
  openid?: unknown;
  session_key?: unknown;
  unionid?: unknown;
  errcode?: unknown;
  errmsg?: unknown;
}

const CODE = /^[A-Za-z0-9_-]{1,128}$/;

/** errcode → what the caller or the deployer has to do. */
export function jscode2sessionError(errcode: number): WechatApiError | ConfigError {
  switch (errcode) {
    case 40029:
    case 40163:
      return new WechatApiError(
        'INVALID_ARGUMENT',
        `the login code is invalid or was already used (${errcode}); call wx.login again and send the new code`,
        errcode,
      );
    case 45011:
      return new WechatApiError(
        'RATE_LIMITED',
        'too many logins for this user in a short time (45011); wait a minute, then call wx.login again',
        errcode,
      );
    case -1:
      return new WechatApiError(
        'UPSTREAM_UNAVAILABLE',
        'WeChat is busy (-1); retry the login in a moment with a new wx.login code',
        errcode,
      );
    case 40125:
      return new ConfigError(
        'WX_APPSECRET',
        "WeChat rejected WX_APPSECRET (errcode 40125); copy the current AppSecret from 微信公众平台 → 开发管理 → 开发设置 into the login function's environment",
      );
    case 40013:
      return new ConfigError(
        'WX_APPID',
        "WeChat rejected WX_APPID (errcode 40013); set it to the mini-program's AppID from 微信公众平台 → 开发管理 → 开发设置",
      );
    case 40226:
      return new WechatApiError(
        'UPSTREAM_ERROR',
        'WeChat blocked this login for a high-risk user (40226); the user must resolve it in WeChat',
        errcode,
      );
    default:
      return new WechatApiError(
        'UPSTREAM_ERROR',
        `WeChat refused the login (errcode ${errcode}); call wx.login again, and check the mini-program's settings if it persists`,
        errcode,
      );
  }
}

export async function code2Session(
  config: WechatApiConfig,
  code: string,
  options: Code2SessionOptions = {},
): Promise<Code2SessionResult> {
  if (typeof code !== 'string' || !CODE.test(code)) {
    throw new WechatApiError(
      'INVALID_ARGUMENT',
      'code must be the string wx.login returned (letters, digits, - and _, at most 128)',
    );
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  const query = new URLSearchParams({
    appid: config.appid,
    secret: config.appSecret.reveal(),
    js_code: code,
    grant_type: 'authorization_code',
  });
  let response: AxiosResponse<string>;
  try {
    response = await loadAxios().get<string>(`${config.baseUrl}/sns/jscode2session?${query.toString()}`, {
      timeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      validateStatus: () => true,
      maxContentLength: 64 * 1024,
      maxRedirects: 0,
      proxy: false,
    });
  } catch (err) {
    const errCode = (err as { code?: unknown }).code;
    const timedOut = errCode === 'ECONNABORTED' || errCode === 'ETIMEDOUT' || errCode === 'ERR_CANCELED';
    throw new WechatApiError(
      'UPSTREAM_UNAVAILABLE',
      timedOut
        ? `WeChat did not answer the login within ${timeoutMs} ms; retry with a new wx.login code`
        : `WeChat could not be reached for the login (${typeof errCode === 'string' ? errCode : 'network error'}); check WECHAT_API_BASE_URL and retry`,
    );
  }
  if (response.status !== 200) {
    throw new WechatApiError(
      'UPSTREAM_UNAVAILABLE',
      `WeChat answered the login with HTTP ${response.status}; retry with a new wx.login code${response.status < 500 ? ' (check WECHAT_API_BASE_URL)' : ''}`,
    );
  }
  let body: Jscode2sessionBody;
  try {
    body = JSON.parse(typeof response.data === 'string' ? response.data : '') as Jscode2sessionBody;
  } catch {
    throw new WechatApiError(
      'UPSTREAM_UNAVAILABLE',
      'WeChat answered the login with something that is not JSON; retry with a new wx.login code',
    );
  }
  if (body === null || typeof body !== 'object')
    throw new WechatApiError(
      'UPSTREAM_UNAVAILABLE',
      'WeChat answered the login with an unexpected body; retry',
    );
  if (body.errcode !== undefined && body.errcode !== null && Number(body.errcode) !== 0) {
    const errcode = Number(body.errcode);
    if (!Number.isInteger(errcode))
      throw new WechatApiError(
        'UPSTREAM_UNAVAILABLE',
        'WeChat answered the login with a malformed errcode; retry',
      );
    throw jscode2sessionError(errcode);
  }
  if (
    typeof body.openid !== 'string' ||
    body.openid === '' ||
    typeof body.session_key !== 'string' ||
    body.session_key === ''
  ) {
    throw new WechatApiError(
      'UPSTREAM_UNAVAILABLE',
      'WeChat answered the login without openid or session_key; retry with a new wx.login code',
    );
  }
  const result = { openid: body.openid } as Code2SessionResult & { unionid?: string };
  if (typeof body.unionid === 'string' && body.unionid !== '') result.unionid = body.unionid;
  Object.defineProperty(result, 'sessionKey', {
    value: new Secret(body.session_key),
    enumerable: false,
    writable: false,
  });
  return result;
}
