// Thin database adapters for reconcileDay: the day's paid orders and successful refunds, paged by
// _id so a day of any size streams, and the `reconciliations` collection. Built from a database
// handle like the repositories (shared/db/repositories.ts): the function's own, or a test's.
import { COLLECTIONS } from '../db/collections';
import { getDatabase, run, type Database } from '../db/database';
import type { LocalPayment, LocalRefund } from './reconcile-day';
import type { ReconciliationDoc } from './reconciliation';

/** CloudBase answers at most 1000 documents per query. */
const PAGE = 1000;

/** Plain functions (no `this`), so that each can be handed to reconcileDay on its own. */
export interface LedgerStore {
  paymentsOfDay: (from: Date, to: Date) => AsyncIterable<LocalPayment[]>;
  refundsOfDay: (from: Date, to: Date) => AsyncIterable<LocalRefund[]>;
  getReconciliation: (date: string) => Promise<ReconciliationDoc | undefined>;
  /** The most recent days, newest first (console). */
  latestReconciliations: (limit: number) => Promise<ReconciliationDoc[]>;
  /** Replaces the day's document as a whole (set() upserts), so fields of an earlier run never linger. */
  putReconciliation: (doc: ReconciliationDoc) => Promise<void>;
}

export function ledgerStoreOf(db: Database): LedgerStore {
  async function* pagesByDay<T extends { _id: string }>(
    collection: string,
    field: 'paidAt' | 'successAt',
    from: Date,
    to: Date,
    extra: Record<string, unknown> = {},
  ): AsyncIterable<T[]> {
    const _ = db.command;
    let after: string | undefined;
    for (;;) {
      const where = {
        ...extra,
        [field]: _.and([_.gte(from), _.lt(to)]),
        ...(after !== undefined ? { _id: _.gt(after) } : {}),
      };
      const res = await run(`get ${collection}`, () =>
        db.collection(collection).where(where).orderBy('_id', 'asc').limit(PAGE).get(),
      );
      const docs = res.data as T[];
      if (docs.length > 0) yield docs;
      if (docs.length < PAGE) return;
      after = docs[docs.length - 1]._id;
    }
  }
  const reconciliations = () => db.collection(COLLECTIONS.reconciliations);
  return {
    paymentsOfDay: (from, to) => pagesByDay<LocalPayment>(COLLECTIONS.orders, 'paidAt', from, to),
    refundsOfDay: (from, to) =>
      pagesByDay<LocalRefund>(COLLECTIONS.refunds, 'successAt', from, to, { status: 'SUCCESS' }),
    async getReconciliation(date) {
      const res = await run('get reconciliations', () =>
        reconciliations().where({ _id: date }).limit(1).get(),
      );
      return res.data[0] as ReconciliationDoc | undefined;
    },
    async latestReconciliations(limit) {
      const res = await run('get reconciliations', () =>
        reconciliations().orderBy('_id', 'desc').limit(limit).get(),
      );
      return res.data as ReconciliationDoc[];
    },
    async putReconciliation(doc) {
      const { _id, ...fields } = doc;
      await run('set reconciliations', () => reconciliations().doc(_id).set(fields));
    },
  };
}

/** The function instance's ledger store, over its CloudBase database. */
export function getLedgerStore(): LedgerStore {
  return ledgerStoreOf(getDatabase());
}
