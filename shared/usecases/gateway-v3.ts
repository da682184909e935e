// PayGateway over WeChat Pay API v3 (shared/wxpay/v3). Built once per function instance from the
// parsed configuration; verification mode (platform certificate, public key, or both during a
// migration) follows from which keys are configured.
import type { PayV3Config } from '../config/config';
import { DatabaseCertificateStore } from '../db/platform-certificates';
import type { PaymentFacts } from '../domain/order';
import type { RefundFacts } from '../domain/refund';
import { WxpayUpstreamError } from '../wxpay/errors';
import { createWxpayV3, type WxpayV3 } from '../wxpay/v3';
import type { Refund, Transaction } from '../wxpay/v3/types';
import type { PayGateway, PrepayInput, RefundInput, RefundView, TradeView } from './gateway';

/** RFC 3339 in China Standard Time, the form WeChat documents for time_expire. */
export function rfc3339Cst(date: Date): string {
  const shifted = new Date(date.getTime() + 8 * 3600_000).toISOString().slice(0, 19);
  return `${shifted}+08:00`;
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof WxpayUpstreamError &&
    (err.status === 404 ||
      err.upstreamCode === 'ORDER_NOT_EXIST' ||
      err.upstreamCode === 'RESOURCE_NOT_EXISTS')
  );
}

export function paymentFactsOf(
  t: Pick<Transaction, 'transaction_id' | 'amount' | 'payer' | 'success_time'>,
): PaymentFacts {
  const facts: PaymentFacts = {
    transactionId: t.transaction_id ?? '',
    amountTotalFen: t.amount?.total ?? -1,
    paidAt: t.success_time ? new Date(t.success_time) : new Date(),
  };
  if (t.amount?.payer_total !== undefined) facts.payerTotalFen = t.amount.payer_total;
  if (t.payer?.openid) facts.payerOpenid = t.payer.openid;
  return facts;
}

function refundFactsOf(r: Pick<Refund, 'status' | 'refund_id' | 'success_time' | 'amount'>): RefundFacts {
  const facts: RefundFacts = { status: r.status, refundId: r.refund_id, refundFen: r.amount.refund };
  if (r.success_time) facts.successAt = new Date(r.success_time);
  return facts;
}

export interface V3GatewayOptions {
  config: PayV3Config;
  notifyUrl?: string;
  refundNotifyUrl?: string;
}

export class V3Gateway implements PayGateway {
  readonly apiVersion = 'v3' as const;
  readonly wxpay: WxpayV3;

  constructor(private readonly opts: V3GatewayOptions) {
    const c = opts.config;
    this.wxpay = createWxpayV3({
      mchid: c.mchid,
      serialNo: c.serialNo,
      privateKey: c.privateKey,
      apiV3Key: c.apiV3Key,
      baseURL: c.baseUrl,
      ...(c.publicKey ? { publicKey: c.publicKey } : {}),
      sharedCertificates: new DatabaseCertificateStore(c.mchid),
    });
  }

  async prepay(input: PrepayInput): Promise<{ prepayId: string }> {
    if (!this.opts.notifyUrl) throw new Error('V3Gateway: notifyUrl is required to prepay');
    const res = await this.wxpay.client.jsapiPrepay({
      appid: this.opts.config.appid,
      description: input.description,
      out_trade_no: input.outTradeNo,
      time_expire: rfc3339Cst(input.expiresAt),
      notify_url: this.opts.notifyUrl,
      amount: { total: input.amountFen, currency: 'CNY' },
      payer: { openid: input.openid },
    });
    return { prepayId: res.prepay_id };
  }

  paymentParams(prepayId: string) {
    return this.wxpay.paymentParams(this.opts.config.appid, prepayId);
  }

  async queryTrade(outTradeNo: string): Promise<TradeView> {
    let t: Transaction;
    try {
      t = await this.wxpay.client.queryByOutTradeNo(outTradeNo);
    } catch (err) {
      if (isNotFound(err)) return { state: 'NOT_FOUND' };
      throw err;
    }
    if (t.trade_state === 'SUCCESS' || t.trade_state === 'REFUND') {
      return { state: t.trade_state, facts: paymentFactsOf(t), appid: t.appid, mchid: t.mchid };
    }
    if (t.trade_state === 'CLOSED' || t.trade_state === 'REVOKED') return { state: t.trade_state };
    return { state: t.trade_state };
  }

  async closeTrade(outTradeNo: string): Promise<void> {
    try {
      await this.wxpay.client.closeOrder(outTradeNo);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  async refund(input: RefundInput): Promise<RefundFacts> {
    const r = await this.wxpay.client.createRefund({
      out_trade_no: input.outTradeNo,
      out_refund_no: input.outRefundNo,
      ...(input.reason ? { reason: input.reason } : {}),
      ...(this.opts.refundNotifyUrl ? { notify_url: this.opts.refundNotifyUrl } : {}),
      amount: { refund: input.refundFen, total: input.totalFen, currency: 'CNY' },
    });
    return refundFactsOf(r);
  }

  async queryRefund(outRefundNo: string): Promise<RefundView> {
    try {
      const r = await this.wxpay.client.queryRefund(outRefundNo);
      return { ...refundFactsOf(r), outTradeNo: r.out_trade_no };
    } catch (err) {
      if (isNotFound(err)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }
}
