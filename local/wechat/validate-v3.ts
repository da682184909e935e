// Field rules of the v3 JSAPI prepay and refund requests, as WeChat Pay's API reference states them.
import { v3 } from './errors';
import { parseRfc3339 } from './time';

export const OUT_TRADE_NO = /^[A-Za-z0-9_\-|*]{6,32}$/;
export const OUT_REFUND_NO = /^[A-Za-z0-9_\-|*@]{1,64}$/;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

export function str(
  o: Obj,
  path: string,
  opts: { required?: boolean; max?: number; min?: number; pattern?: RegExp; what?: string } = {},
): string | undefined {
  const v = o[path.split('.').pop()!];
  if (v === undefined || v === null) {
    if (opts.required) throw v3.param(path, '为必填参数，不能为空');
    return undefined;
  }
  if (typeof v !== 'string') throw v3.param(path, '类型错误，应为字符串', v);
  const len = [...v].length;
  if (opts.required && len === 0) throw v3.param(path, '不能为空字符串', v);
  if (opts.max !== undefined && len > opts.max) throw v3.param(path, `长度不能超过${opts.max}个字符`, v);
  if (opts.min !== undefined && len < opts.min) throw v3.param(path, `长度不能少于${opts.min}个字符`, v);
  if (opts.pattern && !opts.pattern.test(v)) throw v3.param(path, opts.what ?? '格式错误', v);
  return v;
}

export function obj(o: Obj, path: string, required: boolean): Obj | undefined {
  const v = o[path.split('.').pop()!];
  if (v === undefined || v === null) {
    if (required) throw v3.param(path, '为必填参数，不能为空');
    return undefined;
  }
  if (!isObj(v)) throw v3.param(path, '类型错误，应为对象', v);
  return v;
}

export function positiveInt(o: Obj, path: string, required = true): number | undefined {
  const v = o[path.split('.').pop()!];
  if (v === undefined || v === null) {
    if (required) throw v3.param(path, '为必填参数，不能为空');
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw v3.param(path, '类型错误，应为整数（单位：分）', v);
  if (v < 1) throw v3.param(path, '必须大于等于1', v);
  return v;
}

export function currency(o: Obj | undefined, path: string): string {
  const c = o ? str(o, path, {}) : undefined;
  if (c !== undefined && c !== 'CNY') throw v3.param(path, '境内商户号仅支持人民币CNY', c);
  return 'CNY';
}

export interface JsapiRequest {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  time_expire?: string;
  timeExpireMs?: number;
  attach?: string;
  notify_url: string;
  goods_tag?: string;
  total: number;
  currency: string;
  openid: string;
}

/** Shape and format checks of a JSAPI prepay body; business checks (appid binding, payer) follow. */
export function validateJsapi(body: Obj): JsapiRequest {
  const appid = str(body, 'appid', { required: true, max: 32 })!;
  const mchid = str(body, 'mchid', { required: true, max: 32 })!;
  const description = str(body, 'description', { required: true, max: 127 })!;
  const out_trade_no = str(body, 'out_trade_no', {
    required: true,
    pattern: OUT_TRADE_NO,
    what: '长度须为6-32个字符，只能是数字、大小写字母_-|*',
  })!;
  const time_expire = str(body, 'time_expire', {});
  let timeExpireMs: number | undefined;
  if (time_expire !== undefined) {
    timeExpireMs = parseRfc3339(time_expire);
    if (timeExpireMs === undefined)
      throw v3.param('time_expire', '格式错误，须为rfc3339格式，如2018-06-08T10:34:56+08:00', time_expire);
  }
  const attach = str(body, 'attach', { max: 128 });
  const notify_url = str(body, 'notify_url', { required: true, max: 255 })!;
  const goods_tag = str(body, 'goods_tag', { max: 32 });
  if (body.support_fapiao !== undefined && typeof body.support_fapiao !== 'boolean')
    throw v3.param('support_fapiao', '类型错误，应为布尔值', body.support_fapiao);
  const amount = obj(body, 'amount', true)!;
  const total = positiveInt(amount, 'amount.total')!;
  const cur = currency(amount, 'amount.currency');
  const payer = obj(body, 'payer', true)!;
  const openid = str(payer, 'payer.openid', { required: true, max: 128 })!;
  for (const k of ['detail', 'scene_info', 'settle_info']) obj(body, k, false);
  return {
    appid,
    mchid,
    description,
    out_trade_no,
    time_expire,
    timeExpireMs,
    attach,
    notify_url,
    goods_tag,
    total,
    currency: cur,
    openid,
  };
}

export interface RefundRequest {
  transaction_id?: string;
  out_trade_no?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  refund: number;
  total: number;
  currency: string;
}

export function validateRefund(body: Obj): RefundRequest {
  const transaction_id = str(body, 'transaction_id', { max: 32 });
  const out_trade_no = str(body, 'out_trade_no', {
    pattern: OUT_TRADE_NO,
    what: '长度须为6-32个字符，只能是数字、大小写字母_-|*',
  });
  if (transaction_id === undefined && out_trade_no === undefined)
    throw v3.param('out_trade_no', 'transaction_id和out_trade_no必须二选一');
  const out_refund_no = str(body, 'out_refund_no', {
    required: true,
    pattern: OUT_REFUND_NO,
    what: '长度不能超过64个字符，只能是数字、大小写字母_-|*@',
  })!;
  const reason = str(body, 'reason', { max: 80 });
  const notify_url = str(body, 'notify_url', { max: 256 });
  if (body.funds_account !== undefined && body.funds_account !== 'AVAILABLE')
    throw v3.param('funds_account', '仅支持AVAILABLE', body.funds_account);
  const amount = obj(body, 'amount', true)!;
  const refund = positiveInt(amount, 'amount.refund')!;
  const total = positiveInt(amount, 'amount.total')!;
  const cur = str(amount, 'amount.currency', { required: true })!;
  if (cur !== 'CNY') throw v3.param('amount.currency', '境内商户号仅支持人民币CNY', cur);
  if (refund > total) throw v3.param('amount.refund', '退款金额不能大于原订单金额', refund);
  return { transaction_id, out_trade_no, out_refund_no, reason, notify_url, refund, total, currency: cur };
}
