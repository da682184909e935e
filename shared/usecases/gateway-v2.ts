// PayGateway over the legacy v2 XML API (shared/wxpay/v2), loaded only in v2 mode.
import type { PayV2Config, V2ClientCertificate } from '../config/config';
import { truncateUtf8 } from '../domain/catalog';
import type { PaymentFacts } from '../domain/order';
import type { RefundFacts } from '../domain/refund';
import { WxpayUpstreamError } from '../wxpay/errors';
import { buildV2PaymentParams, createV2Client, type V2Client, type V2RefundStatus } from '../wxpay/v2';
import type { PayGateway, PrepayInput, RefundInput, RefundView, TradeView } from './gateway';

/** v2 `body` is at most 128 bytes. */
const V2_BODY_MAX_BYTES = 128;

/** "yyyyMMddHHmmss" or "yyyy-MM-dd HH:mm:ss" in Beijing time → Date. */
export function parseV2Time(text: string | undefined): Date | undefined {
  const m = text ? /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(text) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h - 8, mi, s));
}

export function v2RefundStatus(status: V2RefundStatus | string): RefundFacts['status'] {
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

function isNotFound(err: unknown, code: string): boolean {
  return err instanceof WxpayUpstreamError && err.upstreamCode === code;
}

export interface V2GatewayOptions {
  config: PayV2Config;
  notifyUrl?: string;
  refundNotifyUrl?: string;
  /** config.v2ClientCertificate(): presented on /secapi/pay/refund when the base URL is https. */
  clientCertificate?: V2ClientCertificate;
}

export class V2Gateway implements PayGateway {
  readonly apiVersion = 'v2' as const;
  readonly client: V2Client;

  constructor(private readonly opts: V2GatewayOptions) {
    const c = opts.config;
    this.client = createV2Client(
      { appid: c.appid, mchid: c.mchid, baseUrl: c.baseUrl, apiV2Key: c.apiV2Key, signType: c.signType },
      opts.clientCertificate ? { clientCertificate: opts.clientCertificate } : {},
    );
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
      };
      if (q.cashFee !== undefined) facts.payerTotalFen = q.cashFee;
      if (q.openid) facts.payerOpenid = q.openid;
      return { state: q.tradeState, facts, appid: q.raw.appid ?? '', mchid: q.raw.mch_id ?? '' };
    }
    if (q.tradeState === 'CLOSED' || q.tradeState === 'REVOKED') return { state: q.tradeState };
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
      ...(input.reason ? { refundDesc: input.reason } : {}),
      ...(this.opts.refundNotifyUrl ? { notifyUrl: this.opts.refundNotifyUrl } : {}),
    });
    // v2 accepts a refund request without telling its final status: it is PROCESSING until notified.
    return { status: 'PROCESSING', refundId: r.refundId, refundFen: r.refundFee };
  }

  async queryRefund(outRefundNo: string): Promise<RefundView> {
    let q;
    try {
      q = await this.client.refundQuery({ outRefundNo });
    } catch (err) {
      if (isNotFound(err, 'REFUNDNOTEXIST')) return { status: 'NOT_FOUND' };
      throw err;
    }
    const item = q.refunds.find((r) => r.outRefundNo === outRefundNo);
    if (!item) return { status: 'NOT_FOUND' };
    const facts: RefundFacts & { outTradeNo?: string } = {
      status: v2RefundStatus(item.status),
      refundId: item.refundId,
      refundFen: item.refundFee,
      outTradeNo: q.outTradeNo,
    };
    const at = parseV2Time(item.successTime);
    if (at) facts.successAt = at;
    return facts;
  }
}
