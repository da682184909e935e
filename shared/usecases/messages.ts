// Subscription messages (订阅消息) after an order's state change: `paid` once the payment is applied,
// `refunded` once a successful refund is settled on its order, `shipped` once the admin's shipping
// upload is recorded. Called AFTER the change, by the invocation that made it; the `messages` record
// (inserted as the claim) makes it at most one message per order and event under duplicate
// notifications and concurrent instances. One bounded attempt, never an exception: the payment,
// refund or shipping answer never waits longer or fails because of a message. Transient failures
// are left to reconcile (retryMessages); refusals (43101) and invalid data are final.
// Logs carry ids and errcodes only, never the message data.
// The use cases that change orders reach this through the OrderMessenger port in their deps (type
// imports only), so a function without messages (orders, login…) does not bundle any of it.
import { isConfigError } from '../config/errors';
import type { MessageRepository } from '../db/messages';
import {
  claimRetry,
  newMessage,
  recordResult,
  type MessageDoc,
  type SendResult,
} from '../domain/message-record';
import type { OrderDoc } from '../domain/order';
import {
  fillMessageData,
  messagePage,
  type MessageFacts,
  type SubscribeEvent,
  type SubscribeTemplates,
} from '../domain/subscription';
import type { Logger } from '../log';
import type { CallOpenApi } from '../wechat/openapi/client';
import { OpenApiError, unavailable } from '../wechat/openapi/errors';

export interface MessageDeps {
  messages: MessageRepository;
  /**
   * WeChat's server API. Absent (the refund function, which does not bundle the client): the message
   * is recorded as `retry` and reconcile sends it.
   */
  callOpenApi?: CallOpenApi | undefined;
  templates: SubscribeTemplates;
  log: Logger;
  /** The one attempt's deadline (default SEND_DEADLINE_MS). */
  deadlineMs?: number;
}

/** What sends: reconcile, and every function that holds the client. */
export type SendingMessageDeps = MessageDeps & { callOpenApi: CallOpenApi };

export const LEFT_TO_RECONCILE = 'recorded for reconcile: this function does not call WeChat';

/** What payments, refunds, fulfilment and reconcile are given (UseCaseDeps.messages). */
export interface OrderMessenger {
  /** Sends `event`'s message of `order` once, after its change is applied. Never throws. */
  send(event: SubscribeEvent, order: SubscribedOrder, extra: EventFacts, now: Date): Promise<MessageOutcome>;
  /** Reconcile: sends the due messages again (none without the WeChat client). Never throws. */
  retry(now: Date, limit: number): Promise<MessageRetryReport>;
}

export function orderMessenger(deps: MessageDeps): OrderMessenger {
  const { callOpenApi } = deps;
  return {
    send: (event, order, extra, now) => sendOrderMessage(deps, event, order, extra, now),
    retry: (now, limit) =>
      callOpenApi
        ? retryMessages({ ...deps, callOpenApi }, now, limit)
        : Promise.resolve({ checked: 0, sent: 0, failed: 0 }),
  };
}

/** An order as createPayment stores it when the user accepted templates. */
export type SubscribedOrder = OrderDoc & { subscriptions?: string[] };

/**
 * A payment notification is answered after its message is attempted, and WeChat gives up on an answer
 * after 5 s: the send gets 2 s of it. A send that outlives this may still land; the record says
 * `retry`, and a resend of a one-time subscription that was spent is refused with 43101, never doubled.
 */
export const SEND_DEADLINE_MS = 2_000;

/**
 * WeChat's answers that another attempt cannot change, and what they mean for the record (kept here,
 * not in the openapi layer's table, so that bundles without messages do not carry them).
 */
const FINAL: Record<number, string> = {
  43101: 'the user has no unspent subscription to this template (43101): refused, never accepted, or used',
  47003: "a value breaks its template key's rule (47003); fix the key's source in WX_SUBSCRIBE_TEMPLATES",
  40037: "template_id is not one of the mini-program's templates (40037); fix WX_SUBSCRIBE_TEMPLATES",
  40003: 'WeChat does not know this openid for the mini-program (40003)',
  41030:
    "page is not a page of the mini-program's released version (41030); fix page in WX_SUBSCRIBE_TEMPLATES",
};

export type MessageOutcome =
  'sent' | 'refused' | 'failed' | 'retry' | 'already' | 'not-subscribed' | 'not-configured' | 'error';

/** The facts of one event beyond those of the order. */
export type EventFacts = Pick<MessageFacts, 'refundAmountFen' | 'refundedAt' | 'shippedAt' | 'trackingNo'>;

const asDate = (d: Date | string | undefined) => (d === undefined ? undefined : new Date(d));

function factsOf(order: OrderDoc, extra: EventFacts): MessageFacts {
  const facts: MessageFacts = {
    orderId: order._id,
    productNames: order.items.map((i) => i.name),
    amountFen: order.amountFen,
    ...extra,
  };
  const paidAt = asDate(order.paidAt);
  if (paidAt) facts.paidAt = paidAt;
  return facts;
}

/**
 * Sends the `event` message of `order` once, if the user accepted its template at checkout. Never
 * throws; the outcome is for the caller's log and the tests.
 */
