// Checkout page: one CheckoutFlow per visit, so every tap on "pay" reuses the same idempotency key.
// The first tap also opens WeChat's subscription dialog (logic/subscribe.ts), inside the tap.
import type { AppOption } from '../../app';
import { formatPrice } from '../../lib/money';
import { emptyCart, toCartItems, totalFen } from '../../logic/cart';
import { CheckoutFlow, type CheckoutState } from '../../logic/checkout';

const app = getApp<AppOption>();

const SUBSCRIBED_NOTE = '支付、退款和发货的结果会通过服务通知告诉你';

function view(state: CheckoutState) {
  switch (state.step) {
    case 'ready':
      return { step: state.step, message: '', orderId: '' };
    case 'paid':
      return {
        step: state.step,
        message: `支付成功 ${formatPrice(state.order.amountFen)}`,
        orderId: state.order.orderId,
      };
    case 'confirming':
    case 'cancelled':
      return { step: state.step, message: state.message, orderId: state.orderId };
    case 'failed':
      return { step: state.step, message: state.message, orderId: state.orderId ?? '' };
  }
}

Page({
  data: {
    lines: [] as { name: string; quantity: number; price: string }[],
    total: '',
    busy: false,
    step: 'ready' as CheckoutState['step'],
    message: '',
    orderId: '',
    /** Shown once the user accepted messages in the subscription dialog. */
    subscribed: '',
  },
  flow: null as CheckoutFlow | null,

  onLoad() {
    const cart = app.cart;
    this.flow = new CheckoutFlow(toCartItems(cart), {
      wx: app.services.wx,
      api: app.services.api,
      auth: app.services.auth,
    });
    this.setData({
      lines: cart.lines.map((l) => ({
        name: l.product.name,
        quantity: l.quantity,
        price: formatPrice(l.product.priceFen * l.quantity),
      })),
      total: formatPrice(totalFen(cart)),
    });
  },

  async onPay() {
    if (!this.flow || this.data.busy) return;
    this.setData({ busy: true, message: '' });
    const state = await this.flow.pay();
    if (state.step === 'paid') app.cart = emptyCart();
    const accepted = await this.flow.accepted();
    this.setData({
      busy: false,
      ...view(state),
      subscribed: accepted.length > 0 ? SUBSCRIBED_NOTE : '',
    });
  },

  async onRecheck() {
    if (!this.flow) return;
    this.setData({ busy: true });
    const state = await this.flow.confirm();
    if (state.step === 'paid') app.cart = emptyCart();
    this.setData({ busy: false, ...view(state) });
  },

  async onAbandon() {
    if (!this.flow) return;
    try {
      await this.flow.abandon();
    } finally {
      app.cart = emptyCart();
      wx.navigateBack();
    }
  },

  onViewOrder() {
    if (this.data.orderId)
      wx.redirectTo({ url: `/pages/order-detail/order-detail?orderId=${this.data.orderId}` });
  },
});
