// Words for states, shown on the order pages.
import type { OrderStatus, RefundStatus } from '../types/api';

const ORDER: Record<OrderStatus, string> = {
  NOTPAY: '待支付',
  SUCCESS: '已支付',
  CLOSED: '已关闭',
  REFUNDED: '已退款',
};

const REFUND: Record<RefundStatus, string> = {
  PROCESSING: '退款处理中',
  SUCCESS: '退款成功',
  CLOSED: '退款已关闭',
  ABNORMAL: '退款异常，请联系客服',
  FAILED: '退款失败',
};

export const orderStatusLabel = (status: OrderStatus): string => ORDER[status];
export const refundStatusLabel = (status: RefundStatus): string => REFUND[status];
export const isFinalRefund = (status: RefundStatus): boolean => status !== 'PROCESSING';
