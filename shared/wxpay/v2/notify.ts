// v2 notifications. Payment results are signed XML (checked with the configured sign type, and a
// notification signed with another sign type is refused rather than downgraded). Refund results are
// not signed: their `req_info` is AES-256-ECB encrypted with the lowercase hex MD5 of the API v2 key,
// PKCS#7 padded, and holds a `<root>` XML of the refund fields.
import { createDecipheriv, createHash } from 'node:crypto';
import { WxpayV2NotificationError, WxpayV2SignatureError } from './errors';
import { verifyV2Sign, type V2Key, type V2SignType } from './sign';
import { parseV2Xml } from './xml';

export interface V2NotificationKeys {
  apiV2Key: V2Key;
  signType: V2SignType;
}

export interface V2PaymentNotification {
  appid: string;
  mchId: string;
  openid: string;
  outTradeNo: string;
  transactionId: string;
  /** Fen: the order amount. */
  totalFee: number;
  /** Fen: what the payer paid in cash (total minus coupons). */
  cashFee?: number;
  resultCode: 'SUCCESS' | 'FAIL';
  errCode?: string;
  errCodeDes?: string;
  /** yyyyMMddHHmmss, Beijing time. */
  timeEnd: string;
  tradeType: string;
  bankType?: string;
  attach?: string;
  /** Every field as received (signed). */
  raw: Record<string, string>;
}

export type V2RefundNotificationStatus = 'SUCCESS' | 'CHANGE' | 'REFUNDCLOSE';

export interface V2RefundNotification {
  appid: string;
  mchId: string;
  transactionId: string;
  outTradeNo: string;
  refundId: string;
  outRefundNo: string;
  totalFee: number;
  refundFee: number;
  settlementRefundFee?: number;
  refundStatus: V2RefundNotificationStatus;
  /** "yyyy-MM-dd HH:mm:ss", Beijing time; present for SUCCESS. */
  successTime?: string;
  refundRecvAccount?: string;
  refundAccount?: string;
  refundRequestSource?: string;
  /** The decrypted req_info fields. */
  info: Record<string, string>;
}

function missing(field: string, where: string, status: 400 | 401 = 400): WxpayV2NotificationError {
  return new WxpayV2NotificationError('missing-field', status, `${where} has no ${field}`);
}

function text(fields: Record<string, string>, name: string, where: string): string {
  const v = fields[name];
  if (!v) throw missing(name, where);
  return v;
}

function fen(fields: Record<string, string>, name: string, where: string, required: true): number;
function fen(
  fields: Record<string, string>,
  name: string,
  where: string,
  required: false,
): number | undefined;
function fen(
  fields: Record<string, string>,
  name: string,
  where: string,
  required: boolean,
): number | undefined {
  const v = fields[name];
  if (v === undefined || v === '') {
    if (required) throw missing(name, where);
    return undefined;
  }
  if (!/^\d{1,15}$/.test(v))
    throw new WxpayV2NotificationError(
      'bad-field',
      400,
      `${where} has a ${name} that is not an integer number of fen`,
    );
  return Number(v);
}

function assign<T extends object>(
  target: T,
  values: Partial<Record<keyof T, string | number | undefined>>,
): T {
  for (const [k, v] of Object.entries(values))
    if (v !== undefined && v !== '') (target as Record<string, unknown>)[k] = v;
  return target;
}

/** Verifies and reads a v2 payment result notification (the raw HTTP body). */
export function parseV2PaymentNotification(
  body: string | Buffer,
  keys: V2NotificationKeys,
): V2PaymentNotification {
  const where = 'payment notification';
  const raw = parseV2Xml(body);
  if (raw.return_code !== 'SUCCESS') {
    throw new WxpayV2NotificationError(
      'communication-failure',
      400,
      `${where} has return_code ${raw.return_code ? 'FAIL' : 'missing'}; it carries no payment result`,
    );
  }
  if (!raw.sign)
    throw new WxpayV2SignatureError('notification', 'has no sign field; it is not from WeChat Pay');
  // sign_type is sent for HMAC-SHA256 orders; without it the sign's length tells the algorithm. Either
  // way it must be the configured one: the order was placed with it.
  const declared = raw.sign_type || (raw.sign.length === 64 ? 'HMAC-SHA256' : 'MD5');
  if (declared !== keys.signType) {
    throw new WxpayV2NotificationError(
      'sign-type-mismatch',
      401,
      `${where} is signed with ${declared === 'MD5' ? 'MD5' : declared === 'HMAC-SHA256' ? 'HMAC-SHA256' : 'an unknown sign type'}, but WXPAY_V2_SIGN_TYPE is ${keys.signType}; orders and notifications must use the same sign type`,
    );
  }
  if (!verifyV2Sign(raw, keys.apiV2Key, keys.signType)) {
    throw new WxpayV2SignatureError(
      'notification',
      `sign does not verify with WXPAY_APIV2_KEY (${keys.signType}); it is not from WeChat Pay, or the key differs from 商户平台`,
    );
  }
  const resultCode = text(raw, 'result_code', where);
  if (resultCode !== 'SUCCESS' && resultCode !== 'FAIL')
    throw new WxpayV2NotificationError('bad-field', 400, `${where} has an unknown result_code`);
  return assign<V2PaymentNotification>(
    {
      appid: text(raw, 'appid', where),
      mchId: text(raw, 'mch_id', where),
      openid: text(raw, 'openid', where),
      outTradeNo: text(raw, 'out_trade_no', where),
      transactionId: text(raw, 'transaction_id', where),
      totalFee: fen(raw, 'total_fee', where, true),
      resultCode,
      timeEnd: text(raw, 'time_end', where),
      tradeType: text(raw, 'trade_type', where),
      raw,
    },
    {
      cashFee: fen(raw, 'cash_fee', where, false),
      errCode: raw.err_code,
      errCodeDes: raw.err_code_des,
      bankType: raw.bank_type,
      attach: raw.attach,
    },
  );
}

