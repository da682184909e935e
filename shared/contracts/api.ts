// Callables' wire contract (docs/product.md#callables): what `wx.cloud.callFunction({ name, data })` sends
// and what comes back in `result`. Types only — imported by the functions and, through a checked
// copy, by the sample mini-program, so both sides are compiled against one definition.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UPSTREAM_ERROR'
  | 'UPSTREAM_UNAVAILABLE'
  | 'INTERNAL';

export interface ApiError {
  code: ErrorCode;
  message: string;
  /** WeChat's own code when WeChat said no (UPSTREAM_ERROR), e.g. `ORDERPAID` or `40029`. */
  upstream?: string;
  /**
   * RATE_LIMITED by a per-user limit (docs/numbers.md#per-user-limits): whole seconds, at least 1,
   * until the same call can succeed. The HTTPS API also sends it as `Retry-After` with status 429.
   */
  retryAfterSeconds?: number;
}

export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ApiError };

export type OrderStatus = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUNDED';
export type RefundStatus = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL' | 'FAILED';

// ---- login ----
export interface LoginRequest {
  code?: string;
  profile?: { nickName?: string; avatarUrl?: string };
}
export interface LoginResponse {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
  user: { openid: string; nickName?: string; avatarUrl?: string; isNew: boolean };
}

// ---- createPayment ----
export interface CartItem {
  productId: string;
  quantity: number;
}
export interface CreatePaymentRequest {
  items: CartItem[];
  idempotencyKey?: string;
  /** Template ids the user accepted in wx.requestSubscribeMessage (at most 3; README: Subscription messages). */
  subscriptions?: string[];
}
/** Exactly the object `wx.requestPayment` takes (v3: signType 'RSA'; v2: 'MD5' | 'HMAC-SHA256'). */
export interface RequestPaymentParams {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA' | 'MD5' | 'HMAC-SHA256';
  paySign: string;
}
export interface CreatePaymentResponse {
  orderId: string;
  amountFen: number;
  payment: RequestPaymentParams;
}

// ---- orders ----
export interface OrderItemView {
  productId: string;
  name: string;
  priceFen: number;
  quantity: number;
}
/** How an order reaches the buyer: WeChat's logistics types 3, 1, 2 and 4. */
export type FulfilmentType = 'virtual' | 'express' | 'local-delivery' | 'pickup';
/** PENDING → SHIPPED (info uploaded to WeChat) → CONFIRMED (the user confirmed receipt) → SETTLED. */
export type FulfilmentStatus = 'PENDING' | 'SHIPPED' | 'CONFIRMED' | 'SETTLED';
export interface ShipmentView {
  trackingNo: string;
  expressCompany: string;
  itemDesc: string;
}
export interface FulfilmentView {
  type: FulfilmentType;
  status: FulfilmentStatus;
  shippedAt?: string;
  confirmedAt?: string;
  settledAt?: string;
  shipments?: ShipmentView[];
}
export interface OrderView {
  orderId: string;
  status: OrderStatus;
  amountFen: number;
  refundedFen: number;
  refundingFen: number;
  description: string;
  items: OrderItemView[];
  createdAt: string;
  paidAt?: string;
  transactionId?: string;
  fulfilment: FulfilmentView;
}
export type OrdersRequest =
  | { action: 'get'; orderId: string }
  | { action: 'list'; pageSize?: number; before?: string }
  | { action: 'close'; orderId: string };
export type OrdersGetResponse = OrderView & { refunds: RefundView[] };
export interface OrdersListResponse {
  orders: OrderView[];
  /** Pass as `before` to get the next page; absent on the last page. */
  nextBefore?: string;
}
export type OrdersCloseResponse = OrderView;

// ---- refund ----
export interface RefundRequest {
  orderId: string;
  amountFen?: number;
  reason?: string;
}
/** `refundId` is our `outRefundNo` (the refunds document `_id`), not WeChat's refund_id. */
export interface RefundView {
  refundId: string;
  status: RefundStatus;
  amountFen: number;
  createdAt: string;
  successAt?: string;
}
export interface RefundResponse {
  refundId: string;
  status: RefundStatus;
  amountFen: number;
}

// ---- account ----
/**
 * `bindPhone`: the `code` of `<button open-type="getPhoneNumber">`'s event, exchanged once through
 * WeChat. `getPhone`: the caller's own bound number. Nobody but the owner ever receives it.
 */
export type AccountRequest = { action: 'bindPhone'; code: string } | { action: 'getPhone' };
export interface PhoneView {
  /** With the country code for numbers outside mainland China, as WeChat gives it. */
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  /** `138****0000`: what a page shows. */
  masked: string;
  /** ISO time WeChat verified it. */
  verifiedAt: string;
}
export interface AccountResponse {
  /** null: no number bound yet. */
  phone: PhoneView | null;
}

export interface FunctionContracts {
  login: { request: LoginRequest; response: LoginResponse };
  createPayment: { request: CreatePaymentRequest; response: CreatePaymentResponse };
  orders: { request: OrdersRequest; response: OrdersGetResponse | OrdersListResponse | OrdersCloseResponse };
  refund: { request: RefundRequest; response: RefundResponse };
  account: { request: AccountRequest; response: AccountResponse };
}
export type CallableName = keyof FunctionContracts;
