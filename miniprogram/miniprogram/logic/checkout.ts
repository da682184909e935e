// Checkout: (ask for subscription messages) → createPayment → wx.requestPayment → confirm with orders.get.
// The subscription dialog opens on the first tap on "pay" of a checkout; the ids the user accepted go
// to createPayment, and nothing about it (refusal, failure) ever stops the payment.
// The phone's "requestPayment:ok" only means the user finished paying; the order becomes paid on
// the server when the notification lands or when orders.get asks WeChat. Until then the page says
// "confirming", never "paid".
import type { CartItem, CreatePaymentResponse, OrdersGetResponse, OrderView } from '../types/api';
import { ApiCallError, type ApiClient } from '../lib/api-client';
import type { Auth } from '../lib/auth';
import { type ClientErrorCode, userMessage } from '../lib/error-messages';
import { newIdempotencyKey } from '../lib/idempotency';
import { sleep as realSleep } from '../lib/retry';
import { type WxPort, failureMessage } from '../lib/wx-port';
import { SUBSCRIBE_TEMPLATE_IDS } from '../config';
import { askSubscriptions } from './subscribe';

export type CheckoutFailure = ClientErrorCode | 'PAYMENT_FAILED' | 'ORDER_CLOSED';

export type CheckoutState =
  | { step: 'ready' }
  | { step: 'paid'; order: OrdersGetResponse }
  /** The phone reported success but the server has not seen the payment yet. */
  | { step: 'confirming'; orderId: string; message: string }
  | { step: 'cancelled'; orderId: string; message: string }
  | { step: 'failed'; orderId?: string; code: CheckoutFailure; message: string };

export interface ConfirmPolicy {
  /** orders.get calls after the phone's success before settling for "confirming". */
  attempts: number;
  intervalMs: number;
}

export const DEFAULT_CONFIRM: ConfirmPolicy = { attempts: 5, intervalMs: 1000 };

export interface CheckoutDeps {
  wx: Pick<WxPort, 'requestPayment' | 'requestSubscribeMessage'>;
  /** The templates to ask for before the first payment (default: config.ts SUBSCRIBE_TEMPLATE_IDS). */
  subscribeTemplateIds?: readonly string[];
  api: ApiClient;
  auth: Auth;
  confirm?: Partial<ConfirmPolicy>;
  sleep?: (ms: number) => Promise<void>;
  idempotencyKey?: string;
}

export const MESSAGES = {
  cancelled: '已取消支付，可以继续支付或关闭订单',
  paymentFailed: '支付未成功，请稍后重试',
  confirming: '支付结果确认中，稍后可在“我的订单”查看',
  closed: '订单已关闭，请重新下单',
} as const;

