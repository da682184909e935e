// Order detail: shows one order, requests a refund, and follows the refund until it is final.
import type { OrdersGetResponse, RefundResponse, RefundView } from '../types/api';
import type { ApiClient } from '../lib/api-client';
import type { Auth } from '../lib/auth';
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

  stop(): void {
    this.stopped = true;
  }
}