/** The AES-256 key of req_info: the 32 ASCII characters of the lowercase hex MD5 of the API v2 key. */
export function v2ReqInfoKey(apiV2Key: V2Key): Buffer {
  const key = typeof apiV2Key === 'string' ? apiV2Key : apiV2Key.reveal();
  return Buffer.from(createHash('md5').update(key, 'utf8').digest('hex'), 'latin1');
}

/** Decrypts a refund notification's base64 `req_info` into its XML text. */
export function decryptV2ReqInfo(reqInfo: string, apiV2Key: V2Key): string {
  const bad = (why: string) =>
    new WxpayV2NotificationError(
      'bad-req-info',
      401,
      `refund notification req_info ${why}; it is not from WeChat Pay, or WXPAY_APIV2_KEY differs from 商户平台`,
    );
  const compact = reqInfo.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw bad('is not base64');
  const data = Buffer.from(compact, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw bad('is not a whole number of AES blocks');
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-ecb', v2ReqInfoKey(apiV2Key), null).setAutoPadding(false);
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw bad('does not decrypt');
  }
  const pad = plain[plain.length - 1];
  const padded = pad >= 1 && pad <= 16 && plain.subarray(plain.length - pad).every((b) => b === pad);
  if (padded) return plain.subarray(0, plain.length - pad).toString('utf8');
  // Some encoders (wechatpay-axios-plugin's AesEcb among them) omit the full padding block when the
  // text fills whole blocks; accept that only when the text visibly ends the XML. A wrong key yields
  // neither, and the XML parse of the caller is the final check either way (ECB carries no MAC).
  if (plain.toString('latin1').trimEnd().endsWith('</root>')) return plain.toString('utf8');
  throw bad('does not decrypt (bad padding)');
}

/** Reads a v2 refund result notification (the raw HTTP body): decrypts and parses req_info. */
export function parseV2RefundNotification(
  body: string | Buffer,
  keys: Pick<V2NotificationKeys, 'apiV2Key'>,
): V2RefundNotification {
  const where = 'refund notification';
  const outer = parseV2Xml(body);
  if (outer.return_code !== 'SUCCESS') {
    throw new WxpayV2NotificationError(
      'communication-failure',
      400,
      `${where} has return_code ${outer.return_code ? 'FAIL' : 'missing'}; it carries no refund result`,
    );
  }
  const reqInfo = outer.req_info;
  if (!reqInfo) throw missing('req_info', where, 401);
  let info: Record<string, string>;
  try {
    info = parseV2Xml(decryptV2ReqInfo(reqInfo, keys.apiV2Key), { root: 'root' });
  } catch (err) {
    if (err instanceof WxpayV2NotificationError) throw err;
    throw new WxpayV2NotificationError(
      'bad-req-info',
      401,
      `${where} req_info decrypts to something that is not WeChat's <root> XML; it is not from WeChat Pay, or WXPAY_APIV2_KEY differs from 商户平台`,
    );
  }
  const inner = `${where} req_info`;
  const refundStatus = text(info, 'refund_status', inner);
  if (refundStatus !== 'SUCCESS' && refundStatus !== 'CHANGE' && refundStatus !== 'REFUNDCLOSE')
    throw new WxpayV2NotificationError('bad-field', 400, `${inner} has an unknown refund_status`);
  return assign<V2RefundNotification>(
    {
      appid: text(outer, 'appid', where),
      mchId: text(outer, 'mch_id', where),
      transactionId: text(info, 'transaction_id', inner),
      outTradeNo: text(info, 'out_trade_no', inner),
      refundId: text(info, 'refund_id', inner),
      outRefundNo: text(info, 'out_refund_no', inner),
      totalFee: fen(info, 'total_fee', inner, true),
      refundFee: fen(info, 'refund_fee', inner, true),
      refundStatus,
      info,
    },
    {
      settlementRefundFee: fen(info, 'settlement_refund_fee', inner, false),
      successTime: info.success_time,
      refundRecvAccount: info.refund_recv_accout,
      refundAccount: info.refund_account,
      refundRequestSource: info.refund_request_source,
    },
  );
}
