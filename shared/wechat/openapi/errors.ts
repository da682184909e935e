// WeChat server-API errcodes → the callable envelope's codes, with messages that say what to do.
// Token errcodes (40001/42001) never reach here: the client refreshes once and retries first.
import { ConfigError } from '../../config/errors';
import { AppError } from '../../domain/errors';
import type { ErrorCode } from '../../contracts/api';

export class OpenApiError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    /** WeChat's errcode, when WeChat answered with one. */
    readonly errcode?: number,
  ) {
    super(code, message, errcode === undefined ? undefined : String(errcode));
  }

  /** Worth retrying later (reconcile does): WeChat was busy or did not answer. */
  get retryable(): boolean {
    return this.code === 'UPSTREAM_UNAVAILABLE' || this.code === 'RATE_LIMITED';
  }
}

const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);

export function isTokenErrcode(errcode: number): boolean {
  return TOKEN_ERRCODES.has(errcode);
}

const KNOWN: Record<number, [ErrorCode, string]> = {
  [-1]: ['UPSTREAM_UNAVAILABLE', 'WeChat is busy (-1); retry in a moment'],
  45009: [
    'RATE_LIMITED',
    'the daily quota of this WeChat API is used up (45009); retry tomorrow or ask WeChat for more',
  ],
  45011: ['RATE_LIMITED', 'WeChat asks to slow down (45011); retry in a minute'],
  10060001: [
    'NOT_FOUND',
    '支付单不存在 (10060001): WeChat has no paid order with this number for this mini-program; check that the order was paid through this AppID and merchant',
  ],
  10060002: [
    'CONFLICT',
    '支付单已完成发货，无法继续发货 (10060002): the user already confirmed receipt or the order settled',
  ],
  10060003: [
    'CONFLICT',
    '已完成发货，不能再修改 (10060003): WeChat allows one change of shipping info per order and it was used',
  ],
  10060004: [
    'CONFLICT',
    '支付单处于不可发货的状态 (10060004): the order was refunded or is under complaint; do not ship it',
  ],
  10060005: [
    'INVALID_ARGUMENT',
    '物流模式有误 (10060005): logistics_type must be 1 express, 2 local delivery, 3 virtual or 4 pickup',
  ],
  10060006: [
    'INVALID_ARGUMENT',
    '非快递发货时不允许分拆发货 (10060006): only express shipments may be split into several packages',
  ],
  10060007: ['INVALID_ARGUMENT', '分拆发货必须填写 is_all_delivered (10060007)'],
  10060008: ['INVALID_ARGUMENT', '商品描述不能为空 (10060008): give every package an itemDesc'],
  10060009: ['INVALID_ARGUMENT', '商品描述过长 (10060009): itemDesc must be at most 120 characters'],
  10060014: ['INVALID_ARGUMENT', 'WeChat rejected a parameter (10060014)'],
  10060016: ['CONFLICT', 'WeChat already reminded the user to confirm receipt of this order (10060016)'],
  10060020: [
    'CONFLICT',
    'this order needs no shipping info (10060020): 发货信息管理 is not enabled for the mini-program',
  ],
  10060024: ['INVALID_ARGUMENT', '物流信息列表过长 (10060024): at most 15 packages per order'],
  10060025: [
    'INVALID_ARGUMENT',
    '物流公司编码过长 (10060025): expressCompany must be a WeChat delivery id such as ZTO',
  ],
  10060026: ['INVALID_ARGUMENT', '物流单号过长 (10060026): trackingNo must be at most 128 characters'],
  268485216: [
    'INTERNAL',
    'upload_time 格式错误 (268485216): the kit sent a time that is not RFC 3339 with an offset (e.g. 2026-01-02T03:04:05+08:00); report this bug',
  ],
  268485224: ['INVALID_ARGUMENT', '发货模式非法 (268485224): delivery_mode must be 1 unified or 2 split'],
};

/** A WeChat errcode answer of `api` as the error a caller gets. */
export function openApiError(api: string, errcode: number, errmsg: unknown): OpenApiError | ConfigError {
  switch (errcode) {
    case 40013:
      return new ConfigError(
        'WX_APPID',
        `WeChat rejected WX_APPID (40013) calling ${api}; set the mini-program's AppID`,
      );
    case 40125:
      return new ConfigError(
        'WX_APPSECRET',
        `WeChat rejected WX_APPSECRET (40125) fetching a stable_token; copy the current AppSecret from 微信公众平台 → 开发管理 → 开发设置`,
      );
    case 40164:
      return new ConfigError(
        'WECHAT_OPENAPI_MODE',
        `WeChat refused the caller's IP (40164) for ${api}; add the function's outbound IP to the API IP whitelist, or use 云调用 (WECHAT_OPENAPI_MODE=cloud)`,
      );
    case -604101:
      return new ConfigError(
        'WECHAT_OPENAPI_MODE',
        `the function may not call ${api} as 云调用 (-604101); list it under permissions.openapi in the function's config.json, or set WECHAT_OPENAPI_MODE=https`,
      );
  }
  const known = KNOWN[errcode];
  // WeChat's own errmsg (Chinese, with a rid for support) helps with parameter errors; it holds no secret.
  const detail = typeof errmsg === 'string' && errmsg ? ` — WeChat says: ${errmsg.slice(0, 200)}` : '';
  if (known) return new OpenApiError(known[0], `${known[1]}${errcode === 10060014 ? detail : ''}`, errcode);
  return new OpenApiError('UPSTREAM_ERROR', `WeChat refused ${api} (errcode ${errcode})${detail}`, errcode);
}

export function unavailable(api: string, why: string): OpenApiError {
  return new OpenApiError(
    'UPSTREAM_UNAVAILABLE',
    `WeChat did not complete ${api} (${why}); it is safe to retry`,
  );
}
