// One user-facing sentence per failure the client can report. Pages show these and nothing else,
// so raw server messages (which are written for developers) never reach the user.
import type { ErrorCode } from '../types/api';

/** A callable's error codes plus the transport failure the client itself detects. */
export type ClientErrorCode = ErrorCode | 'NETWORK';

const MESSAGES: Record<ClientErrorCode, string> = {
  INVALID_ARGUMENT: '请求内容有误，请返回重试',
  UNAUTHENTICATED: '登录已失效，请重新登录',
  PERMISSION_DENIED: '没有权限进行此操作',
  NOT_FOUND: '订单或商品不存在',
  CONFLICT: '订单状态已变化，请刷新后再试',
  RATE_LIMITED: '操作太频繁，请稍后再试',
  UPSTREAM_ERROR: '微信支付暂时无法处理该请求',
  UPSTREAM_UNAVAILABLE: '微信支付繁忙，请稍后再试',
  INTERNAL: '服务出错了，请稍后再试',
  NETWORK: '网络不给力，请检查网络后重试',
};

export function userMessage(code: ClientErrorCode): string {
  return MESSAGES[code];
}

/** WeChat's own codes that deserve a more precise sentence than the generic UPSTREAM_ERROR one. */
// API v3 spells them with underscores (NOT_ENOUGH), v2 without (NOTENOUGH).
const UPSTREAM_MESSAGES: Record<string, string> = {
  ORDERPAID: '该订单已支付',
  ORDER_CLOSED: '该订单已关闭，请重新下单',
  ORDERCLOSED: '该订单已关闭，请重新下单',
  NOT_ENOUGH: '商户余额不足，暂时无法退款，请稍后再试',
  NOTENOUGH: '商户余额不足，暂时无法退款，请稍后再试',
  '40029': '登录凭证已失效，请重新登录',
  '40163': '登录凭证已使用，请重新登录',
};

/** A per-user limit of ours says how long to wait: the page says it too. */
export function rateLimitedMessage(retryAfterSeconds: number): string {
  return `操作太频繁，请 ${retryAfterSeconds} 秒后再试`;
}

export function userMessageFor(code: ClientErrorCode, upstream?: string, retryAfterSeconds?: number): string {
  if (code === 'RATE_LIMITED' && retryAfterSeconds !== undefined)
    return rateLimitedMessage(retryAfterSeconds);
  return (upstream !== undefined && UPSTREAM_MESSAGES[upstream]) || userMessage(code);
}
