// WeChat's 发货信息管理服务 for the simulator's paid orders: shipping uploads with WeChat's validation
// and errcodes, the order states (1 待发货, 2 已发货, 3 确认收货, 4 交易完成, 5 已退款), the one
// allowed change of shipping info, confirm receipt and settlement.
import type { SimOrder, SimState } from './state';

export type OrderState = 1 | 2 | 3 | 4 | 5;

export interface ShippingItem {
  trackingNo?: string;
  expressCompany?: string;
  itemDesc: string;
  contact?: { consignorContact?: string; receiverContact?: string };
}

export interface ShippingUpload {
  logisticsType: 1 | 2 | 3 | 4;
  deliveryMode: 1 | 2;
  isAllDelivered?: boolean;
  shippingList: ShippingItem[];
  /** As the merchant sent it. */
  uploadTime: string;
  receivedAt: number;
}

export interface ShippingRecord {
  uploads: ShippingUpload[];
  confirmedAt?: number;
  confirmMethod?: 1 | 2;
  settledAt?: number;
  remindedConfirm?: boolean;
}

export class ShippingError extends Error {
  constructor(
    readonly errcode: number,
    message: string,
  ) {
    super(message);
  }
}

/** WeChat's delivery ids (get_delivery_list) that the simulator knows. */
export const DELIVERY_IDS = new Set([
  'ZTO',
  'YTO',
  'STO',
  'YD',
  'JTSD',
  'EMS',
  'JD',
  'SF',
  'DBL',
  'HTKY',
  'YZPY',
  'ZJS',
  'BEST',
  'UC',
]);

// RFC 3339 with an explicit offset, fractional seconds optional: 2022-12-15T13:29:35.120+08:00
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
// A masked phone as WeChat requires for SF: digits, with the middle four replaced by ****.
const MASKED_PHONE = /^\+?[0-9]{3,4}\*{4}[0-9]{4}$/;

const param = (message: string) => new ShippingError(10060014, `参数错误: ${message}`);

function obj(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw param(`${what} 必须是对象`);
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string, max: number, errcodeTooLong = 10060014): string {
  if (typeof v !== 'string' || v === '') throw param(`${what} 必填且为字符串`);
  if ([...v].length > max) throw new ShippingError(errcodeTooLong, `${what} 长度超过 ${max}`);
  return v;
}

export class ShippingBook {
  private records = new Map<string, ShippingRecord>(); // `${mchid}:${outTradeNo}`

  constructor(private readonly state: SimState) {}

  record(order: SimOrder): ShippingRecord | undefined {
    return this.records.get(`${order.mchid}:${order.outTradeNo}`);
  }

  private ensure(order: SimOrder): ShippingRecord {
    const key = `${order.mchid}:${order.outTradeNo}`;
    let r = this.records.get(key);
    if (!r) this.records.set(key, (r = { uploads: [] }));
    return r;
  }

  /** WeChat's order_state; undefined for an order WeChat has no paid record of. */
  orderState(order: SimOrder): OrderState | undefined {
    if (order.state !== 'SUCCESS') return undefined;
    const refunded = this.state
      .refundsOf(order)
      .filter((r) => r.status === 'SUCCESS')
      .reduce((s, r) => s + r.amount, 0);
    if (refunded >= order.total) return 5;
    const r = this.record(order);
    if (!r || r.uploads.length === 0) return 1;
    if (r.settledAt !== undefined) return 4;
    if (r.confirmedAt !== undefined) return 3;
    return 2;
  }

  /** `order_key` → the paid order of this app, or 10060001. */
  findOrder(appid: string, orderKeyLike: unknown, flat = false): SimOrder {
    const key = flat ? (orderKeyLike as Record<string, unknown>) : obj(orderKeyLike, 'order_key');
    let order: SimOrder | undefined;
    const type = flat ? (key.transaction_id !== undefined ? 2 : 1) : key.order_number_type;
    if (type === 2) {
      const tid = str(key.transaction_id, 'transaction_id', 64);
      order = [...this.state.orders.values()].find((o) => o.transactionId === tid);
    } else if (type === 1) {
      const mchid = str(flat ? key.merchant_id : key.mchid, flat ? 'merchant_id' : 'mchid', 32);
      const no = str(
        flat ? key.merchant_trade_no : key.out_trade_no,
        flat ? 'merchant_trade_no' : 'out_trade_no',
        64,
      );
      order = this.state.order(mchid, no);
    } else {
      throw param('order_key.order_number_type 只能是 1（商户号+商户单号）或 2（微信支付单号）');
    }
    if (!order || order.appid !== appid || order.state !== 'SUCCESS')
      throw new ShippingError(10060001, '支付单不存在');
    return order;
  }

