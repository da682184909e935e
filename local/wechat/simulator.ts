// The simulator's business core, shared by the v3 and v2 protocol adapters and the control API:
// users and login codes, orders and their payment, refunds and their completion, notifications.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { SimClock } from './clock';
import { randomAlnum, randomDigits, rsaVerify, v2Sign, v3PaySignMessage, safeEqual } from './crypto';
import type { FaultRegistry } from './faults';
import type { Registry } from './merchant';
import type { Notifier } from './notifier';
import {
  REFUND_EVENT,
  refundNotificationJson,
  transactionJson,
  v2PaymentNotification,
  v2RefundNotification,
  v3Envelope,
} from './resources';
import type { ResponseSigner } from './signer';
import {
  SimState,
  type LoginCode,
  type RefundStatus,
  type SimOrder,
  type SimRefund,
  type SimUser,
} from './state';
import { compactCst } from './time';

export const PREPAY_LIFETIME_MS = 2 * 3600_000;
export const LOGIN_CODE_LIFETIME_MS = 5 * 60_000;

export type PayOutcome = 'success' | 'cancel' | 'fail' | 'userpaying';

export interface SimulatorOptions {
  refundDelayMs: number;
  allowHttpLoopbackNotify: boolean;
}

export class Simulator {
  readonly state = new SimState();

  constructor(
    readonly registry: Registry,
    readonly clock: SimClock,
    readonly signer: ResponseSigner,
    readonly faults: FaultRegistry,
    readonly notifier: Notifier,
    readonly events: EventEmitter,
    readonly options: SimulatorOptions,
  ) {}

  private refundTimers = new Map<string, () => void>();

  // ---- users and login ----

  defaultAppid(): string {
    return [...this.registry.apps.keys()][0];
  }

  createUser(appid = this.defaultAppid(), withUnionid = false): SimUser {
    const user: SimUser = {
      openid: `o${randomAlnum(5)}${randomBytes(16).toString('base64url').slice(0, 22)}`,
      appid,
      ...(withUnionid
        ? { unionid: `o${randomAlnum(5)}${randomBytes(16).toString('base64url').slice(0, 22)}` }
        : {}),
      createdAt: this.clock.now(),
    };
    this.state.users.set(user.openid, user);
    this.events.emit('user', { ...user });
    return user;
  }

  issueLoginCode(openid: string): LoginCode {
    const user = this.state.users.get(openid);
    if (!user) throw new Error(`unknown test user ${openid}; create one with POST /sim/users`);
    const code: LoginCode = {
      code: randomAlnum(32),
      openid,
      appid: user.appid,
      expiresAt: this.clock.now() + LOGIN_CODE_LIFETIME_MS,
      used: false,
    };
    this.state.codes.set(code.code, code);
    return code;
  }

  // ---- orders ----

  newPrepayId(): string {
    return `wx${compactCst(this.clock.now())}${randomBytes(10).toString('hex')}`;
  }

  /** A new unpaid order with a fresh prepay id valid for two hours of simulator time. */
  createOrder(fields: Omit<SimOrder, 'prepayId' | 'prepayExpiresAt' | 'createdAt' | 'state'>): SimOrder {
    const now = this.clock.now();
    const order: SimOrder = {
      ...fields,
      prepayId: this.newPrepayId(),
      prepayExpiresAt: now + PREPAY_LIFETIME_MS,
      createdAt: now,
      state: 'NOTPAY',
    };
    this.saveOrder(order);
    return order;
  }

  /** A repeated prepay after the old prepay id expired gets a new one; returns whether it did. */
  renewExpiredPrepay(order: SimOrder): boolean {
    const now = this.clock.now();
    if (now < order.prepayExpiresAt) return false;
    order.prepayId = this.newPrepayId();
    order.prepayExpiresAt = now + PREPAY_LIFETIME_MS;
    return true;
  }

  saveOrder(order: SimOrder): void {
    this.state.orders.set(`${order.mchid}:${order.outTradeNo}`, order);
    this.emitOrder(order);
  }

  emitOrder(order: SimOrder): void {
    this.events.emit('order', { ...order, tradeState: this.state.tradeState(order) });
  }

  /**
   * Plays the payer finishing `wx.requestPayment` for `order`; returns the errMsg the phone shows.
   * Preconditions (signature, payer) are checked by the caller.
   */
  pay(order: SimOrder, outcome: PayOutcome = 'success'): string {
    const now = this.clock.now();
    if (order.state === 'SUCCESS') return 'requestPayment:fail 该订单已支付';
    if (order.state === 'CLOSED') return 'requestPayment:fail 该订单已关闭';
    if (order.state === 'PAYERROR') return 'requestPayment:fail 该订单已支付失败，请重新下单';
    if (now >= order.prepayExpiresAt) return 'requestPayment:fail prepay_id已过期';
    if (order.timeExpire !== undefined && now >= order.timeExpire)
      return 'requestPayment:fail 订单已超过支付截止时间';
    switch (outcome) {
      case 'cancel':
        return 'requestPayment:fail cancel';
      case 'fail':
        order.state = 'PAYERROR';
        this.emitOrder(order);
        return 'requestPayment:fail 支付失败';
      case 'userpaying':
        order.state = 'USERPAYING';
        this.emitOrder(order);
        return 'requestPayment:fail 用户支付中';
      case 'success':
        break;
    }
    order.state = 'SUCCESS';
    order.transactionId = `4200${randomDigits(24)}`;
    order.successTime = now;
    order.payerTotal = order.total;
    order.bankType = 'OTHERS';
    this.emitOrder(order);
    this.notifyPayment(order);
    return 'requestPayment:ok';
  }

