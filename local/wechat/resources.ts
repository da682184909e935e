// The JSON and XML bodies WeChat returns and notifies, built from the simulator's records.
import { randomUUID } from 'node:crypto';
import { aeadEncrypt, randomAlnum, v2EncryptReqInfo, v2Sign, type V2SignType } from './crypto';
import { TRADE_STATE_DESC, type RefundStatus, type SimOrder, type SimRefund, type TradeState } from './state';
import { compactCst, rfc3339Cst, spacedCst } from './time';
import { buildFlatXml } from './xml';

export const USER_RECEIVED_ACCOUNT = '支付用户零钱';

/** v3 transaction: the query answer and the TRANSACTION.SUCCESS resource. */
export function transactionJson(order: SimOrder, tradeState: TradeState): Record<string, unknown> {
  const paid = order.successTime !== undefined;
  return {
    appid: order.appid,
    mchid: order.mchid,
    out_trade_no: order.outTradeNo,
    ...(paid ? { transaction_id: order.transactionId } : {}),
    ...(paid || tradeState !== 'NOTPAY' ? { trade_type: 'JSAPI' } : {}),
    trade_state: tradeState,
    trade_state_desc: TRADE_STATE_DESC[tradeState],
    ...(paid ? { bank_type: order.bankType, success_time: rfc3339Cst(order.successTime!) } : {}),
    ...(order.attach !== undefined ? { attach: order.attach } : {}),
    payer: { openid: order.openid },
    amount: {
      total: order.total,
      ...(paid ? { payer_total: order.payerTotal } : {}),
      currency: order.currency,
      payer_currency: order.currency,
    },
    promotion_detail: [],
  };
}

/** v3 refund: the create and query answer. */
export function refundJson(refund: SimRefund): Record<string, unknown> {
  return {
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    transaction_id: refund.transactionId,
    out_trade_no: refund.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: USER_RECEIVED_ACCOUNT,
    ...(refund.successTime !== undefined ? { success_time: rfc3339Cst(refund.successTime) } : {}),
    create_time: rfc3339Cst(refund.createdAt),
    status: refund.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: refund.total,
      refund: refund.amount,
      from: [],
      payer_total: refund.total,
      payer_refund: refund.amount,
      settlement_refund: refund.amount,
      settlement_total: refund.total,
      discount_refund: 0,
      currency: refund.currency,
      refund_fee: 0,
    },
    promotion_detail: [],
  };
}

/** v3 refund notification resource (REFUND.SUCCESS / ABNORMAL / CLOSED). */
export function refundNotificationJson(refund: SimRefund): Record<string, unknown> {
  return {
    mchid: refund.mchid,
    transaction_id: refund.transactionId,
    out_trade_no: refund.outTradeNo,
    refund_id: refund.refundId,
    out_refund_no: refund.outRefundNo,
    refund_status: refund.status,
    ...(refund.successTime !== undefined ? { success_time: rfc3339Cst(refund.successTime) } : {}),
    user_received_account: USER_RECEIVED_ACCOUNT,
    amount: {
      total: refund.total,
      refund: refund.amount,
      payer_total: refund.total,
      payer_refund: refund.amount,
    },
  };
}

export const REFUND_EVENT: Record<
  Exclude<RefundStatus, 'PROCESSING'>,
  { eventType: string; summary: string }
> = {
  SUCCESS: { eventType: 'REFUND.SUCCESS', summary: '退款成功' },
  ABNORMAL: { eventType: 'REFUND.ABNORMAL', summary: '退款异常' },
  CLOSED: { eventType: 'REFUND.CLOSED', summary: '退款关闭' },
};

export interface V3Envelope {
  id: string;
  create_time: string;
  resource_type: 'encrypt-resource';
  event_type: string;
  summary: string;
  resource: {
    original_type: string;
    algorithm: 'AEAD_AES_256_GCM';
    ciphertext: string;
    associated_data: string;
    nonce: string;
  };
}

/** A v3 notification body: the resource encrypted with the merchant's APIv3 key. */
export function v3Envelope(opts: {
  eventType: string;
  summary: string;
  originalType: 'transaction' | 'refund';
  resource: unknown;
  apiV3Key: string;
  nowMs: number;
}): V3Envelope {
  const nonce = randomAlnum(12);
  const associatedData = opts.originalType;
  return {
    id: randomUUID(),
    create_time: rfc3339Cst(opts.nowMs),
    resource_type: 'encrypt-resource',
    event_type: opts.eventType,
    summary: opts.summary,
    resource: {
      original_type: opts.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: aeadEncrypt(opts.apiV3Key, nonce, associatedData, JSON.stringify(opts.resource)),
      associated_data: associatedData,
      nonce,
    },
  };
}

/** v2 order fields shared by orderquery and the payment notification. */
export function v2PaidFields(order: SimOrder): Record<string, string | number | undefined> {
  return {
    openid: order.openid,
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: order.bankType,
    total_fee: order.total,
    fee_type: order.currency,
    cash_fee: order.payerTotal,
    cash_fee_type: order.currency,
    transaction_id: order.transactionId,
    out_trade_no: order.outTradeNo,
    attach: order.attach,
    time_end: order.successTime !== undefined ? compactCst(order.successTime) : undefined,
  };
}

/** v2 payment notification XML, signed with the order's sign type. */
export function v2PaymentNotification(order: SimOrder, apiV2Key: string): string {
  const signType: V2SignType = order.v2SignType ?? 'MD5';
  const fields: Record<string, string | number | undefined> = {
    appid: order.appid,
    mch_id: order.mchid,
    nonce_str: randomAlnum(32),
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    ...(signType === 'HMAC-SHA256' ? { sign_type: 'HMAC-SHA256' } : {}),
    ...v2PaidFields(order),
  };
  fields.sign = v2Sign(fields, apiV2Key, signType);
  return buildFlatXml(fields);
}

const V2_REFUND_STATUS: Record<RefundStatus, string> = {
  PROCESSING: 'PROCESSING',
  SUCCESS: 'SUCCESS',
  ABNORMAL: 'CHANGE',
  CLOSED: 'REFUNDCLOSE',
};

export function v2RefundStatus(status: RefundStatus): string {
  return V2_REFUND_STATUS[status];
}

/** v2 refund notification: unsigned envelope with the details in encrypted `req_info`. */
export function v2RefundNotification(refund: SimRefund, appid: string, apiV2Key: string): string {
  const inner = buildFlatXml(
    {
      out_refund_no: refund.outRefundNo,
      out_trade_no: refund.outTradeNo,
      refund_account: 'REFUND_SOURCE_UNSETTLED_FUNDS',
      refund_fee: refund.amount,
      refund_id: refund.refundId,
      refund_recv_accout: USER_RECEIVED_ACCOUNT,
      refund_request_source: 'API',
      refund_status: v2RefundStatus(refund.status),
      settlement_refund_fee: refund.amount,
      settlement_total_fee: refund.total,
      success_time: refund.successTime !== undefined ? spacedCst(refund.successTime) : undefined,
      total_fee: refund.total,
      transaction_id: refund.transactionId,
    },
    'root',
  );
  return buildFlatXml({
    return_code: 'SUCCESS',
    appid,
    mch_id: refund.mchid,
    nonce_str: randomAlnum(32),
    req_info: v2EncryptReqInfo(inner, apiV2Key),
  });
}
