// `reconcileCursors`: where reconcile stopped paging through a list (`_id` = the list: `orders`,
// `refunds`), so that the next run continues after it instead of starting again at the oldest item.
// Two overlapping runs may write it in turn; the later write wins, which at worst checks a page twice
// (every check is idempotent) and never skips one.
import { COLLECTIONS } from './collections';
import { run, type Database } from './database';
import type { PageCursor } from './orders';

export type ReconcileList = 'orders' | 'refunds';

export interface ReconcileCursorDoc {
  _id: ReconcileList;
  /** The last item checked; null: the next run starts at the oldest due item. */
  after: { createdAt: Date; id: string } | null;
  updatedAt: Date;
}

export interface ReconcileCursorRepository {
  get(list: ReconcileList): Promise<PageCursor | undefined>;
  save(list: ReconcileList, after: PageCursor | undefined, now: Date): Promise<void>;
}

/** The stored position, or undefined when it is absent or unreadable (a date the SDK gave as text too). */
function cursorOf(v: unknown): PageCursor | undefined {
  const c = v as { createdAt?: unknown; id?: unknown } | null | undefined;
  if (typeof c?.id !== 'string' || !c.id) return undefined;
  const at = c.createdAt instanceof Date ? c.createdAt : new Date(c.createdAt as string);
  return Number.isFinite(at.getTime()) ? { createdAt: at, id: c.id } : undefined;
}

export function reconcileCursorRepository(db: Database): ReconcileCursorRepository {
  const cursors = () => db.collection(COLLECTIONS.reconcileCursors);
  return {
    async get(list) {
      const res = await run('get reconcileCursors', () => cursors().where({ _id: list }).limit(1).get());
      const doc = res.data[0] as Partial<ReconcileCursorDoc> | undefined;
      // A hand-edited or unreadable position starts over at the oldest item: nothing is skipped.
      return cursorOf(doc?.after);
    },
    async save(list, after, now) {
      const fields: Omit<ReconcileCursorDoc, '_id'> = {
        after: after ? { createdAt: new Date(after.createdAt), id: after.id } : null,
        updatedAt: now,
      };
      await run('set reconcileCursors', () => cursors().doc(list).set(fields));
    },
  };
}