  upload(appid: string, body: Record<string, unknown>, now: number): void {
    const order = this.findOrder(appid, body.order_key);
    const logisticsType = body.logistics_type;
    if (logisticsType !== 1 && logisticsType !== 2 && logisticsType !== 3 && logisticsType !== 4)
      throw new ShippingError(
        10060005,
        '物流模式有误: logistics_type 只能是 1 快递、2 同城配送、3 虚拟商品、4 用户自提',
      );
    const deliveryMode = body.delivery_mode;
    if (deliveryMode !== 1 && deliveryMode !== 2)
      throw new ShippingError(268485224, '发货模式非法: delivery_mode 只能是 1（统一发货）或 2（分拆发货）');
    if (deliveryMode === 2 && logisticsType !== 1)
      throw new ShippingError(10060006, '非快递发货时不允许分拆发货');
    if (deliveryMode === 2 && typeof body.is_all_delivered !== 'boolean')
      throw new ShippingError(10060007, '分拆发货模式时必须填写 is_all_delivered');
    if (!Array.isArray(body.shipping_list) || body.shipping_list.length === 0)
      throw param('shipping_list 不能为空');
    if (body.shipping_list.length > 15) throw new ShippingError(10060024, '物流信息列表过长，最多 15 个包裹');
    if (deliveryMode === 1 && body.shipping_list.length !== 1)
      throw param('统一发货（delivery_mode 1）的 shipping_list 只能有一项');
    const shippingList = body.shipping_list.map((raw, i) => this.item(raw, i, logisticsType));
    const uploadTime = body.upload_time;
    if (typeof uploadTime !== 'string' || !RFC3339.test(uploadTime) || Number.isNaN(Date.parse(uploadTime)))
      throw new ShippingError(
        268485216,
        '上传时间非法，请按照 RFC 3339 格式填写，如 2022-12-15T13:29:35.120+08:00',
      );
    const payer = obj(body.payer, 'payer');
    if (str(payer.openid, 'payer.openid', 128) !== order.openid)
      throw param('payer.openid 与支付单的支付者不一致');

    const state = this.orderState(order);
    if (state === 5) throw new ShippingError(10060004, '支付单处于不可发货的状态（已退款）');
    const record = this.ensure(order);
    if (state === 3 || state === 4) throw new ShippingError(10060002, '支付单已完成发货，无法继续发货');
    if (record.uploads.length >= 2)
      throw new ShippingError(10060003, '支付单已使用重新发货机会，已完成发货，不能再修改');
    record.uploads.push({
      logisticsType,
      deliveryMode,
      ...(deliveryMode === 2 ? { isAllDelivered: body.is_all_delivered as boolean } : {}),
      shippingList,
      uploadTime,
      receivedAt: now,
    });
  }

  private item(raw: unknown, i: number, logisticsType: number): ShippingItem {
    const o = obj(raw, `shipping_list[${i}]`);
    if (typeof o.item_desc !== 'string' || o.item_desc === '')
      throw new ShippingError(10060008, `商品描述字段不能为空: shipping_list[${i}].item_desc`);
    if ([...o.item_desc].length > 120)
      throw new ShippingError(10060009, `商品描述字段长度过长: shipping_list[${i}].item_desc 最多 120 字`);
    const item: ShippingItem = { itemDesc: o.item_desc };
    if (logisticsType !== 1) return item;
    item.trackingNo = str(o.tracking_no, `shipping_list[${i}].tracking_no`, 128, 10060026);
    if (!/^[A-Za-z0-9-]+$/.test(item.trackingNo))
      throw param(`shipping_list[${i}].tracking_no 只能包含字母、数字和 -`);
    item.expressCompany = str(o.express_company, `shipping_list[${i}].express_company`, 128, 10060025);
    if (!DELIVERY_IDS.has(item.expressCompany))
      throw param(
        `shipping_list[${i}].express_company ${item.expressCompany} 不是有效的快递公司编码（见 get_delivery_list）`,
      );
    if (o.contact !== undefined) {
      const c = obj(o.contact, `shipping_list[${i}].contact`);
      item.contact = {};
      for (const [k, field] of [
        ['consignor_contact', 'consignorContact'],
        ['receiver_contact', 'receiverContact'],
      ] as const) {
        if (c[k] === undefined) continue;
        const v = str(c[k], `contact.${k}`, 1024);
        if (!MASKED_PHONE.test(v)) throw param(`contact.${k} 必须是掩码后的手机号，如 189****1234`);
        item.contact[field] = v;
      }
    }
    if (item.expressCompany === 'SF' && !item.contact?.consignorContact && !item.contact?.receiverContact)
      throw param(`顺丰（SF）运单必须填写 shipping_list[${i}].contact 的寄件人或收件人联系方式（掩码）`);
    return item;
  }

  /** The user confirms receipt (确认收货组件); false when the order is not in 已发货. */
  confirm(order: SimOrder, now: number, method: 1 | 2 = 1): boolean {
    if (this.orderState(order) !== 2) return false;
    const r = this.ensure(order);
    r.confirmedAt = now;
    r.confirmMethod = method;
    return true;
  }

  /** The money settles to the merchant; confirms first (automatically) when the user did not. */
  settle(order: SimOrder, now: number): boolean {
    const s = this.orderState(order);
    if (s === 2) this.confirm(order, now, 2);
    else if (s !== 3) return false;
    this.ensure(order).settledAt = now;
    return true;
  }

  remindConfirm(order: SimOrder, receivedTime: unknown): void {
    if (!Number.isInteger(receivedTime) || (receivedTime as number) <= 0)
      throw param('received_time 必须是秒级时间戳');
    if (this.orderState(order) !== 2)
      throw new ShippingError(10060004, '支付单处于不可提醒确认收货的状态（需为已发货）');
    const r = this.ensure(order);
    if (r.remindedConfirm) throw new ShippingError(10060016, '该订单已经提醒过确认收货，不能重复提醒');
    r.remindedConfirm = true;
  }

  clear(): void {
    this.records.clear();
  }
}
