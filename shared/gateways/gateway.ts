// What the use cases need from WeChat Pay, the same for API v3 and legacy v2. Each implementation
// (v3.ts, v2.ts) owns its protocol: the wire format of its calls, how its notifications are verified
// and read, and how its notification endpoint answers. A third protocol is a third file here.
// Failures are the typed errors of shared/wxpay (WxpayUpstreamError: WeChat said no;
// WxpayUnavailableError: timeout/5xx, retry).
import type { RequestPaymentParams } from '../contracts/api';
import type { ApiVersion, PaymentFacts } from '../domain/order';
import type { RefundFacts } from '../domain/refund';
import type { TriggerRequest, TriggerResponse } from '../http/trigger';
import { WxpayError } from '../wxpay/errors';
import type { BillSource } from '../ledger/bill-source';

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

/** What a refund query finds at WeChat (the API's view of a refund is RefundView in contracts/api). */
export type RefundLookup = (RefundFacts & { outTradeNo?: string }) | { status: 'NOT_FOUND' };

export type NotificationKind = 'pay' | 'refund';

/** Where WeChat Pay sends this deployment's notifications (the HTTP trigger paths), when configured. */
export interface NotifyUrls {
  notifyUrl?: string | undefined;
  refundNotifyUrl?: string | undefined;
}

/** A verified notification, in our terms. */
export interface NotificationFacts {
  /** Unique per notification (v3: its id; v2: a digest of what it reports): the record's `_id`. */
  id: string;
  eventType: string;
  outTradeNo?: string;
  outRefundNo?: string;
  appid?: string;
  mchid: string;
  /** Present when it reports a successful payment. */
  payment?: PaymentFacts;
  refund?: RefundFacts;
}

/**
 * How a notification endpoint answers: `received` stops WeChat's retries; a failure carries the
 * HTTP status (400/401: the sender is refused; 5xx: we could not take it, WeChat retries).
 */
export type Acknowledgement = { received: true } | { received: false; status: number; message: string };

/** What a notification endpoint needs: it verifies and answers, and never signs a request. */
export interface NotificationGateway {
  readonly apiVersion: ApiVersion;
  /** The merchant and app this endpoint serves; a notification for another is an anomaly. */
  readonly merchant: { appid: string; mchid: string };
  /**
   * Verifies `request` (signature over the raw body, decryption) and reads it. Throws an error with
   * `httpStatus` 400 or 401 when the sender is to be refused (see `refusalOf`); any other error means
   * verification is unavailable for now (e.g. a certificate download failed) and WeChat should retry.
   */
  verifyNotification(kind: NotificationKind, request: TriggerRequest): Promise<NotificationFacts>;
  /** The trigger's answer in this protocol's form. */
  acknowledge(ack: Acknowledgement): TriggerResponse;
}

export interface PayGateway extends NotificationGateway {
  prepay(input: PrepayInput): Promise<{ prepayId: string }>;
  /** The signed object for wx.requestPayment. */
  paymentParams(prepayId: string): RequestPaymentParams;
  queryTrade(outTradeNo: string): Promise<TradeView>;
  /** Closes at WeChat; resolves when closed or when WeChat never knew the order. */
  closeTrade(outTradeNo: string): Promise<void>;
  refund(input: RefundInput): Promise<RefundFacts>;
  queryRefund(outRefundNo: string, outTradeNo: string): Promise<RefundLookup>;
  /** The daily bills (trade and fund flow), each proven intact before it is handed out. */
  bills(): BillSource;
}

/** The only reasons a refused sender (WeChat, or a stranger) is told. */
export const REFUSAL_REASONS = {
  400: 'malformed notification',
  401: 'signature verification failed',
} as const;

/** The refusal a verification error asks for (400 malformed, 401 not authentic), if it asks for one. */
export function refusalOf(err: unknown): { status: 400 | 401; message: string } | undefined {
  if (!(err instanceof WxpayError)) return undefined;
  const status = (err as { httpStatus?: unknown }).httpStatus;
  // The error's own message can name the configured key id, whether this function holds a merchant
  // key, or the expected sign type: it goes to the function log, the sender gets a fixed reason.
  return status === 400 || status === 401 ? { status, message: REFUSAL_REASONS[status] } : undefined;
}
