// Order detail with refund request and live refund status (polled while the page is visible), the
// fulfilment state, and 确认收货 through WeChat's component for a shipped order.
import type { AppOption } from '../../app';
import type { OrdersGetResponse } from '../../types/api';
import { ApiCallError } from '../../lib/api-client';
import { formatPrice } from '../../lib/money';
import { orderStatusLabel, refundStatusLabel } from '../../logic/labels';
import { MERCHANT_ID } from '../../config';
import {
  OrderDetailModel,
  canConfirmReceipt,
  canRequestRefund,
  fulfilmentStatusLabel,
} from '../../logic/order-detail';

const app = getApp<AppOption>();

function view(order: OrdersGetResponse) {
  return {
    orderId: order.orderId,
    status: orderStatusLabel(order.status),
    amount: formatPrice(order.amountFen),
    refunded: order.refundedFen > 0 ? formatPrice(order.refundedFen) : '',
    items: order.items.map((i) => ({
      name: i.name,
      quantity: i.quantity,
      price: formatPrice(i.priceFen * i.quantity),
    })),
    refunds: order.refunds.map((r) => ({
      refundId: r.refundId,
      amount: formatPrice(r.amountFen),
      status: refundStatusLabel(r.status),
    })),
    canRefund: canRequestRefund(order),
    fulfilment: order.status === 'SUCCESS' ? fulfilmentStatusLabel(order.fulfilment.status) : '',
    canConfirm: canConfirmReceipt(order),
  };
}

Page({
  data: {
    orderId: '',
    status: '',
    amount: '',
    refunded: '',
    items: [] as { name: string; quantity: number; price: string }[],
    refunds: [] as { refundId: string; amount: string; status: string }[],
    canRefund: false,
    fulfilment: '',
    canConfirm: false,
    busy: false,
    message: '',
  },
  model: null as OrderDetailModel | null,

  onLoad(query: Record<string, string | undefined>) {
    this.model = new OrderDetailModel(query.orderId ?? '', app.services.api, app.services.auth);
  },

  async onShow() {
    const model = this.model;
    if (!model) return;
    try {
      const order = await model.load();
      this.setData(view(order));
      const pending = order.refunds.find((r) => r.status === 'PROCESSING');
      if (pending) void model.watchRefund(pending.refundId, (o) => this.setData(view(o)));
    } catch (error) {
      this.setData({ message: error instanceof ApiCallError ? error.userMessage : '加载失败' });
    }
  },

  onHide() {
    this.model?.stop();
  },

  onUnload() {
    this.model?.stop();
  },

  async onConfirmReceipt() {
    const model = this.model;
    if (!model || this.data.busy) return;
    this.setData({ busy: true, message: '' });
    try {
      const status = await model.confirmReceipt(
        (param) => wx.openBusinessView(param),
        MERCHANT_ID,
        (o) => this.setData(view(o)),
      );
      if (status === 'fail') this.setData({ message: '确认收货未完成，请稍后再试' });
    } catch (error) {
      this.setData({
        message: error instanceof ApiCallError ? error.userMessage : '确认收货未完成，请稍后再试',
      });
    } finally {
      this.setData({ busy: false });
    }
  },

  async onRefund() {
    const model = this.model;
    if (!model || this.data.busy) return;
    const { confirm } = await wx.showModal({
      title: '申请退款',
      content: `退款 ${this.data.amount} 将原路退回`,
    });
    if (!confirm) return;
    this.setData({ busy: true, message: '' });
    try {
      const refund = await model.requestRefund('用户申请退款');
      if (model.order) this.setData(view(model.order));
      void model.watchRefund(refund.refundId, (o) => this.setData(view(o)));
    } catch (error) {
      this.setData({ message: error instanceof ApiCallError ? error.userMessage : '退款申请失败' });
    } finally {
      this.setData({ busy: false });
    }
  },
});
