// Wire formats of WeChat Pay API v3 as documented (直连商户 JSAPI/小程序支付, 退款, 平台证书, 回调通知).
// Field names are WeChat's own (snake_case); money is integer fen. Types only.

export type Currency = 'CNY' | (string & {});

// ---- JSAPI prepay: POST /v3/pay/transactions/jsapi -------------------------------------------
export interface JsapiPrepayRequest {
  appid: string;
  mchid: string;
  description: string;
  out_trade_no: string;
  /** RFC 3339 with offset, e.g. 2018-06-08T10:34:56+08:00. */
  time_expire?: string;
  attach?: string;
  notify_url: string;
  goods_tag?: string;
  support_fapiao?: boolean;
  amount: { total: number; currency?: Currency };
  payer: { openid: string };
  detail?: {
    cost_price?: number;
    invoice_id?: string;
    goods_detail?: Array<{
      merchant_goods_id: string;
      wechatpay_goods_id?: string;
      goods_name?: string;
      quantity: number;
      unit_price: number;
    }>;
  };
  scene_info?: {
    payer_client_ip: string;
    device_id?: string;
    store_info?: { id: string; name?: string; area_code?: string; address?: string };
  };
  settle_info?: { profit_sharing?: boolean };
}

export interface JsapiPrepayResponse {
  prepay_id: string;
}

// ---- Transactions: query responses and the decrypted TRANSACTION.SUCCESS resource ------------
export type TradeType = 'JSAPI' | 'NATIVE' | 'APP' | 'MICROPAY' | 'MWEB' | 'FACEPAY';
export type TradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR';

export interface PromotionDetail {
  coupon_id: string;
  name?: string;
  scope?: 'GLOBAL' | 'SINGLE';
  type?: 'CASH' | 'NOCASH';
  amount: number;
  stock_id?: string;
  wechatpay_contribute?: number;
  merchant_contribute?: number;
  other_contribute?: number;
  currency?: Currency;
  goods_detail?: Array<{
    goods_id: string;
    quantity: number;
    unit_price: number;
    discount_amount: number;
    goods_remark?: string;
  }>;
}

/** GET /v3/pay/transactions/{id/…|out-trade-no/…} and the decrypted payment notification resource. */
export interface Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  /** Absent while NOTPAY. */
  transaction_id?: string;
  trade_type?: TradeType;
  trade_state: TradeState;
  trade_state_desc: string;
  bank_type?: string;
  attach?: string;
  /** RFC 3339; present once paid. */
  success_time?: string;
  payer?: { openid: string };
  amount?: { total?: number; payer_total?: number; currency?: Currency; payer_currency?: Currency };
  scene_info?: { device_id?: string };
  promotion_detail?: PromotionDetail[];
}

/** The resource of TRANSACTION.SUCCESS: a paid transaction, so these fields are always present. */
export interface TransactionResource extends Transaction {
  transaction_id: string;
  trade_type: TradeType;
  trade_state: TradeState;
  bank_type: string;
  success_time: string;
  payer: { openid: string };
  amount: { total: number; payer_total: number; currency: Currency; payer_currency: Currency };
}

// ---- Close: POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close → 204 ----------------
export interface CloseOrderRequest {
  mchid: string;
}

// ---- Refunds: POST /v3/refund/domestic/refunds, GET /v3/refund/domestic/refunds/{out_refund_no}
export type RefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
export type RefundChannel = 'ORIGINAL' | 'BALANCE' | 'OTHER_BALANCE' | 'OTHER_BANKCARD';
export type FundsAccount = 'UNSETTLED' | 'AVAILABLE' | 'UNAVAILABLE' | 'OPERATION' | 'BASIC' | 'ECNY_BASIC';

export interface RefundAmountFrom {
  account: 'AVAILABLE' | 'UNAVAILABLE';
  amount: number;
}

/** Exactly one of transaction_id / out_trade_no. */
export interface CreateRefundRequest {
  transaction_id?: string;
  out_trade_no?: string;
  out_refund_no: string;
  reason?: string;
  notify_url?: string;
  funds_account?: 'AVAILABLE' | 'UNSETTLED';
  amount: { refund: number; from?: RefundAmountFrom[]; total: number; currency: 'CNY' };
  goods_detail?: Array<{
    merchant_goods_id: string;
    wechatpay_goods_id?: string;
    goods_name?: string;
    unit_price: number;
    refund_amount: number;
    refund_quantity: number;
  }>;
}

export interface Refund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel: RefundChannel;
  user_received_account: string;
  success_time?: string;
  create_time: string;
  status: RefundStatus;
  funds_account?: FundsAccount;
  amount: {
    total: number;
    refund: number;
    from?: RefundAmountFrom[];
    payer_total: number;
    payer_refund: number;
    settlement_refund: number;
    settlement_total: number;
    discount_refund: number;
    currency: Currency;
    refund_fee?: number;
  };
  promotion_detail?: Array<{
    promotion_id: string;
    scope: 'GLOBAL' | 'SINGLE';
    type: 'COUPON' | 'DISCOUNT';
    amount: number;
    refund_amount: number;
    goods_detail?: Array<{
      merchant_goods_id: string;
      wechatpay_goods_id?: string;
      goods_name?: string;
      unit_price: number;
      refund_amount: number;
      refund_quantity: number;
    }>;
  }>;
}

/** The decrypted resource of REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED. */
export interface RefundResource {
  mchid: string;
  out_trade_no: string;
  transaction_id: string;
  out_refund_no: string;
  refund_id: string;
  refund_status: 'SUCCESS' | 'CLOSED' | 'ABNORMAL';
  success_time?: string;
  user_received_account: string;
  amount: { total: number; refund: number; payer_total: number; payer_refund: number };
}

// ---- Platform certificates: GET /v3/certificates ----------------------------------------------
export interface CertificatesResponse {
  data: Array<{
    serial_no: string;
    effective_time: string;
    expire_time: string;
    encrypt_certificate: {
      algorithm: 'AEAD_AES_256_GCM';
      nonce: string;
      associated_data: string;
      ciphertext: string;
    };
  }>;
}

// ---- Notifications ----------------------------------------------------------------------------
export type TransactionEventType = 'TRANSACTION.SUCCESS';
export type RefundEventType = 'REFUND.SUCCESS' | 'REFUND.ABNORMAL' | 'REFUND.CLOSED';
export type NotificationEventType = TransactionEventType | RefundEventType;

/** The body WeChat Pay POSTs to notify_url. */
export interface NotificationEnvelope<E extends string = NotificationEventType> {
  id: string;
  /** RFC 3339, e.g. 2015-05-20T13:29:35+08:00. */
  create_time: string;
  event_type: E;
  resource_type: 'encrypt-resource';
  resource: {
    algorithm: 'AEAD_AES_256_GCM';
    ciphertext: string;
    associated_data?: string;
    original_type: 'transaction' | 'refund';
    nonce: string;
  };
  summary: string;
}

/** WeChat Pay's error body on 4xx/5xx. */
export interface ErrorBody {
  code: string;
  message: string;
  detail?: { field?: string; value?: unknown; issue?: string; location?: string } & Record<string, unknown>;
}
