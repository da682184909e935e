// `refunds`: `_id` = outRefundNo.
import type { Decision } from '../domain/order';
import type { RefundDoc } from '../domain/refund';
import { COLLECTIONS } from './collections';
import { applyDecision, type ApplyOutcome } from './conditional';
import { getDatabase, run } from './database';

const refunds = () => getDatabase().collection(COLLECTIONS.refunds);

export async function getRefund(outRefundNo: string): Promise<RefundDoc | undefined> {
  const res = await run('get refunds', () => refunds().where({ _id: outRefundNo }).limit(1).get());
  return res.data[0] as RefundDoc | undefined;
}

export async function insertRefund(doc: RefundDoc): Promise<void> {
  await run('insert refunds', () => refunds().add(doc));
}

export async function listRefundsOfOrder(outTradeNo: string): Promise<RefundDoc[]> {
  const res = await run('get refunds', () =>
    refunds().where({ outTradeNo }).orderBy('createdAt', 'asc').limit(100).get(),
  );
  return res.data as RefundDoc[];
}

/** Refunds still PROCESSING that were requested before `createdBefore` (reconcile). */
export async function findProcessing(createdBefore: Date, limit: number): Promise<RefundDoc[]> {
  const _ = getDatabase().command;
  const res = await run('get refunds', () =>
    refunds()
      .where({ status: 'PROCESSING', createdAt: _.lt(createdBefore) })
      .orderBy('createdAt', 'asc')
      .limit(limit)
      .get(),
  );
  return res.data as RefundDoc[];
}

/** Final refunds whose effect on the order has not been recorded yet (crash between two writes). */
export async function findUnapplied(limit: number): Promise<RefundDoc[]> {
  const _ = getDatabase().command;
  const res = await run('get refunds', () =>
    refunds()
      .where({ appliedToOrder: false, status: _.in(['SUCCESS', 'CLOSED', 'FAILED']) })
      .orderBy('updatedAt', 'asc')
      .limit(limit)
      .get(),
  );
  return res.data as RefundDoc[];
}

export function applyToRefund(
  outRefundNo: string,
  decide: (refund: RefundDoc) => Decision<RefundDoc>,
): Promise<ApplyOutcome<RefundDoc>> {
  return applyDecision({ collection: COLLECTIONS.refunds, read: () => getRefund(outRefundNo), decide });
}
