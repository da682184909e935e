// Order detail: shows one order, requests a refund, and follows the refund until it is final; for a
// shipped order, opens WeChat's confirm-receipt component and follows the order until it is confirmed.
import type { FulfilmentStatus, OrdersGetResponse, RefundResponse, RefundView } from '../types/api';
import type { ApiClient } from '../lib/api-client';
import type { Auth } from '../lib/auth';
import type { BusinessViewParam, BusinessViewResult } from '../lib/wx-port';
import { sleep as realSleep } from '../lib/retry';
import { isFinalRefund } from './labels';

export interface WatchPolicy {
  intervalMs: number;
  /** Upper bound on orders.get calls; the page can always be refreshed by hand. */
  maxPolls: number;
}

export const DEFAULT_WATCH: WatchPolicy = { intervalMs: 2000, maxPolls: 30 };

/** An owner may ask for a full refund of a paid order with nothing refunded or refunding yet. */
export function canRequestRefund(order: OrdersGetResponse): boolean {
  return order.status === 'SUCCESS' && order.refundedFen === 0 && order.refundingFen === 0;
}

const FULFILMENT: Record<FulfilmentStatus, string> = {
  PENDING: '待发货',
  SHIPPED: '已发货',
  CONFIRMED: '已确认收货',
  SETTLED: '已完成',
};

export const fulfilmentStatusLabel = (status: FulfilmentStatus): string => FULFILMENT[status];

/** The user may confirm receipt of a paid order once it is shipped and until they have. */
export function canConfirmReceipt(order: OrdersGetResponse): boolean {
  return order.status === 'SUCCESS' && order.fulfilment.status === 'SHIPPED' && !!order.transactionId;
}

/** What WeChat's confirm-receipt component is opened with; merchantId may be left '' (optional there). */
export function confirmReceiptView(order: OrdersGetResponse, merchantId = ''): BusinessViewParam {
  return {
    businessType: 'weappOrderConfirm',
    extraData: {
      ...(order.transactionId ? { transaction_id: order.transactionId } : {}),
      ...(merchantId ? { merchant_id: merchantId } : {}),
      merchant_trade_no: order.orderId,
    },
  };
}

export class OrderDetailModel {
  order: OrdersGetResponse | null = null;
  private stopped = false;

  constructor(
    readonly orderId: string,
    private readonly api: ApiClient,
    private readonly auth: Auth,
    private readonly sleep: (ms: number) => Promise<void> = realSleep,
  ) {}

  async load(): Promise<OrdersGetResponse> {
    this.order = await this.auth.withSession(() => this.api.getOrder(this.orderId));
    return this.order;
  }

  async requestRefund(reason?: string): Promise<RefundResponse> {
    const request = reason ? { orderId: this.orderId, reason } : { orderId: this.orderId };
    const refund = await this.auth.withSession(() => this.api.refund(request));
    await this.load();
    return refund;
  }

  /**
   * Re-reads the order until the refund is final, `stop()` is called or the poll budget is spent;
   * `onUpdate` sees every read. Returns the refund as last seen (undefined if the order lacks it).
   */
  async watchRefund(
    refundId: string,
    onUpdate: (order: OrdersGetResponse) => void = () => undefined,
    policy: Partial<WatchPolicy> = {},
  ): Promise<RefundView | undefined> {
    const { intervalMs, maxPolls } = { ...DEFAULT_WATCH, ...policy };
    this.stopped = false;
    let last: RefundView | undefined;
    for (let poll = 1; poll <= maxPolls && !this.stopped; poll++) {
      const order = await this.load();
      onUpdate(order);
      last = order.refunds.find((r) => r.refundId === refundId);
      if (last && isFinalRefund(last.status)) return last;
      if (poll < maxPolls) await this.sleep(intervalMs);
    }
    return last;
  }

  /**
   * Opens the confirm-receipt component for the loaded order; when the user confirmed there, follows
   * the order (WeChat tells our server by message push) until it shows CONFIRMED or later. Returns
   * the component's status: success, cancel or fail.
   */
  async confirmReceipt(
    open: (param: BusinessViewParam) => Promise<BusinessViewResult>,
    merchantId = '',
    onUpdate: (order: OrdersGetResponse) => void = () => undefined,
    policy: Partial<WatchPolicy> = {},
  ): Promise<string> {
    const order = this.order ?? (await this.load());
    if (!canConfirmReceipt(order)) return 'fail';
    const answer = await open(confirmReceiptView(order, merchantId));
    const status = answer.extraData?.status ?? 'success';
    if (status !== 'success') return status;
    const { intervalMs, maxPolls } = { ...DEFAULT_WATCH, ...policy };
    this.stopped = false;
    for (let poll = 1; poll <= maxPolls && !this.stopped; poll++) {
      const fresh = await this.load();
      onUpdate(fresh);
      if (fresh.fulfilment.status === 'CONFIRMED' || fresh.fulfilment.status === 'SETTLED') break;
      if (poll < maxPolls) await this.sleep(intervalMs);
    }
    return status;
  }

  stop(): void {
    this.stopped = true;
  }
}
