// What the use cases need from WeChat Pay, the same for API v3 and legacy v2. Each implementation
// (gateway-v3.ts, gateway-v2.ts) translates to its wire format; failures are the typed errors of
// shared/wxpay (WxpayUpstreamError: WeChat said no; WxpayUnavailableError: timeout/5xx, retry).
import type { RequestPaymentParams } from '../contracts/api';
import type { ApiVersion, PaymentFacts } from '../domain/order';
import type { RefundFacts } from '../domain/refund';

export interface PrepayInput {
  outTradeNo: string;
  description: string;
  amountFen: number;
  openid: string;
  /** When WeChat stops accepting payment for this order. */
  expiresAt: Date;
}

/** WeChat's view of an order, reduced to what changes ours. */
export type TradeView =
  | { state: 'SUCCESS'; facts: PaymentFacts; appid: string; mchid: string }
  | { state: 'NOTPAY' | 'USERPAYING' | 'PAYERROR' }
  | { state: 'CLOSED' | 'REVOKED' }
  | { state: 'REFUND'; facts: PaymentFacts; appid: string; mchid: string }
  /** WeChat has no such order (the prepay never reached it). */
  | { state: 'NOT_FOUND' };

export interface RefundInput {
  outTradeNo: string;
  outRefundNo: string;
  refundFen: number;
  totalFen: number;
  reason?: string;
}

export type RefundView = (RefundFacts & { outTradeNo?: string }) | { status: 'NOT_FOUND' };

export interface PayGateway {
  readonly apiVersion: ApiVersion;
  prepay(input: PrepayInput): Promise<{ prepayId: string }>;
  /** The signed object for wx.requestPayment. */
  paymentParams(prepayId: string): RequestPaymentParams;
  queryTrade(outTradeNo: string): Promise<TradeView>;
  /** Closes at WeChat; resolves when closed or when WeChat never knew the order. */
  closeTrade(outTradeNo: string): Promise<void>;
  refund(input: RefundInput): Promise<RefundFacts>;
  queryRefund(outRefundNo: string, outTradeNo: string): Promise<RefundView>;
}
