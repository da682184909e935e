// `refunds`: `_id` = outRefundNo.
import type { Decision } from '../domain/order';
import type { RefundDoc } from '../domain/refund';
import { COLLECTIONS } from './collections';
import { applyDecision, type ApplyOutcome } from './conditional';
import { run, type Database } from './database';
import { afterCursor, type PageCursor } from './orders';

export interface RefundRepository {
  get(outRefundNo: string): Promise<RefundDoc | undefined>;
  insert(doc: RefundDoc): Promise<void>;
  /** An order's refunds, oldest first. */
  listOfOrder(outTradeNo: string): Promise<RefundDoc[]>;
  /**
   * Refunds still PROCESSING that were requested before `createdBefore`, oldest first in
   * (createdAt, _id) order, after `after` when given (reconcile pages through all of them).
   */
  findProcessing(createdBefore: Date, limit: number, after?: PageCursor): Promise<RefundDoc[]>;
  /** Final refunds whose effect on the order has not been recorded yet (crash between two writes). */
  findUnapplied(limit: number): Promise<RefundDoc[]>;
  apply(
    outRefundNo: string,
    decide: (refund: RefundDoc) => Decision<RefundDoc>,
  ): Promise<ApplyOutcome<RefundDoc>>;
}

export function refundRepository(db: Database): RefundRepository {
  const refunds = () => db.collection(COLLECTIONS.refunds);
  const get = async (outRefundNo: string): Promise<RefundDoc | undefined> => {
    const res = await run('get refunds', () => refunds().where({ _id: outRefundNo }).limit(1).get());
    return res.data[0] as RefundDoc | undefined;
  };
  return {
    get,
    async insert(doc) {
      await run('insert refunds', () => refunds().add(doc));
    },
    async listOfOrder(outTradeNo) {
      const res = await run('get refunds', () =>
        refunds().where({ outTradeNo }).orderBy('createdAt', 'asc').limit(100).get(),
      );
      return res.data as RefundDoc[];
    },
    async findProcessing(createdBefore, limit, after) {
      const _ = db.command;
      const due = { status: 'PROCESSING', createdAt: _.lt(createdBefore) };
      const res = await run('get refunds', () =>
        refunds()
          .where(afterCursor(db, due, after))
          .orderBy('createdAt', 'asc')
          .orderBy('_id', 'asc')
          .limit(limit)
          .get(),
      );
      return res.data as RefundDoc[];
    },
    async findUnapplied(limit) {
      const _ = db.command;
      const res = await run('get refunds', () =>
        refunds()
          .where({ appliedToOrder: false, status: _.in(['SUCCESS', 'CLOSED', 'FAILED']) })
          .orderBy('updatedAt', 'asc')
          .limit(limit)
          .get(),
      );
      return res.data as RefundDoc[];
    },
    apply(outRefundNo, decide) {
      return applyDecision({ db, collection: COLLECTIONS.refunds, read: () => get(outRefundNo), decide });
    },
  };
}
