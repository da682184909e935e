// Thin database adapters for reconcileDay: the day's paid orders and successful refunds, paged by
// _id so a day of any size streams, and the `reconciliations` collection.
import { COLLECTIONS } from '../db/collections';
import { getDatabase, run } from '../db/database';
import type { LocalPayment, LocalRefund } from './reconcile-day';
import type { ReconciliationDoc } from './reconciliation';

/** CloudBase answers at most 1000 documents per query. */
const PAGE = 1000;

async function* pagesByDay<T extends { _id: string }>(
  collection: string,
  field: 'paidAt' | 'successAt',
  from: Date,
  to: Date,
  extra: Record<string, unknown> = {},
): AsyncIterable<T[]> {
  const _ = getDatabase().command;
  let after: string | undefined;
  for (;;) {
    const where = {
      ...extra,
      [field]: _.and([_.gte(from), _.lt(to)]),
      ...(after !== undefined ? { _id: _.gt(after) } : {}),
    };
    const res = await run(`get ${collection}`, () =>
      getDatabase().collection(collection).where(where).orderBy('_id', 'asc').limit(PAGE).get(),
    );
    const docs = res.data as T[];
    if (docs.length > 0) yield docs;
    if (docs.length < PAGE) return;
    after = docs[docs.length - 1]._id;
  }
}

export function paymentsOfDay(from: Date, to: Date): AsyncIterable<LocalPayment[]> {
  return pagesByDay<LocalPayment>(COLLECTIONS.orders, 'paidAt', from, to);
}

export function refundsOfDay(from: Date, to: Date): AsyncIterable<LocalRefund[]> {
  return pagesByDay<LocalRefund>(COLLECTIONS.refunds, 'successAt', from, to, { status: 'SUCCESS' });
}

const reconciliations = () => getDatabase().collection(COLLECTIONS.reconciliations);

export async function getReconciliation(date: string): Promise<ReconciliationDoc | undefined> {
  const res = await run('get reconciliations', () => reconciliations().where({ _id: date }).limit(1).get());
  return res.data[0] as ReconciliationDoc | undefined;
}

/** The most recent days, newest first (console). */
export async function latestReconciliations(limit: number): Promise<ReconciliationDoc[]> {
  const res = await run('get reconciliations', () =>
    reconciliations().orderBy('_id', 'desc').limit(limit).get(),
  );
  return res.data as ReconciliationDoc[];
}

/** Replaces the day's document as a whole (set() upserts), so fields of an earlier run never linger. */
export async function putReconciliation(doc: ReconciliationDoc): Promise<void> {
  const { _id, ...fields } = doc;
  await run('set reconciliations', () => reconciliations().doc(_id).set(fields));
}
