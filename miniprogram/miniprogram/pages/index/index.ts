// Sign-in + catalog + cart. Thin binding: state comes from the logic modules.
import type { AppOption } from '../../app';
import { ApiCallError } from '../../lib/api-client';
import { formatPrice } from '../../lib/money';
import { add, setQuantity, totalFen } from '../../logic/cart';
import { type Product, loadCatalog } from '../../logic/catalog';
import { PhoneBinding, type PhoneNumberDetail, phoneLabel } from '../../logic/phone';

const app = getApp<AppOption>();

interface ProductRow extends Product {
  price: string;
  quantity: number;
}

function rows(products: Product[]): ProductRow[] {
  return products.map((p) => ({
    ...p,
    price: formatPrice(p.priceFen),
    quantity: app.cart.lines.find((l) => l.product.id === p.id)?.quantity ?? 0,
  }));
}

Page({
  data: {
    nickName: '',
    signedIn: false,
    message: '',
    products: [] as ProductRow[],
    total: formatPrice(0),
    canCheckout: false,
    phoneMasked: '',
  },
  catalog: [] as Product[],
  phone: null as PhoneBinding | null,

  async onLoad() {
    await app.signedIn;
    const session = app.services.session.load();
    this.setData({ signedIn: session !== null, nickName: session?.user.nickName ?? '' });
    const phoneShown = this.loadPhone();
    try {
      this.catalog = await loadCatalog(app.services.wx.cloud.database());
      this.render();
    } catch (error) {
      this.setData({ message: '商品加载失败，请下拉刷新' });
      console.warn('catalog', error);
    }
    await phoneShown;
  },

  /** The bound number is a nicety on this page: the catalog shows even when it cannot be read. */
  async loadPhone() {
    this.phone ??= new PhoneBinding(app.services.api, app.services.auth);
    try {
      this.setData({ phoneMasked: phoneLabel(await this.phone.load()) });
    } catch (error) {
      console.warn('phone', error);
    }
  },

  onShow() {
    this.render();
  },

  async onPullDownRefresh() {
    await this.onLoad();
    wx.stopPullDownRefresh();
  },

  render() {
    this.setData({
      products: rows(this.catalog),
      total: formatPrice(totalFen(app.cart)),
      canCheckout: app.cart.lines.length > 0,
    });
  },

  onAdd(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
    const product = this.catalog.find((p) => p.id === e.currentTarget.dataset.id);
    if (!product) return;
    app.cart = add(app.cart, product);
    this.render();
  },

  onRemove(e: WechatMiniprogram.TouchEvent<Record<string, never>, Record<string, never>, { id: string }>) {
    const line = app.cart.lines.find((l) => l.product.id === e.currentTarget.dataset.id);
    if (!line) return;
    app.cart = setQuantity(app.cart, line.product, line.quantity - 1);
    this.render();
  },

  onNickName(e: WechatMiniprogram.Input) {
    this.setData({ nickName: e.detail.value });
  },

  async onSaveProfile() {
    try {
      const session = await app.services.auth.updateProfile({ nickName: this.data.nickName });
      this.setData({ signedIn: true, nickName: session.user.nickName ?? '', message: '已保存' });
    } catch (error) {
      this.setData({ message: error instanceof ApiCallError ? error.userMessage : '保存失败' });
    }
  },

  async onGetPhoneNumber(e: { detail: PhoneNumberDetail }) {
    this.phone ??= new PhoneBinding(app.services.api, app.services.auth);
    const outcome = await this.phone.bind(e.detail);
    this.setData({
      message: outcome.message,
      ...(outcome.kind === 'bound' ? { phoneMasked: phoneLabel(outcome.phone) } : {}),
    });
  },

  onCheckout() {
    wx.navigateTo({ url: '/pages/checkout/checkout' });
  },

  onOrders() {
    wx.navigateTo({ url: '/pages/orders/orders' });
  },
});