/** One checkout = one cart = one idempotency key, however many times the user taps "pay". */
export class CheckoutFlow {
  readonly idempotencyKey: string;
  private state: CheckoutState = { step: 'ready' };
  private orderId: string | undefined;
  /** The dialog's answer, asked once per checkout: a second tap must not ask (and grant) again. */
  private subscriptions: Promise<string[]> | undefined;
  private readonly confirmPolicy: ConfirmPolicy;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly items: CartItem[],
    private readonly deps: CheckoutDeps,
  ) {
    this.idempotencyKey = deps.idempotencyKey ?? newIdempotencyKey();
    this.confirmPolicy = { ...DEFAULT_CONFIRM, ...deps.confirm };
    this.sleep = deps.sleep ?? realSleep;
  }

  get current(): CheckoutState {
    return this.state;
  }

  /** The template ids the user accepted in this checkout (empty until asked, or when refused). */
  async accepted(): Promise<string[]> {
    return this.subscriptions ?? [];
  }

  async pay(): Promise<CheckoutState> {
    const { api, auth, wx } = this.deps;
    // Synchronously, before the first await: WeChat opens the dialog only inside the user's tap.
    this.subscriptions ??= askSubscriptions(wx, this.deps.subscribeTemplateIds ?? SUBSCRIBE_TEMPLATE_IDS);
    let subscriptions = await this.subscriptions;
    const create = () =>
      auth.withSession(() =>
        api.createPayment({
          items: this.items,
          idempotencyKey: this.idempotencyKey,
          ...(subscriptions.length > 0 ? { subscriptions } : {}),
        }),
      );
    let created: CreatePaymentResponse;
    try {
      try {
        created = await create();
      } catch (error) {
        // Ids the server does not send (config.ts and WX_SUBSCRIBE_TEMPLATES differ): pay without
        // messages rather than not at all, and say so to the developer.
        if (!isSubscriptionRefusal(error) || subscriptions.length === 0) throw error;
        console.warn('createPayment refused the subscriptions; paying without messages', error);
        subscriptions = [];
        this.subscriptions = Promise.resolve([]);
        created = await create();
      }
    } catch (error) {
      // CONFLICT for a checkout that already has an order: most likely it was paid meanwhile.
      const paid =
        error instanceof ApiCallError && error.code === 'CONFLICT' && this.orderId
          ? await this.readPaid(this.orderId)
          : undefined;
      return this.set(paid ? { step: 'paid', order: paid } : failure(error, this.orderId));
    }
    this.orderId = created.orderId;
    try {
      await wx.requestPayment(created.payment);
    } catch (reason) {
      // errMsg is "requestPayment:fail cancel" if the user closed the sheet (docs/local-stack.md#simulator).
      if (/:fail cancel\b/.test(failureMessage(reason))) {
        return this.set({ step: 'cancelled', orderId: created.orderId, message: MESSAGES.cancelled });
      }
      // A failed sheet can still hide a paid order (e.g. "该订单已支付" after an earlier success):
      // ask once before telling the user it failed.
      const paid = await this.readPaid(created.orderId);
      if (paid) return this.set({ step: 'paid', order: paid });
      return this.set({
        step: 'failed',
        orderId: created.orderId,
        code: 'PAYMENT_FAILED',
        message: MESSAGES.paymentFailed,
      });
    }
    return this.confirm();
  }

  private async readPaid(orderId: string): Promise<OrdersGetResponse | undefined> {
    const { api, auth } = this.deps;
    try {
      const order = await auth.withSession(() => api.getOrder(orderId));
      return order.status === 'SUCCESS' || order.status === 'REFUNDED' ? order : undefined;
    } catch (error) {
      if (error instanceof ApiCallError) return undefined;
      throw error;
    }
  }

  /** Asks the server (which asks WeChat for unpaid orders) until the order is paid or attempts run out. */
  async confirm(): Promise<CheckoutState> {
    const orderId = this.orderId;
    if (!orderId) return this.state;
    const { api, auth } = this.deps;
    for (let attempt = 1; attempt <= this.confirmPolicy.attempts; attempt++) {
      try {
        const order = await auth.withSession(() => api.getOrder(orderId));
        if (order.status === 'SUCCESS' || order.status === 'REFUNDED')
          return this.set({ step: 'paid', order });
        if (order.status === 'CLOSED')
          return this.set({ step: 'failed', orderId, code: 'ORDER_CLOSED', message: MESSAGES.closed });
      } catch (error) {
        // A failed check is not a failed payment: keep asking, and end in "confirming" at worst.
        if (!(error instanceof ApiCallError)) throw error;
      }
      if (attempt < this.confirmPolicy.attempts) await this.sleep(this.confirmPolicy.intervalMs);
    }
    return this.set({ step: 'confirming', orderId, message: MESSAGES.confirming });
  }

  /** The user gives up after cancelling: close the unpaid order so it cannot be paid by mistake later. */
  async abandon(): Promise<OrderView | null> {
    const orderId = this.orderId;
    if (!orderId) return null;
    const { api, auth } = this.deps;
    return auth.withSession(() => api.closeOrder(orderId));
  }

  private set(state: CheckoutState): CheckoutState {
    this.state = state;
    return state;
  }
}

function isSubscriptionRefusal(error: unknown): boolean {
  return (
    error instanceof ApiCallError &&
    error.code === 'INVALID_ARGUMENT' &&
    /\bsubscriptions\b/.test(error.message)
  );
}

/** Every failure becomes a state the page can show; an unexpected one is reported as INTERNAL. */
function failure(error: unknown, orderId: string | undefined): CheckoutState {
  const state: CheckoutState =
    error instanceof ApiCallError
      ? { step: 'failed', code: error.code, message: error.userMessage }
      : { step: 'failed', code: 'INTERNAL', message: userMessage('INTERNAL') };
  if (orderId) state.orderId = orderId;
  return state;
}