  /** Checks the paySign a mini-program passes to `wx.requestPayment`, per the order's API version. */
  paySignValid(
    order: SimOrder,
    p: { timeStamp: string; nonceStr: string; package: string; signType: string; paySign: string },
  ): boolean {
    const merchant = this.registry.merchants.get(order.mchid)!;
    if (order.apiVersion === 'v3') {
      if (p.signType !== 'RSA') return false;
      return rsaVerify(
        v3PaySignMessage(order.appid, p.timeStamp, p.nonceStr, p.package),
        p.paySign,
        merchant.merchantPublicKey,
      );
    }
    if (p.signType !== 'MD5' && p.signType !== 'HMAC-SHA256') return false;
    const expected = v2Sign(
      {
        appId: order.appid,
        nonceStr: p.nonceStr,
        package: p.package,
        signType: p.signType,
        timeStamp: p.timeStamp,
      },
      merchant.apiV2Key,
      p.signType,
    );
    return safeEqual(p.paySign.toUpperCase(), expected);
  }

  private notifyPayment(order: SimOrder): void {
    const merchant = this.registry.merchants.get(order.mchid)!;
    const body =
      order.apiVersion === 'v3'
        ? JSON.stringify(
            v3Envelope({
              eventType: 'TRANSACTION.SUCCESS',
              summary: '支付成功',
              originalType: 'transaction',
              resource: transactionJson(order, 'SUCCESS'),
              apiV3Key: merchant.apiV3Key,
              nowMs: this.clock.now(),
            }),
          )
        : v2PaymentNotification(order, merchant.apiV2Key);
    this.notifier.enqueue({
      eventType: 'TRANSACTION.SUCCESS',
      url: order.notifyUrl,
      apiVersion: order.apiVersion,
      outTradeNo: order.outTradeNo,
      body,
    });
  }

  // ---- refunds ----

  newRefundId(): string {
    return `50${randomDigits(27)}`;
  }

  saveRefund(refund: SimRefund): void {
    this.state.refunds.set(`${refund.mchid}:${refund.outRefundNo}`, refund);
    this.events.emit('refund', { ...refund });
    const order = this.state.order(refund.mchid, refund.outTradeNo);
    if (order) this.emitOrder(order);
    const key = `${refund.mchid}:${refund.outRefundNo}`;
    const job = this.clock.schedule(this.options.refundDelayMs, () => {
      this.refundTimers.delete(key);
      this.completeRefund(refund, 'SUCCESS');
    });
    this.refundTimers.set(key, () => job.cancel());
  }

  /** Moves a PROCESSING refund to its final status and notifies; false when it was already final. */
  completeRefund(refund: SimRefund, status: Exclude<RefundStatus, 'PROCESSING'>): boolean {
    if (refund.status !== 'PROCESSING') return false;
    const key = `${refund.mchid}:${refund.outRefundNo}`;
    this.refundTimers.get(key)?.();
    this.refundTimers.delete(key);
    refund.status = status;
    if (status === 'SUCCESS') refund.successTime = this.clock.now();
    this.events.emit('refund', { ...refund });
    const order = this.state.order(refund.mchid, refund.outTradeNo);
    if (order) this.emitOrder(order);
    if (refund.notifyUrl) {
      const merchant = this.registry.merchants.get(refund.mchid)!;
      const { eventType, summary } = REFUND_EVENT[status];
      const body =
        refund.apiVersion === 'v3'
          ? JSON.stringify(
              v3Envelope({
                eventType,
                summary,
                originalType: 'refund',
                resource: refundNotificationJson(refund),
                apiV3Key: merchant.apiV3Key,
                nowMs: this.clock.now(),
              }),
            )
          : v2RefundNotification(refund, order?.appid ?? this.defaultAppid(), merchant.apiV2Key);
      this.notifier.enqueue({
        eventType,
        url: refund.notifyUrl,
        apiVersion: refund.apiVersion,
        outTradeNo: refund.outTradeNo,
        outRefundNo: refund.outRefundNo,
        body,
      });
    }
    return true;
  }

  reset(): void {
    for (const cancel of this.refundTimers.values()) cancel();
    this.refundTimers.clear();
    this.state.clear();
    this.notifier.reset();
    this.faults.clear();
    this.events.emit('reset');
  }
}
