// billReconcile: the daily timer (10:30 China time, cloudbaserc.json) reconciles the previous day's
// ledger against WeChat Pay's bills; an admin calling `{ date: 'YYYY-MM-DD' }` reconciles that day and
// gets the `reconciliations` document. Mini-program users who are not admins get PERMISSION_DENIED.
// It never refuses a date by its own clock: WeChat's answer decides (status `unavailable` when not ready).
import { permissionDenied, invalidArgument } from '../../shared/domain/errors';
import { publicCallable } from '../../shared/http/callable';
import { functionDeps } from '../../shared/http/deps';
import { perInstance } from '../../shared/http/per-instance';
import { getLedgerStore } from '../../shared/ledger/ledger-store';
import { reconcileDay } from '../../shared/ledger/reconcile-day';
import { dayBounds, previousCstDay, type ReconciliationDoc } from '../../shared/ledger/reconciliation';
import { applyPayment, outcomeOf } from '../../shared/usecases/payments';

const depsOf = perInstance(functionDeps);

export const main = publicCallable<ReconciliationDoc>(
  'billReconcile',
  async ({ fields, identity, timer, config, log, now }) => {
    const openid = identity.openid;
    // Only the platform's timer and admins: a caller without an openid (web client, HTTP access) is not the timer.
    if (!timer && (openid === undefined || !config.adminOpenids().has(openid)))
      throw permissionDenied('billReconcile is for admins (ADMIN_OPENIDS); it also runs on its daily timer');
    let date: string;
    if (fields.date === undefined) {
      // The timer, or a server-side call without a date: yesterday in China time, as the bill is dated.
      if (!timer) throw invalidArgument('date is required: the China-time day to reconcile, YYYY-MM-DD');
      date = previousCstDay(now);
    } else {
      if (typeof fields.date !== 'string' || !dayBounds(fields.date))
        throw invalidArgument('date must be a real day written YYYY-MM-DD (China time), e.g. 2026-11-29');
      date = fields.date;
    }
    const deps = depsOf(config, log);
    const ledger = getLedgerStore();
    const doc = await reconcileDay(
      {
        bills: deps.gateway.bills(),
        paymentsOfDay: (from, to) => ledger.paymentsOfDay(from, to),
        refundsOfDay: (from, to) => ledger.refundsOfDay(from, to),
        findOrder: (outTradeNo) => deps.orders.get(outTradeNo),
        findRefund: (outRefundNo) => deps.refunds.get(outRefundNo),
        repairPayment: async (outTradeNo, facts, at) =>
          outcomeOf(await applyPayment(deps, outTradeNo, facts, at)),
        reconciliations: {
          get: (day) => ledger.getReconciliation(day),
          put: (doc) => ledger.putReconciliation(doc),
        },
        clock: () => new Date(),
      },
      date,
    );
    const count = (kind: string) => doc.discrepancies.filter((d) => d.kind === kind).length;
    log.info(
      `${date} ${doc.status}${timer ? ' (timer)' : ''}: local ${doc.local.payments}/${doc.local.refunds}, wechat ${doc.wechat.payments}/${doc.wechat.refunds}` +
        (doc.unavailable ? `, ${doc.unavailable.code}` : '') +
        ['missing-local', 'missing-in-bill', 'amount-mismatch', 'state-mismatch', 'repaired']
          .map((k) => (count(k) ? `, ${k} ${count(k)}` : ''))
          .join(''),
    );
    return doc;
  },
);
