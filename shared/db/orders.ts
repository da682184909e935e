// `orders`: `_id` = outTradeNo. Reads return the stored document; every change goes through a domain
// Decision and `applyDecision` (conditional update).
import { invalidArgument } from '../domain/errors';
import type { Decision, OrderDoc } from '../domain/order';
import { COLLECTIONS } from './collections';
import { applyDecision, type ApplyOutcome } from './conditional';
import { run, type Database } from './database';

/** A position in a list ordered by (createdAt, _id) ascending: the last document a page held. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

/** `where` for the documents after `cursor` in (createdAt, _id) order: ties in createdAt are not skipped. */
export function afterCursor(db: Database, where: object, cursor: PageCursor | undefined): object {
  if (!cursor) return where;
  const _ = db.command;
  const at = new Date(cursor.createdAt);
  return _.and([where, _.or([{ createdAt: _.gt(at) }, { createdAt: _.eq(at), _id: _.gt(cursor.id) }])]);
}

export interface OrderPage {
  orders: OrderDoc[];
  nextBefore?: string;
}

export interface OrderRepository {
  get(outTradeNo: string): Promise<OrderDoc | undefined>;
  insert(doc: OrderDoc): Promise<void>;
  /**
   * A user's orders, newest first (createdAt, then _id). The cursor is the last order id of the
   * previous page; its createdAt and id bound the next page, so ties in createdAt are not skipped.
   */
  list(openid: string, pageSize: number, before?: string): Promise<OrderPage>;
  /**
   * Unpaid orders created before `createdBefore`, oldest first in (createdAt, _id) order, after
   * `after` when given (reconcile pages through all of them).
   */
  findStaleUnpaid(createdBefore: Date, limit: number, after?: PageCursor): Promise<OrderDoc[]>;
  /**
   * Claims the right to ask WeChat about an order now: true for exactly one caller per `intervalMs`
   * (a conditional update of `lastQueriedAt`, which no transition reads, so it never races one).
   */
  claimQuery(outTradeNo: string, now: Date, intervalMs: number): Promise<boolean>;
  /** Orders holding fen for refunds in flight, least recently changed first (reconcile). */
  findReserving(limit: number): Promise<OrderDoc[]>;
  apply(outTradeNo: string, decide: (order: OrderDoc) => Decision<OrderDoc>): Promise<ApplyOutcome<OrderDoc>>;
}

export function orderRepository(db: Database): OrderRepository {
  const orders = () => db.collection(COLLECTIONS.orders);
  const get = async (outTradeNo: string): Promise<OrderDoc | undefined> => {
    const res = await run('get orders', () => orders().where({ _id: outTradeNo }).limit(1).get());
    return res.data[0] as OrderDoc | undefined;
  };
  return {
    get,
    async insert(doc) {
      await run('insert orders', () => orders().add(doc));
    },
    async list(openid, pageSize, before) {
      const _ = db.command;
      let where: object = { openid };
      if (before) {
        const cursor = await get(before);
        if (!cursor || cursor.openid !== openid)
          throw invalidArgument('before must be the nextBefore of a previous orders.list answer');
        const at = new Date(cursor.createdAt);
        where = _.and([
          { openid },
          _.or([{ createdAt: _.lt(at) }, { createdAt: _.eq(at), _id: _.lt(before) }]),
        ]);
      }
      const res = await run('get orders', () =>
        orders()
          .where(where)
          .orderBy('createdAt', 'desc')
          .orderBy('_id', 'desc')
          .limit(pageSize + 1)
          .get(),
      );
      const docs = res.data as OrderDoc[];
      const page = docs.slice(0, pageSize);
      return docs.length > pageSize
        ? { orders: page, nextBefore: page[page.length - 1]._id }
        : { orders: page };
    },
    async findStaleUnpaid(createdBefore, limit, after) {
      const _ = db.command;
      const due = { status: 'NOTPAY', createdAt: _.lt(createdBefore) };
      const res = await run('get orders', () =>
        orders()
          .where(afterCursor(db, due, after))
          .orderBy('createdAt', 'asc')
          .orderBy('_id', 'asc')
          .limit(limit)
          .get(),
      );
      return res.data as OrderDoc[];
    },
    async claimQuery(outTradeNo, now, intervalMs) {
      const _ = db.command;
      const before = new Date(now.getTime() - intervalMs);
      const res = (await run('update orders', () =>
        orders()
          .where(
            _.or([
              { _id: outTradeNo, lastQueriedAt: _.lte(before) },
              { _id: outTradeNo, lastQueriedAt: _.exists(false) },
            ]),
          )
          .update({ lastQueriedAt: now }),
      )) as { updated?: number };
      return res?.updated === 1;
    },
    async findReserving(limit) {
      const _ = db.command;
      const res = await run('get orders', () =>
        orders()
          .where({ refundingFen: _.gt(0) })
          .orderBy('updatedAt', 'asc')
          .limit(limit)
          .get(),
      );
      return res.data as OrderDoc[];
    },
    apply(outTradeNo, decide) {
      return applyDecision({ db, collection: COLLECTIONS.orders, read: () => get(outTradeNo), decide });
    },
  };
}
