// `orders`: `_id` = outTradeNo. Reads return the stored document; every change goes through a domain
// Decision and `applyDecision` (conditional update).
import { invalidArgument } from '../domain/errors';
import type { Decision, OrderDoc } from '../domain/order';
import { COLLECTIONS } from './collections';
import { applyDecision, type ApplyOutcome } from './conditional';
import { run, type Database } from './database';

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
  /** Unpaid orders created before `createdBefore`, oldest first (reconcile). */
  findStaleUnpaid(createdBefore: Date, limit: number): Promise<OrderDoc[]>;
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
    async findStaleUnpaid(createdBefore, limit) {
      const _ = db.command;
      const res = await run('get orders', () =>
        orders()
          .where({ status: 'NOTPAY', createdAt: _.lt(createdBefore) })
          .orderBy('createdAt', 'asc')
          .limit(limit)
          .get(),
      );
      return res.data as OrderDoc[];
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
