// Order list with pull-to-refresh and load-more on reaching the bottom.
import type { AppOption } from '../../app';
import { ApiCallError } from '../../lib/api-client';
import { formatPrice } from '../../lib/money';
import { orderStatusLabel } from '../../logic/labels';
import { OrderListModel } from '../../logic/order-list';

const app = getApp<AppOption>();

Page({
  data: {
    orders: [] as {
      orderId: string;
      description: string;
      amount: string;
      status: string;
      createdAt: string;
    }[],
    hasMore: true,
    loading: false,
    message: '',
  },
  model: null as OrderListModel | null,

  onLoad() {
    this.model = new OrderListModel(app.services.api, app.services.auth);
    void this.load(false);
  },

  async onPullDownRefresh() {
    await this.load(false);
    wx.stopPullDownRefresh();
  },

  onReachBottom() {
    if (this.data.hasMore) void this.load(true);
  },

  async load(more: boolean) {
    const model = this.model;
    if (!model || this.data.loading) return;
    this.setData({ loading: true, message: '' });
    try {
      const orders = more ? await model.loadMore() : await model.refresh();
      this.setData({
        orders: orders.map((o) => ({
          orderId: o.orderId,
          description: o.description,
          amount: formatPrice(o.amountFen),
          status: orderStatusLabel(o.status),
          createdAt: o.createdAt.slice(0, 16).replace('T', ' '),
        })),
        hasMore: model.hasMore,
      });
    } catch (error) {
      this.setData({ message: error instanceof ApiCallError ? error.userMessage : '加载失败' });
    } finally {
      this.setData({ loading: false });
    }
  },

  onOpen(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
    wx.navigateTo({ url: `/pages/order-detail/order-detail?orderId=${e.currentTarget.dataset.id}` });
  },
});
