// PayGateway over the legacy v2 XML API (shared/wxpay/v2). Notifications are XML: payment results
// signed with the API v2 key, refund results encrypted with it; the endpoint answers with the XML
// acknowledgement (return_code SUCCESS stops WeChat's retries, FAIL asks for another).
import { createHash } from 'node:crypto';
import type { PayV2Config, V2ClientCertificate } from '../config/config';
import { truncateUtf8 } from '../domain/catalog';
import type { PaymentFacts } from '../domain/order';
import type { RefundFacts } from '../domain/refund';
import { xmlResponse, type TriggerRequest, type TriggerResponse } from '../http/trigger';
import { v2BillSource, type BillSource } from '../ledger/bill-source';
import { WxpayUpstreamError } from '../wxpay/errors';
import {
  V2_ACK_SUCCESS,
  buildV2PaymentParams,
  createV2Client,
  parseV2PaymentNotification,
  parseV2RefundNotification,
  v2AckFail,
  type V2Client,
} from '../wxpay/v2';
import type {
  Acknowledgement,
  NotificationFacts,
  NotificationKind,
  NotifyUrls,
  PayGateway,
  PrepayInput,
  RefundInput,
  RefundLookup,
  TradeView,
} from './gateway';

/** v2 `body` is at most 128 bytes. */
const V2_BODY_MAX_BYTES = 128;

/** "yyyyMMddHHmmss" or "yyyy-MM-dd HH:mm:ss" in Beijing time → Date. */
export function parseV2Time(text: string | undefined): Date | undefined {
  const m = text ? /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(text) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h - 8, mi, s));
}

/** A v2 refund status (query: V2RefundStatus; notification: SUCCESS/CHANGE/REFUNDCLOSE) → ours. */
export function v2RefundStatus(status: string): RefundFacts['status'] {
  switch (status) {
    case 'SUCCESS':
      return 'SUCCESS';
    case 'REFUNDCLOSE':
      return 'CLOSED';
    case 'CHANGE':
      return 'ABNORMAL';
    default:
      return 'PROCESSING';
  }
}

/** v2 notifications carry no id: one is derived from what they report, so a resend has the same. */
function notificationId(parts: string[]): string {
  return `v2-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 40)}`;
}

function isNotFound(err: unknown, code: string): boolean {
  return err instanceof WxpayUpstreamError && err.upstreamCode === code;
}

export interface V2GatewayOptions extends NotifyUrls {
  config: PayV2Config;
  /** config.v2ClientCertificate(): presented on /secapi/pay/refund when the base URL is https. */
  clientCertificate?: V2ClientCertificate | undefined;
}

export class V2Gateway implements PayGateway {
  readonly apiVersion = 'v2' as const;
  readonly merchant: { appid: string; mchid: string };
  private readonly client: V2Client;

  constructor(private readonly opts: V2GatewayOptions) {
    const c = opts.config;
    this.merchant = { appid: c.appid, mchid: c.mchid };
    this.client = createV2Client(
      { appid: c.appid, mchid: c.mchid, baseUrl: c.baseUrl, apiV2Key: c.apiV2Key, signType: c.signType },
      { clientCertificate: opts.clientCertificate },
    );
  }

  async verifyNotification(kind: NotificationKind, req: TriggerRequest): Promise<NotificationFacts> {
    const c = this.opts.config;
    if (kind === 'pay') {
      const n = parseV2PaymentNotification(req.rawBody, { apiV2Key: c.apiV2Key, signType: c.signType });
      const facts: NotificationFacts = {
        id: notificationId(['pay', n.outTradeNo, n.transactionId, n.resultCode]),
        eventType: `TRANSACTION.${n.resultCode}`,
        outTradeNo: n.outTradeNo,
        appid: n.appid,
        mchid: n.mchId,
      };
      if (n.resultCode === 'SUCCESS') {
        facts.payment = {
          transactionId: n.transactionId,
          amountTotalFen: n.totalFee,
          payerOpenid: n.openid,
          paidAt: parseV2Time(n.timeEnd) ?? new Date(),
          payerTotalFen: n.cashFee,
        };
      }
      return facts;
    }
    const n = parseV2RefundNotification(req.rawBody, { apiV2Key: c.apiV2Key });
    const status = v2RefundStatus(n.refundStatus);
    return {
      id: notificationId(['refund', n.outRefundNo, n.refundStatus]),
      eventType: `REFUND.${status}`,
      outTradeNo: n.outTradeNo,
      outRefundNo: n.outRefundNo,
      appid: n.appid,
      mchid: n.mchId,
      refund: { status, refundId: n.refundId, refundFen: n.refundFee, successAt: parseV2Time(n.successTime) },
    };
  }

