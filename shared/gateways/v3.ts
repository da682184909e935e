// PayGateway over WeChat Pay API v3 (shared/wxpay/v3). Built once per function instance from the
// parsed configuration; verification mode (platform certificate, public key, or both during a
// migration) follows from which keys are configured. Notifications are JSON envelopes signed with
// Wechatpay-* headers; the endpoint answers 204, or a JSON {code, message} with a 4xx/5xx status.
import type { KeyObject } from 'node:crypto';
import type { NotifyV3Config, PayV3Config } from '../config/config';
import type { PaymentFacts } from '../domain/order';
import type { RefundFacts } from '../domain/refund';
import { emptyResponse, jsonResponse, type TriggerRequest, type TriggerResponse } from '../http/trigger';
import { WxpayUpstreamError } from '../wxpay/errors';
import {
  CompositeVerifier,
  NotificationParser,
  PublicKeyVerifier,
  Validator,
  createWxpayV3,
  rfc3339China,
  type WxpayV3,
} from '../wxpay/v3';
import type { SharedCertificateStore } from '../wxpay/v3/certificate-store';
import { v3BillSource, type BillSource } from '../ledger/bill-source';
import type { Refund, Transaction } from '../wxpay/v3/types';
import type {
  Acknowledgement,
  NotificationFacts,
  NotificationGateway,
  NotificationKind,
  NotifyUrls,
  PayGateway,
  PrepayInput,
  RefundInput,
  RefundLookup,
  TradeView,
} from './gateway';

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

/** A refund as the API answers it or as its notification reports it (which names the status `refund_status`). */
export function refundFactsOf(
  status: Refund['status'],
  r: Pick<Refund, 'refund_id' | 'success_time'> & { amount: { refund: number } },
): RefundFacts {
  const facts: RefundFacts = { status, refundId: r.refund_id, refundFen: r.amount.refund };
  if (r.success_time) facts.successAt = new Date(r.success_time);
  return facts;
}

/** Verifies and answers v3 notifications; needs the apiV3 key and the verification keys only. */
export class V3Notifications implements NotificationGateway {
  readonly apiVersion = 'v3' as const;

  constructor(
    readonly merchant: { appid: string; mchid: string },
    private readonly parser: NotificationParser,
  ) {}

  /**
   * The parser of an endpoint without merchant credentials (public-key mode): it verifies with the
   * public key alone and says what to configure when a certificate-signed notification arrives.
   */
  static publicKeyOnly(config: NotifyV3Config, publicKey: { id: string; key: KeyObject }): V3Notifications {
    const verifier = new CompositeVerifier(
      { publicKey: new PublicKeyVerifier(publicKey.id, publicKey.key) },
      {
        certificates:
          'this function has no merchant key to download certificates with; give it WXPAY_SERIAL_NO and WXPAY_PRIVATE_KEY (WeChat signs some notifications with a certificate during its 7-day switch to the public key)',
      },
    );
    return new V3Notifications(
      { appid: config.appid, mchid: config.mchid },
      new NotificationParser({ validator: new Validator({ verifier }), apiV3Key: config.apiV3Key }),
    );
  }

  async verifyNotification(kind: NotificationKind, req: TriggerRequest): Promise<NotificationFacts> {
    if (kind === 'pay') {
      const n = await this.parser.parseTransaction(req.headers, req.rawBody);
      const t = n.resource;
      const facts: NotificationFacts = {
        id: n.envelope.id,
        eventType: n.envelope.event_type,
        outTradeNo: t.out_trade_no,
        appid: t.appid,
        mchid: t.mchid,
      };
      // The event type is on the unencrypted envelope; only the decrypted, authenticated trade_state
      // says the money moved. Anything but SUCCESS is recorded by the use case and pays nothing.
      if (t.trade_state === 'SUCCESS') facts.payment = paymentFactsOf(t);
      return facts;
    }
    const n = await this.parser.parseRefund(req.headers, req.rawBody);
    const r = n.resource;
    return {
      id: n.envelope.id,
      eventType: n.envelope.event_type,
      outTradeNo: r.out_trade_no,
      outRefundNo: r.out_refund_no,
      mchid: r.mchid,
      refund: refundFactsOf(r.refund_status, r),
    };
  }

  acknowledge(ack: Acknowledgement): TriggerResponse {
    return ack.received
      ? emptyResponse(204)
      : jsonResponse(ack.status, { code: 'FAIL', message: ack.message });
  }
}

export interface V3GatewayOptions extends NotifyUrls {
  config: PayV3Config;
  /** Platform certificates shared by every instance, so that downloads are rate-limited deployment-wide. */
  sharedCertificates?: SharedCertificateStore;
}

export class V3Gateway implements PayGateway {
  readonly apiVersion = 'v3' as const;
  readonly merchant: { appid: string; mchid: string };
  private readonly wxpay: WxpayV3;
  readonly #notifications: V3Notifications;

  constructor(private readonly opts: V3GatewayOptions) {
    const c = opts.config;
    this.merchant = { appid: c.appid, mchid: c.mchid };
    this.wxpay = createWxpayV3({
      mchid: c.mchid,
      serialNo: c.serialNo,
      privateKey: c.privateKey,
      apiV3Key: c.apiV3Key,
      baseURL: c.baseUrl,
      publicKey: c.publicKey,
      sharedCertificates: opts.sharedCertificates,
    });
    // The notification parser shares the client's verifier (public key and downloaded certificates);
    // createWxpayV3 builds it whenever the apiV3 key is given, which PayV3Config always has.
    this.#notifications = new V3Notifications(this.merchant, this.wxpay.notifications!);
  }

  verifyNotification(kind: NotificationKind, req: TriggerRequest): Promise<NotificationFacts> {
    return this.#notifications.verifyNotification(kind, req);
  }

  acknowledge(ack: Acknowledgement): TriggerResponse {
    return this.#notifications.acknowledge(ack);
  }

  async prepay(input: PrepayInput): Promise<{ prepayId: string }> {
    if (!this.opts.notifyUrl) throw new Error('V3Gateway: notifyUrl is required to prepay');
    const res = await this.wxpay.client.jsapiPrepay({
      appid: this.opts.config.appid,
      description: input.description,
      out_trade_no: input.outTradeNo,
      time_expire: rfc3339China(input.expiresAt.getTime()),
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
      reason: input.reason,
      notify_url: this.opts.refundNotifyUrl,
      amount: { refund: input.refundFen, total: input.totalFen, currency: 'CNY' },
    });
    return refundFactsOf(r.status, r);
  }

  async queryRefund(outRefundNo: string): Promise<RefundLookup> {
    try {
      const r = await this.wxpay.client.queryRefund(outRefundNo);
      return { ...refundFactsOf(r.status, r), outTradeNo: r.out_trade_no };
    } catch (err) {
      if (isNotFound(err)) return { status: 'NOT_FOUND' };
      throw err;
    }
  }

  bills(): BillSource {
    return v3BillSource(this.wxpay.client);
  }
}
