// `rateLimits`: one fixed-window counter per (action, openid), `_id` = `<action>:<openid>`, shared by
// every function instance. Each window overwrites the last one in the same document, so the collection
// holds at most one small document per user and action. The happy path is one conditional increment
// (`count < limit` in the current window); the rest (first call, new window, full window) re-reads and
// decides with shared/domain/rate-limit.ts. Of racing callers exactly `limit` are counted per window.
import { setTimeout as sleep } from 'node:timers/promises';
import { decideCharge, windowStartOf, type WindowCounter, type WindowLimit } from '../domain/rate-limit';
import { COLLECTIONS } from './collections';
import { run, type Database } from './database';
import { isDuplicateKey } from './errors';

export interface RateLimitDoc extends WindowCounter {
  _id: string;
  updatedAt: Date;
}

export type ChargeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimitRepository {
  /** Counts one call against `key`'s window; over the limit nothing is counted and the wait is returned. */
  charge(key: string, limit: WindowLimit, now: Date): Promise<ChargeResult>;
}

/** Rounds of read-and-decide before a caller losing every race is told to come back in a second. */
const MAX_ROUNDS = 8;

export function rateLimitRepository(db: Database): RateLimitRepository {
  const limits = () => db.collection(COLLECTIONS.rateLimits);

  const updated = async (where: object, set: object): Promise<boolean> => {
    const res = (await run('update rateLimits', () => limits().where(where).update(set))) as {
      updated?: number;
    };
    return res?.updated === 1;
  };

  /** One more call in the window starting at `windowStartMs`, if it still has room. */
  const increment = (key: string, limit: WindowLimit, windowStartMs: number, now: Date) => {
    const _ = db.command;
    return updated(
      { _id: key, windowStartMs, count: _.lt(limit.limit) },
      { count: _.inc(1), updatedAt: now },
    );
  };

  return {
    async charge(key, limit, now) {
      const nowMs = now.getTime();
      if (await increment(key, limit, windowStartOf(limit, nowMs), now)) return { allowed: true };
      for (let round = 1; round <= MAX_ROUNDS; round++) {
        const res = await run('get rateLimits', () => limits().where({ _id: key }).limit(1).get());
        const decision = decideCharge(res.data[0] as Partial<RateLimitDoc> | undefined, limit, nowMs);
        switch (decision.kind) {
          case 'limited':
            return { allowed: false, retryAfterSeconds: decision.retryAfterSeconds };
          case 'count':
            if (await increment(key, limit, decision.windowStartMs, now)) return { allowed: true };
            break;
          case 'insert':
            try {
              const doc: RateLimitDoc = { _id: key, ...decision.counter, updatedAt: now };
              await run('insert rateLimits', () => limits().add(doc));
              return { allowed: true };
            } catch (err) {
              if (!isDuplicateKey(err)) throw err;
            }
            break;
          case 'reset': {
            const _ = db.command;
            const from = decision.from.windowStartMs;
            // Conditional on the window it replaces: of racing instances one resets, the rest count.
            const where = { _id: key, windowStartMs: from === undefined ? _.exists(false) : from };
            if (await updated(where, { ...decision.counter, updatedAt: now })) return { allowed: true };
            break;
          }
        }
        // Lost a race (someone inserted, reset or filled the window): decide again on a fresh read.
        await sleep(Math.floor(Math.random() * 5 * round));
      }
      return { allowed: false, retryAfterSeconds: 1 };
    },
  };
}
