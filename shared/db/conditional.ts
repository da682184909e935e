// A Decision → a conditional update (docs/data-model.md#conditional-updates): `where({_id, status, version})
// .update(set)` must report exactly one updated document. On zero the document is re-read and the
// decision taken again, which tells "already applied" (someone else did it) from a lost race that
// should simply be retried; a change is never applied twice.
import { setTimeout as sleep } from 'node:timers/promises';
import { conflict } from '../domain/errors';
import type { Decision, Transition } from '../domain/order';
import { run, type Database } from './database';

export type ApplyOutcome<T> =
  | { outcome: 'applied'; doc: T }
  | { outcome: 'already'; doc: T }
  | { outcome: 'anomaly'; doc: T; reason: string }
  | { outcome: 'missing' };

export interface ApplyOptions<T> {
  db: Database;
  collection: string;
  read: () => Promise<T | undefined>;
  decide: (doc: T) => Decision<T>;
  /** How often a lost race is retried before answering CONFLICT (the caller may retry later). */
  maxAttempts?: number;
}

/** One conditional update; true when exactly one document matched and changed. */
export async function updateWhere<T>(
  db: Database,
  collection: string,
  transition: Transition<T>,
): Promise<boolean> {
  const res = (await run(`update ${collection}`, () =>
    db
      .collection(collection)
      .where(transition.where)
      .update(transition.set as object),
  )) as { updated?: number };
  return res?.updated === 1;
}

export async function applyDecision<T>(opts: ApplyOptions<T>): Promise<ApplyOutcome<T>> {
  const maxAttempts = opts.maxAttempts ?? 12;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const doc = await opts.read();
    if (!doc) return { outcome: 'missing' };
    const decision = opts.decide(doc);
    if (decision.kind === 'already') return { outcome: 'already', doc };
    if (decision.kind === 'anomaly') return { outcome: 'anomaly', doc, reason: decision.reason };
    if (await updateWhere(opts.db, opts.collection, decision.transition)) {
      return { outcome: 'applied', doc: { ...doc, ...decision.transition.set } };
    }
    // Lost a race with another writer: back off a little (jittered, bounded) and decide again.
    await sleep(Math.floor(Math.random() * 10 * attempt));
  }
  throw conflict('the record is being changed by concurrent requests; retry in a moment');
}
