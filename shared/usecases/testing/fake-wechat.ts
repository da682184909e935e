// A fake WeChat Pay behind the PayGateway interface, for the use cases' unit tests: it keeps trades
// and refunds as WeChat would (a prepay per out_trade_no, refunds bounded by what was paid, closing a
// paid trade refused with ORDERPAID), lets a test play the payer and WeChat's own processing, injects
// faults, and sends notifications "signed" with a key only it and the test hold. It fakes WeChat, not
// our code: the protocol adapters (gateways/v3.ts, v2.ts) are tested against the simulator.
// Over 250 lines because it is a small WeChat Pay of its own: trades, refunds, notifications and faults.
import { createHmac, randomBytes } from 'node:crypto';
import type { RequestPaymentParams } from '../../contracts/api';
import type { PaymentFacts } from '../../domain/order';
import type { RefundFacts } from '../../domain/refund';
import type {
  Acknowledgement,
  NotificationFacts,
  NotificationKind,
  PayGateway,
  PrepayInput,
  RefundInput,
  RefundLookup,
  TradeView,
} from '../../gateways/gateway';
import type { TriggerRequest, TriggerResponse } from '../../http/trigger';
import { WxpayError, WxpayUpstreamError } from '../../wxpay/errors';
import type { BillSource } from '../../ledger/bill-source';

export interface FakeTrade {
  outTradeNo: string;
  amountFen: number;
  openid: string;
  prepayId: string;
  expiresAt: Date;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';
  transactionId?: string;
  paidAt?: Date;
}

export interface FakeRefund {
  outRefundNo: string;
  outTradeNo: string;
  refundFen: number;
  refundId: string;
  status: RefundFacts['status'];
  successAt?: Date;
}

type Operation = 'prepay' | 'queryTrade' | 'closeTrade' | 'refund' | 'queryRefund';

/** What a forged or tampered notification raises: the sender is refused with 401. */
export class FakeSignatureError extends WxpayError {
  override readonly name = 'FakeSignatureError';
  readonly code = 'WXPAY_VERIFICATION';
  readonly httpStatus = 401 as const;
}

export const FAKE_MERCHANT = { appid: 'wxfake0000000001', mchid: '1900000109' } as const;

const upstream = (code: string, message: string) => new WxpayUpstreamError(message, 400, code);

export class FakeWechat implements PayGateway {
  readonly apiVersion = 'v3' as const;
  readonly merchant = { ...FAKE_MERCHANT };
  readonly trades = new Map<string, FakeTrade>();
  readonly refundsByNo = new Map<string, FakeRefund>();
  /** Every call the use cases made, e.g. `prepay K1a2b…`. */
  readonly calls: string[] = [];
  readonly #faults = new Map<Operation, Error[]>();
  readonly #notifyKey = randomBytes(32);
  #serial = 0;

  /** The next call of `op` throws `err` (queued: several calls fail in turn). */
  failNext(op: Operation, err: Error): void {
    this.#faults.set(op, [...(this.#faults.get(op) ?? []), err]);
  }

