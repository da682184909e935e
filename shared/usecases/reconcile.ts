// The timer's work (docs/product.md#reconcile): bounded per run, idempotent, each item independent so that
// one failure does not stop the rest.
import type { PageCursor } from '../db/orders';
import type { ReconcileList } from '../db/reconcile-cursors';
import type { OrderDoc } from '../domain/order';
import type { RefundDoc } from '../domain/refund';
import type { UseCaseDeps } from './deps';
import { retryVirtualUploads } from './fulfilment';
import { confirmOrder } from './payments';
import { finishInterrupted, releaseAbandoned, settleOnOrder } from './refunds';

export type ReconcileDeps = Pick<
  UseCaseDeps,
  'orders' | 'refunds' | 'gateway' | 'log' | 'fulfilment' | 'reconcileCursors' | 'messages'
>;

export const RECONCILE_LIMITS = { unapplied: 50, reserving: 50, shipping: 20, messages: 20 } as const;
/** Orders and refunds younger than this are left to the notification. */
export const RECONCILE_MIN_AGE_MS = 5 * 60 * 1000;

/**
 * How a run pages through the due unpaid orders and PROCESSING refunds (docs/product.md#reconcile).
 * The budget keeps a run inside the function's 60 s timeout: no item is started after it, and the
 * last one may still take three WeChat calls of at most 5 s each before the settling and shipping
 * steps run.
 */
export interface ReconcilePaging {
  /** Items per database page. */
  pageSize: number;
  /** Pages per list and run at most. */
  maxPages: number;
  /** No item is started once this much time has passed since the run began. */
  budgetMs: number;
}
export const RECONCILE_PAGING: ReconcilePaging = { pageSize: 50, maxPages: 20, budgetMs: 35_000 };

/** How far a run got through one list. */
export interface ListPaging {
  /** Whether the run continued where the previous one stopped (false: from the oldest due item). */
  resumed: boolean;
  pages: number;
  /** The run saw the newest due item; the next run starts again at the oldest. */
  reachedEnd: boolean;
}

export interface ReconcileReport {
  ordersChecked: number;
  ordersPaid: number;
  ordersClosed: number;
  refundsChecked: number;
  refundsFinished: number;
  refundsSettled: number;
  /** Paid virtual orders whose shipping upload had not landed, and how many landed now. */
  shippingChecked: number;
  shippingUploaded: number;
  /** Subscription messages due again (transient failure, or an attempt that never reported). */
  messagesChecked: number;
  messagesSent: number;
  errors: number;
  paging: {
    orders: ListPaging;
    refunds: ListPaging;
    /** Why the paging stopped: both lists done, the page bound, or the time budget. */
    stoppedBy: 'end' | 'pages' | 'budget';
    elapsedMs: number;
  };
}

/** One list reconcile pages through: where it stands, and one more page. */
interface ListPager {
  report: ListPaging;
  done: boolean;
  /** Checks the next page, then saves where it stopped; false when the budget ran out inside it. */
  nextPage(): Promise<boolean>;
}

async function listPager<T extends { _id: string; createdAt: Date }>(
  deps: ReconcileDeps,
  list: ReconcileList,
  paging: ReconcilePaging,
  overBudget: () => boolean,
  now: Date,
  fetch: (after: PageCursor | undefined, limit: number) => Promise<T[]>,
  check: (item: T) => Promise<void>,
): Promise<ListPager> {
  let after = await deps.reconcileCursors.get(list);
  const pager: ListPager = {
    report: { resumed: !!after, pages: 0, reachedEnd: false },
    done: false,
    async nextPage() {
      const items = await fetch(after, paging.pageSize);
      pager.report.pages++;
      let inBudget = true;
      for (const item of items) {
        if (overBudget()) {
          inBudget = false;
          break;
        }
        await check(item);
        after = { createdAt: new Date(item.createdAt), id: item._id };
      }
      if (inBudget && items.length < paging.pageSize) {
        pager.done = true;
        pager.report.reachedEnd = true;
        after = undefined;
      }
      await deps.reconcileCursors.save(list, after, now);
      return inBudget;
    },
  };
  return pager;
}

