// `notifications`: one record per verified notification, `_id` = its id (v3) or a digest (v2).
// The record is a log, not the guard: exactly-once comes from the conditional transition, so a crash
// between the transition and this write is harmless (WeChat retries, the transition says "already").
import { COLLECTIONS } from './collections';
import { run, type Database } from './database';
import { isDuplicateKey } from './errors';

export type NotificationOutcome = 'applied' | 'duplicate' | `rejected:${string}` | `anomaly:${string}`;

export interface NotificationDoc {
  _id: string;
  eventType: string;
  outTradeNo?: string;
  outRefundNo?: string;
  outcome: NotificationOutcome;
  receivedAt: Date;
}

export interface NotificationRepository {
  get(id: string): Promise<NotificationDoc | undefined>;
  /** Whether some notification of this event for this order / refund was already recorded as applied. */
  hasApplied(eventType: string, ref: { outTradeNo?: string; outRefundNo?: string }): Promise<boolean>;
  /**
   * Records a notification once. When a concurrent delivery recorded it first as a duplicate, the one
   * that actually applied the change still marks it `applied`.
   */
  record(doc: NotificationDoc): Promise<void>;
}

export function notificationRepository(db: Database): NotificationRepository {
  const notifications = () => db.collection(COLLECTIONS.notifications);
  return {
    async get(id) {
      const res = await run('get notifications', () => notifications().where({ _id: id }).limit(1).get());
      return res.data[0] as NotificationDoc | undefined;
    },
    async hasApplied(eventType, ref) {
      const where: Record<string, unknown> = { eventType, outcome: 'applied' };
      if (ref.outRefundNo) where.outRefundNo = ref.outRefundNo;
      else if (ref.outTradeNo) where.outTradeNo = ref.outTradeNo;
      else return false;
      const res = await run('get notifications', () => notifications().where(where).limit(1).get());
      return res.data.length > 0;
    },
    async record(doc) {
      try {
        await run('insert notifications', () => notifications().add(doc));
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        if (doc.outcome === 'applied') {
          await run('update notifications', () =>
            notifications().where({ _id: doc._id }).update({ outcome: 'applied' }),
          );
        }
      }
    },
  };
}
