// "My orders": newest first, one page at a time, following the server's `nextBefore` cursor.
import type { OrderView } from '../types/api';
import type { ApiClient } from '../lib/api-client';
import type { Auth } from '../lib/auth';

export class OrderListModel {
  orders: OrderView[] = [];
  private nextBefore: string | undefined;
  private loadedOnce = false;

  constructor(
    private readonly api: ApiClient,
    private readonly auth: Auth,
    readonly pageSize = 10,
  ) {}

  get hasMore(): boolean {
    return !this.loadedOnce || this.nextBefore !== undefined;
  }

  async refresh(): Promise<OrderView[]> {
    const page = await this.auth.withSession(() => this.api.listOrders({ pageSize: this.pageSize }));
    this.orders = page.orders;
    this.nextBefore = page.nextBefore;
    this.loadedOnce = true;
    return this.orders;
  }

  /** Appends the next page; a no-op on the last page. */
  async loadMore(): Promise<OrderView[]> {
    if (!this.loadedOnce) return this.refresh();
    const before = this.nextBefore;
    if (before === undefined) return this.orders;
    const page = await this.auth.withSession(() => this.api.listOrders({ pageSize: this.pageSize, before }));
    const seen = new Set(this.orders.map((o) => o.orderId));
    this.orders = [...this.orders, ...page.orders.filter((o) => !seen.has(o.orderId))];
    this.nextBefore = page.nextBefore;
    return this.orders;
  }
}