export async function reconcile(
  deps: ReconcileDeps,
  now: Date,
  minAgeMs = RECONCILE_MIN_AGE_MS,
  pagingOptions: Partial<ReconcilePaging> = {},
  clock: () => number = Date.now,
): Promise<ReconcileReport> {
  const paging = { ...RECONCILE_PAGING, ...pagingOptions };
  const startedAt = clock();
  const overBudget = () => clock() - startedAt >= paging.budgetMs;
  const report: ReconcileReport = {
    ordersChecked: 0,
    ordersPaid: 0,
    ordersClosed: 0,
    refundsChecked: 0,
    refundsFinished: 0,
    refundsSettled: 0,
    shippingChecked: 0,
    shippingUploaded: 0,
    messagesChecked: 0,
    messagesSent: 0,
    errors: 0,
    paging: {
      orders: { resumed: false, pages: 0, reachedEnd: false },
      refunds: { resumed: false, pages: 0, reachedEnd: false },
      stoppedBy: 'end',
      elapsedMs: 0,
    },
  };
  const cutoff = new Date(now.getTime() - minAgeMs);
  const failed = (what: string, err: unknown) => {
    report.errors++;
    deps.log.error(what, { error: err });
  };

  const orders = await listPager<OrderDoc>(
    deps,
    'orders',
    paging,
    overBudget,
    now,
    (after, limit) => deps.orders.findStaleUnpaid(cutoff, limit, after),
    async (order) => {
      report.ordersChecked++;
      try {
        const after = await confirmOrder(deps, order, now, { closeIfExpired: true });
        if (after.status === 'SUCCESS' || after.status === 'REFUNDED') report.ordersPaid++;
        if (after.status === 'CLOSED') report.ordersClosed++;
      } catch (err) {
        failed(`order ${order._id}`, err);
      }
    },
  );
  const refunds = await listPager<RefundDoc>(
    deps,
    'refunds',
    paging,
    overBudget,
    now,
    (after, limit) => deps.refunds.findProcessing(cutoff, limit, after),
    async (refund) => {
      report.refundsChecked++;
      try {
        const after = await finishInterrupted(deps, refund, now);
        if (after.status !== 'PROCESSING') report.refundsFinished++;
      } catch (err) {
        failed(`refund ${refund._id}`, err);
      }
    },
  );
  report.paging.orders = orders.report;
  report.paging.refunds = refunds.report;
  // Pages of the two lists alternate, so that a flood of one cannot starve the other; each list
  // continues where the last run stopped, so that a flood of new items cannot starve older ones.
  pages: for (let page = 0; page < paging.maxPages; page++) {
    for (const p of [orders, refunds]) {
      if (p.done) continue;
      if (overBudget() || !(await p.nextPage())) {
        report.paging.stoppedBy = 'budget';
        break pages;
      }
    }
    if (orders.done && refunds.done) break;
  }
  if (report.paging.stoppedBy !== 'budget' && !(orders.done && refunds.done))
    report.paging.stoppedBy = 'pages';
  report.paging.elapsedMs = clock() - startedAt;

  for (const refund of await deps.refunds.findUnapplied(RECONCILE_LIMITS.unapplied)) {
    try {
      const after = await settleOnOrder(deps, refund._id, now);
      if (after?.appliedToOrder) report.refundsSettled++;
    } catch (err) {
      failed(`settling refund ${refund._id}`, err);
    }
  }
  for (const order of await deps.orders.findReserving(RECONCILE_LIMITS.reserving)) {
    try {
      report.refundsSettled += await releaseAbandoned(deps, order, now);
    } catch (err) {
      failed(`releasing abandoned refunds of order ${order._id}`, err);
    }
  }
  if (deps.fulfilment) {
    // After the payments above (whose own uploads ran as they were applied): whatever is still missing.
    const shipping = await retryVirtualUploads(deps.fulfilment, now, RECONCILE_LIMITS.shipping);
    report.shippingChecked = shipping.checked;
    report.shippingUploaded = shipping.uploaded;
    report.errors += shipping.failed;
  }
  if (deps.messages) {
    // Last: the payments and refunds above sent their own messages as they were applied.
    const messages = await deps.messages.retry(now, RECONCILE_LIMITS.messages);
    report.messagesChecked = messages.checked;
    report.messagesSent = messages.sent;
    report.errors += messages.failed;
  }
  return report;
}
