// Everything the simulator remembers, in memory: test users, login codes, orders, refunds.
import type { V2SignType } from './crypto';

export interface SimUser {
  openid: string;
  appid: string;
  unionid?: string;
  sessionKey?: string;
  createdAt: number;
}

export interface LoginCode {
  code: string;
  openid: string;
  appid: string;
  expiresAt: number;
  used: boolean;
}

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'REFUND' | 'CLOSED' | 'USERPAYING' | 'PAYERROR';
export type ApiVersion = 'v3' | 'v2';

export interface SimOrder {
  apiVersion: ApiVersion;
  /** v2 orders: the sign type the merchant used, reused for notifications. */
  v2SignType?: V2SignType;
  mchid: string;
  appid: string;
  outTradeNo: string;
  description: string;
  attach?: string;
  notifyUrl: string;
  openid: string;
  total: number;
  currency: string;
  timeExpire?: number;
  /** Canonical form of the creating request, to tell a retry from a conflicting reuse. */
  fingerprint: string;
  prepayId: string;
  prepayExpiresAt: number;
  createdAt: number;
  state: Exclude<TradeState, 'REFUND'>;
  transactionId?: string;
  successTime?: number;
  payerTotal?: number;
  bankType?: string;
}

export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';

export interface SimRefund {
  apiVersion: ApiVersion;
  mchid: string;
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  transactionId: string;
  amount: number;
  total: number;
  currency: string;
  reason?: string;
  notifyUrl?: string;
  fingerprint: string;
  status: RefundStatus;
  createdAt: number;
  successTime?: number;
}

export class SimState {
  users = new Map<string, SimUser>();
  codes = new Map<string, LoginCode>();
  orders = new Map<string, SimOrder>(); // key `${mchid}:${outTradeNo}`
  refunds = new Map<string, SimRefund>(); // key `${mchid}:${outRefundNo}`
  jscodeCalls: number[] = [];
  /** Requests received per API target (jsapi, query, certificates, unifiedorder, …), faulted or not. */
  apiCalls = new Map<string, number>();

  countCall(target: string): void {
    this.apiCalls.set(target, (this.apiCalls.get(target) ?? 0) + 1);
  }

  clear(): void {
    this.users.clear();
    this.codes.clear();
    this.orders.clear();
    this.refunds.clear();
    this.jscodeCalls = [];
    this.apiCalls.clear();
  }

  order(mchid: string, outTradeNo: string): SimOrder | undefined {
    return this.orders.get(`${mchid}:${outTradeNo}`);
  }

  orderByTransactionId(mchid: string, transactionId: string): SimOrder | undefined {
    for (const o of this.orders.values())
      if (o.mchid === mchid && o.transactionId === transactionId) return o;
    return undefined;
  }

  orderByPrepayId(prepayId: string): SimOrder | undefined {
    for (const o of this.orders.values()) if (o.prepayId === prepayId) return o;
    return undefined;
  }

  refund(mchid: string, outRefundNo: string): SimRefund | undefined {
    return this.refunds.get(`${mchid}:${outRefundNo}`);
  }

  refundsOf(order: SimOrder): SimRefund[] {
    return [...this.refunds.values()].filter(
      (r) => r.mchid === order.mchid && r.outTradeNo === order.outTradeNo,
    );
  }

  /** Money committed to refunds that have not failed: what can no longer be refunded. */
  refundedOrPending(order: SimOrder): number {
    return this.refundsOf(order)
      .filter((r) => r.status === 'PROCESSING' || r.status === 'SUCCESS')
      .reduce((sum, r) => sum + r.amount, 0);
  }

  /** The trade_state a query reports: a paid order with any refund reads REFUND (转入退款). */
  tradeState(order: SimOrder): TradeState {
    if (
      order.state === 'SUCCESS' &&
      this.refundsOf(order).some((r) => r.status === 'SUCCESS' || r.status === 'PROCESSING')
    )
      return 'REFUND';
    return order.state;
  }
}

export const TRADE_STATE_DESC: Record<TradeState, string> = {
  SUCCESS: '支付成功',
  REFUND: '转入退款',
  NOTPAY: '未支付',
  CLOSED: '已关闭',
  USERPAYING: '用户支付中（付款码支付）',
  PAYERROR: '支付失败(其他原因，如银行返回失败)',
};

/** Stable JSON (sorted keys) for comparing two requests' parameters. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
