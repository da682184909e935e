// `messages`: the subscription message of one order and event, `_id` = `<orderId>:<event>`. Inserting
// the record is the claim to send (a duplicate insert loses); every later change is a conditional
// update through a domain Decision (shared/domain/message-record.ts).
import type { Decision } from '../domain/order';
import type { MessageDoc } from '../domain/message-record';
import { COLLECTIONS } from './collections';
import { applyDecision, type ApplyOutcome } from './conditional';
import { run, type Database } from './database';
import { isDuplicateKey } from './errors';

export interface MessageRepository {
  get(id: string): Promise<MessageDoc | undefined>;
  /** Inserts a new record; false when one with its `_id` exists (another invocation claimed it). */
  claim(doc: MessageDoc): Promise<boolean>;
  apply(id: string, decide: (doc: MessageDoc) => Decision<MessageDoc>): Promise<ApplyOutcome<MessageDoc>>;
  /** Records reconcile may take again (`retry`, or `sending` whose claim ran out), oldest first. */
  findDue(now: Date, limit: number): Promise<MessageDoc[]>;
}

export function messageRepository(db: Database): MessageRepository {
  const messages = () => db.collection(COLLECTIONS.messages);
  const get = async (id: string): Promise<MessageDoc | undefined> => {
    const res = await run('get messages', () => messages().where({ _id: id }).limit(1).get());
    return res.data[0] as MessageDoc | undefined;
  };
  return {
    get,
    async claim(doc) {
      try {
        await run('insert messages', () => messages().add(doc));
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        // An insert whose answer was lost may have landed: then it waits, `sending`, until its claim
        // runs out and reconcile sends it.
        throw err;
      }
    },
    apply(id, decide) {
      return applyDecision({ db, collection: COLLECTIONS.messages, read: () => get(id), decide });
    },
    async findDue(now, limit) {
      const _ = db.command;
      const res = await run('get messages', () =>
        messages()
          .where(_.or([{ status: 'retry' }, { status: 'sending', claimUntil: _.lte(now) }]))
          .orderBy('updatedAt', 'asc')
          .limit(limit)
          .get(),
      );
      return res.data as MessageDoc[];
    },
  };
}
