// The `messages` record of one order and event (docs/data-model.md#messages) as pure decisions: it
// is created by the invocation that claims the send (a second insert of the same `_id` fails, so
// only one sends), then records WeChat's answer. Final answers (sent, refused, invalid) are kept;
// transient ones are left for reconcile, which claims the record again, a bounded number of times.
import type { Decision, Transition } from './order';
import type { SubscribeEvent } from './subscription';

export type MessageStatus = 'sending' | 'sent' | 'refused' | 'failed' | 'retry';

export interface MessageDoc {
  /** `<orderId>:<event>`: one record, so at most one message, per order and event. */
  _id: string;
  orderId: string;
  event: SubscribeEvent;
  openid: string;
  templateId: string;
  page?: string;
  /** The filled `data`, so that a retry sends what the first attempt would have. */
  data: Record<string, { value: string }>;
  status: MessageStatus;
  /** Sends started (1 on the first). */
  attempts: number;
  /** While `sending`: until when the attempt holds the record; after that reconcile may take it. */
  claimUntil?: Date;
  msgid?: string;
  /** WeChat's errcode of the last failed attempt. */
  errcode?: number;
  /** Why the last attempt failed (our message, which never holds message data). */
  reason?: string;
  createdAt: Date;
  updatedAt: Date;
  sentAt?: Date;
  version: number;
}

/** How long one attempt holds its record: longer than the attempt's deadline. */
export const MESSAGE_CLAIM_MS = 60_000;
/** Sends started at most, the first included; then the record ends `failed`. */
export const MAX_MESSAGE_ATTEMPTS = 5;

export const messageId = (orderId: string, event: SubscribeEvent) => `${orderId}:${event}`;

export interface NewMessage {
  orderId: string;
  event: SubscribeEvent;
  openid: string;
  templateId: string;
  page?: string | undefined;
  data: Record<string, { value: string }>;
  now: Date;
}

/** The record the first attempt inserts: claimed by it. */
export function newMessage(input: NewMessage): MessageDoc {
  const doc: MessageDoc = {
    _id: messageId(input.orderId, input.event),
    orderId: input.orderId,
    event: input.event,
    openid: input.openid,
    templateId: input.templateId,
    data: input.data,
    status: 'sending',
    attempts: 1,
    claimUntil: new Date(input.now.getTime() + MESSAGE_CLAIM_MS),
    createdAt: input.now,
    updatedAt: input.now,
    version: 0,
  };
  if (input.page) doc.page = input.page;
  return doc;
}

function guarded(doc: MessageDoc, set: Partial<MessageDoc>, now: Date): Transition<MessageDoc> {
  return {
    where: { _id: doc._id, status: doc.status, version: doc.version },
    set: { ...set, version: doc.version + 1, updatedAt: now },
  };
}

/** Whether reconcile should take the record: a transient failure, or an attempt that never reported. */
export function isDue(doc: MessageDoc, now: Date): boolean {
  if (doc.status === 'retry') return true;
  return doc.status === 'sending' && new Date(doc.claimUntil ?? 0).getTime() <= now.getTime();
}

/** Reconcile takes a due record for one more attempt (or ends it when the attempts are used up). */
export function claimRetry(doc: MessageDoc, now: Date): Decision<MessageDoc> {
  if (!isDue(doc, now)) return { kind: 'already' };
  if (doc.attempts >= MAX_MESSAGE_ATTEMPTS)
    return {
      kind: 'apply',
      transition: guarded(
        doc,
        { status: 'failed', reason: `gave up after ${doc.attempts} attempts: ${doc.reason ?? 'no answer'}` },
        now,
      ),
    };
  return {
    kind: 'apply',
    transition: guarded(
      doc,
      {
        status: 'sending',
        attempts: doc.attempts + 1,
        claimUntil: new Date(now.getTime() + MESSAGE_CLAIM_MS),
      },
      now,
    ),
  };
}

/** What one attempt got from WeChat. */
export type SendResult =
  | { kind: 'sent'; msgid?: string }
  | { kind: 'refused' | 'failed' | 'retry'; errcode?: number; reason: string };

/**
 * Records attempt number `attempt`'s result. A success is always recorded (a late answer beats a
 * failure another attempt recorded); a failure only while the record is still this attempt's.
 */
export function recordResult(
  doc: MessageDoc,
  attempt: number,
  result: SendResult,
  now: Date,
): Decision<MessageDoc> {
  if (doc.status === 'sent') return { kind: 'already' };
  if (result.kind === 'sent') {
    const set: Partial<MessageDoc> = { status: 'sent', sentAt: now };
    if (result.msgid) set.msgid = result.msgid;
    return { kind: 'apply', transition: guarded(doc, set, now) };
  }
  if (doc.status !== 'sending' || doc.attempts !== attempt) return { kind: 'already' };
  const set: Partial<MessageDoc> = { status: result.kind, reason: result.reason.slice(0, 300) };
  if (result.errcode !== undefined) set.errcode = result.errcode;
  return { kind: 'apply', transition: guarded(doc, set, now) };
}