  acknowledge(ack: Acknowledgement): TriggerResponse {
    return ack.received ? xmlResponse(200, V2_ACK_SUCCESS) : xmlResponse(ack.status, v2AckFail(ack.message));
  }

  async prepay(input: PrepayInput): Promise<{ prepayId: string }> {
    if (!this.opts.notifyUrl) throw new Error('V2Gateway: notifyUrl is required to prepay');
    const res = await this.client.unifiedOrder({
      outTradeNo: input.outTradeNo,
      totalFee: input.amountFen,
      body: truncateUtf8(input.description, V2_BODY_MAX_BYTES),
      openid: input.openid,
      notifyUrl: this.opts.notifyUrl,
      timeExpire: input.expiresAt,
    });
    return { prepayId: res.prepayId };
  }

  paymentParams(prepayId: string) {
    const c = this.opts.config;
    return buildV2PaymentParams({ appId: c.appid, prepayId }, c.apiV2Key, c.signType);
  }

  async queryTrade(outTradeNo: string): Promise<TradeView> {
    let q;
    try {
      q = await this.client.orderQuery({ outTradeNo });
    } catch (err) {
      if (isNotFound(err, 'ORDERNOTEXIST')) return { state: 'NOT_FOUND' };
      throw err;
    }
    if (q.tradeState === 'SUCCESS' || q.tradeState === 'REFUND') {
      const facts: PaymentFacts = {
        transactionId: q.transactionId ?? '',
        amountTotalFen: q.totalFee ?? -1,
        paidAt: parseV2Time(q.timeEnd) ?? new Date(),
        payerTotalFen: q.cashFee,
        payerOpenid: q.openid || undefined,
      };
      return { state: q.tradeState, facts, appid: q.raw.appid ?? '', mchid: q.raw.mch_id ?? '' };
    }
    return { state: q.tradeState };
  }

  async closeTrade(outTradeNo: string): Promise<void> {
    try {
      await this.client.closeOrder({ outTradeNo });
    } catch (err) {
      if (isNotFound(err, 'ORDERNOTEXIST')) return;
      throw err;
    }
  }

  async refund(input: RefundInput): Promise<RefundFacts> {
    const r = await this.client.refund({
      outTradeNo: input.outTradeNo,
      outRefundNo: input.outRefundNo,
      totalFee: input.totalFen,
      refundFee: input.refundFen,
      refundDesc: input.reason || undefined,
      notifyUrl: this.opts.refundNotifyUrl,
    });
    // v2 accepts a refund request without telling its final status: it is PROCESSING until notified.
    return { status: 'PROCESSING', refundId: r.refundId, refundFen: r.refundFee };
  }

  bills(): BillSource {
    return v2BillSource(this.client);
  }

  async queryRefund(outRefundNo: string): Promise<RefundLookup> {
    let q;
    try {
      q = await this.client.refundQuery({ outRefundNo });
    } catch (err) {
      if (isNotFound(err, 'REFUNDNOTEXIST')) return { status: 'NOT_FOUND' };
      throw err;
    }
    const item = q.refunds.find((r) => r.outRefundNo === outRefundNo);
    if (!item) return { status: 'NOT_FOUND' };
    return {
      status: v2RefundStatus(item.status),
      refundId: item.refundId,
      refundFen: item.refundFee,
      outTradeNo: q.outTradeNo,
      successAt: parseV2Time(item.successTime),
    };
  }
}