export async function sendOrderMessage(
  deps: MessageDeps | undefined,
  event: SubscribeEvent,
  order: SubscribedOrder,
  extra: EventFacts,
  now: Date,
): Promise<MessageOutcome> {
  const template = deps?.templates[event];
  if (!deps || !template) return 'not-configured';
  if (!order.subscriptions?.includes(template.templateId)) return 'not-subscribed';
  try {
    const doc = newMessage({
      orderId: order._id,
      event,
      openid: order.openid,
      templateId: template.templateId,
      page: messagePage(template, order._id),
      data: fillMessageData(template, factsOf(order, extra)),
      now,
    });
    const { callOpenApi } = deps;
    if (!callOpenApi) {
      const recorded = await deps.messages.claim({ ...doc, status: 'retry', reason: LEFT_TO_RECONCILE });
      return recorded ? 'retry' : 'already';
    }
    if (!(await deps.messages.claim(doc))) return 'already';
    return await attempt({ ...deps, callOpenApi }, doc, now);
  } catch (err) {
    deps.log.error(`${event} message of ${order._id} not sent; reconcile retries it if it was recorded`, {
      error: err,
    });
    return 'error';
  }
}

/** One send of a claimed record, and its result recorded. */
async function attempt(deps: SendingMessageDeps, doc: MessageDoc, now: Date): Promise<MessageOutcome> {
  // The attempts of a record are bounded by claimRetry, which ends it `failed` once they are used up.
  const result = await send(deps, doc);
  const { kind } = result;
  await deps.messages.apply(doc._id, (d) => recordResult(d, doc.attempts, result, now));
  const fields = { order: doc.orderId, event: doc.event, attempt: doc.attempts };
  if (result.kind === 'sent') deps.log.info('subscription message sent', fields);
  else
    deps.log.warn(`subscription message ${kind}`, {
      ...fields,
      errcode: result.errcode,
      reason: result.reason,
    });
  return kind;
}

async function send(deps: SendingMessageDeps, doc: MessageDoc): Promise<SendResult> {
  const body: Record<string, unknown> = {
    touser: doc.openid,
    template_id: doc.templateId,
    data: doc.data,
    lang: 'zh_CN',
  };
  if (doc.page) body.page = doc.page;
  try {
    const answer = await withDeadline(
      deps.callOpenApi('sendSubscribeMessage', body),
      deps.deadlineMs ?? SEND_DEADLINE_MS,
    );
    const msgid = answer.msgid;
    return typeof msgid === 'string' || typeof msgid === 'number'
      ? { kind: 'sent', msgid: String(msgid) }
      : { kind: 'sent' };
  } catch (err) {
    return classify(err);
  }
}

/** WeChat's refusal or an invalid message is final; anything else (busy, quota, network, config) is retried. */
export function classify(err: unknown): SendResult {
  if (err instanceof OpenApiError) {
    const { errcode } = err;
    const reason = err.message;
    const final = errcode === undefined ? undefined : FINAL[errcode];
    // WeChat's errmsg (in err.message) names the key at fault for 47003; it never holds the values.
    if (final !== undefined)
      return { kind: errcode === 43101 ? 'refused' : 'failed', errcode, reason: `${final}: ${reason}` };
    if (err.retryable)
      return errcode === undefined ? { kind: 'retry', reason } : { kind: 'retry', errcode, reason };
    return errcode === undefined ? { kind: 'failed', reason } : { kind: 'failed', errcode, reason };
  }
  // A deployment mistake (secret, 云调用 permission) is fixed by the deployer: retry after the fix.
  if (isConfigError(err)) return { kind: 'retry', reason: err.message };
  return { kind: 'retry', reason: `${(err as Error)?.name ?? 'error'} while sending` };
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable('subscribeMessage.send', `no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

export interface MessageRetryReport {
  checked: number;
  sent: number;
  failed: number;
}

/**
 * Reconcile's share: sends again the messages whose attempt failed transiently or never reported
 * (oldest first, at most `limit`), each claimed first so concurrent runs send it once. Never throws.
 */
export async function retryMessages(
  deps: SendingMessageDeps,
  now: Date,
  limit: number,
): Promise<MessageRetryReport> {
  const out: MessageRetryReport = { checked: 0, sent: 0, failed: 0 };
  let due: MessageDoc[];
  try {
    due = await deps.messages.findDue(now, limit);
  } catch (err) {
    deps.log.error('cannot list the subscription messages to retry', { error: err });
    return out;
  }
  for (const doc of due) {
    out.checked += 1;
    try {
      const claimed = await deps.messages.apply(doc._id, (d) => claimRetry(d, now));
      if (claimed.outcome !== 'applied') continue;
      if (claimed.doc.status !== 'sending') {
        out.failed += 1; // attempts used up
        deps.log.error(`subscription message gave up`, { order: doc.orderId, event: doc.event });
        continue;
      }
      const outcome = await attempt(deps, claimed.doc, now);
      if (outcome === 'sent') out.sent += 1;
      else out.failed += 1;
    } catch (err) {
      out.failed += 1;
      deps.log.error(`retry of the ${doc.event} message of ${doc.orderId} failed`, { error: err });
    }
  }
  return out;
}