  #enter(op: Operation, subject: string): void {
    this.calls.push(`${op} ${subject}`);
    const err = this.#faults.get(op)?.shift();
    if (err) throw err;
  }

  #id(prefix: string): string {
    return `${prefix}${String(++this.#serial).padStart(10, '0')}`;
  }

  callsOf(op: Operation): string[] {
    return this.calls.filter((c) => c.startsWith(`${op} `));
  }

  // ---- WeChat's side: the payer pays, WeChat finishes a refund ----

  /** The payer completes wx.requestPayment; returns what WeChat then reports. */
  pay(outTradeNo: string, at = new Date()): PaymentFacts {
    const t = this.trades.get(outTradeNo);
    if (!t) throw new Error(`fake WeChat: no trade ${outTradeNo}`);
    if (t.state === 'NOTPAY') {
      t.state = 'SUCCESS';
      t.transactionId = this.#id('4200');
      t.paidAt = at;
    }
    return this.#paymentFacts(t);
  }

  /** WeChat finishes a refund (as it does some seconds after accepting it). */
  finishRefund(outRefundNo: string, status: RefundFacts['status'] = 'SUCCESS', at = new Date()): RefundFacts {
    const r = this.refundsByNo.get(outRefundNo);
    if (!r) throw new Error(`fake WeChat: no refund ${outRefundNo}`);
    r.status = status;
    if (status === 'SUCCESS') {
      r.successAt = at;
      const t = this.trades.get(r.outTradeNo);
      if (t) t.state = 'REFUND';
    }
    return this.#refundFacts(r);
  }

  #paymentFacts(t: FakeTrade): PaymentFacts {
    return {
      transactionId: t.transactionId ?? '',
      amountTotalFen: t.amountFen,
      payerTotalFen: t.amountFen,
      payerOpenid: t.openid,
      paidAt: t.paidAt ?? new Date(),
    };
  }

  #refundFacts(r: FakeRefund): RefundFacts {
    return { status: r.status, refundId: r.refundId, refundFen: r.refundFen, successAt: r.successAt };
  }

  // ---- PayGateway ----

  prepay(input: PrepayInput): Promise<{ prepayId: string }> {
    this.#enter('prepay', input.outTradeNo);
    const existing = this.trades.get(input.outTradeNo);
    if (existing) {
      if (existing.state === 'SUCCESS' || existing.state === 'REFUND')
        return Promise.reject(upstream('ORDERPAID', 'the order is paid'));
      if (existing.state === 'CLOSED') return Promise.reject(upstream('ORDER_CLOSED', 'the order is closed'));
      if (existing.amountFen !== input.amountFen)
        return Promise.reject(upstream('INVALID_REQUEST', 'out_trade_no was used with other parameters'));
      return Promise.resolve({ prepayId: existing.prepayId });
    }
    const trade: FakeTrade = {
      outTradeNo: input.outTradeNo,
      amountFen: input.amountFen,
      openid: input.openid,
      prepayId: this.#id('wx'),
      expiresAt: input.expiresAt,
      state: 'NOTPAY',
    };
    this.trades.set(trade.outTradeNo, trade);
    return Promise.resolve({ prepayId: trade.prepayId });
  }

  paymentParams(prepayId: string): RequestPaymentParams {
    return {
      timeStamp: '0',
      nonceStr: 'fake',
      package: `prepay_id=${prepayId}`,
      signType: 'RSA',
      paySign: 'fake',
    };
  }

  queryTrade(outTradeNo: string): Promise<TradeView> {
    this.#enter('queryTrade', outTradeNo);
    const t = this.trades.get(outTradeNo);
    if (!t) return Promise.resolve({ state: 'NOT_FOUND' });
    if (t.state === 'SUCCESS' || t.state === 'REFUND')
      return Promise.resolve({ state: t.state, facts: this.#paymentFacts(t), ...this.merchant });
    return Promise.resolve({ state: t.state });
  }

  closeTrade(outTradeNo: string): Promise<void> {
    this.#enter('closeTrade', outTradeNo);
    const t = this.trades.get(outTradeNo);
    if (t?.state === 'SUCCESS' || t?.state === 'REFUND')
      return Promise.reject(upstream('ORDERPAID', 'the order is paid'));
    if (t) t.state = 'CLOSED';
    return Promise.resolve();
  }

  refund(input: RefundInput): Promise<RefundFacts> {
    this.#enter('refund', input.outRefundNo);
    const same = this.refundsByNo.get(input.outRefundNo);
    if (same) return Promise.resolve(this.#refundFacts(same));
    const t = this.trades.get(input.outTradeNo);
    if (!t || (t.state !== 'SUCCESS' && t.state !== 'REFUND'))
      return Promise.reject(upstream('RESOURCE_NOT_EXISTS', 'no paid trade'));
    const refunded = [...this.refundsByNo.values()]
      .filter((r) => r.outTradeNo === t.outTradeNo && r.status !== 'CLOSED')
      .reduce((sum, r) => sum + r.refundFen, 0);
    if (input.totalFen !== t.amountFen || refunded + input.refundFen > t.amountFen)
      return Promise.reject(upstream('NOT_ENOUGH', 'refund exceeds what was paid'));
    const r: FakeRefund = {
      outRefundNo: input.outRefundNo,
      outTradeNo: t.outTradeNo,
      refundFen: input.refundFen,
      refundId: this.#id('5030'),
      status: 'PROCESSING',
    };
    this.refundsByNo.set(r.outRefundNo, r);
    return Promise.resolve(this.#refundFacts(r));
  }

  queryRefund(outRefundNo: string): Promise<RefundLookup> {
    this.#enter('queryRefund', outRefundNo);
    const r = this.refundsByNo.get(outRefundNo);
    if (!r) return Promise.resolve({ status: 'NOT_FOUND' });
    return Promise.resolve({ ...this.#refundFacts(r), outTradeNo: r.outTradeNo });
  }

  bills(): BillSource {
    throw new Error('FakeWechat serves no bills: the ledger tests use the simulator');
  }

  // ---- notifications: a JSON body, authenticated by an HMAC only WeChat (this fake) can make ----

  #mac(body: Buffer): string {
    return createHmac('sha256', this.#notifyKey).update(body).digest('hex');
  }

  /** The request WeChat would POST to a notify URL. `forged` signs it with another key. */
  notification(facts: NotificationFacts, opts: { forged?: boolean; method?: string } = {}): TriggerRequest {
    const rawBody = Buffer.from(JSON.stringify(facts));
    const signature = opts.forged
      ? createHmac('sha256', 'not the key').update(rawBody).digest('hex')
      : this.#mac(rawBody);
    return {
      method: opts.method ?? 'POST',
      path: '/notify',
      headers: { 'x-fake-signature': signature },
      query: {},
      rawBody,
    };
  }

  verifyNotification(_kind: NotificationKind, req: TriggerRequest): Promise<NotificationFacts> {
    if (req.headers['x-fake-signature'] !== this.#mac(req.rawBody))
      return Promise.reject(new FakeSignatureError('notification signature does not verify'));
    const facts = JSON.parse(req.rawBody.toString('utf8')) as NotificationFacts;
    if (facts.payment) facts.payment.paidAt = new Date(facts.payment.paidAt);
    if (facts.refund?.successAt) facts.refund.successAt = new Date(facts.refund.successAt);
    return Promise.resolve(facts);
  }

  acknowledge(ack: Acknowledgement): TriggerResponse {
    return ack.received
      ? { statusCode: 204, headers: {}, body: '', isBase64Encoded: false }
      : {
          statusCode: ack.status,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ code: 'FAIL', message: ack.message }),
          isBase64Encoded: false,
        };
  }
}
