// reconcile: the 5-minute timer (cloudbaserc.json). Bounded, idempotent; returns what it did.
// Only its timer trigger (the platform's timer event) and admins may run it, and only they may shorten
// the minimum age with minAgeSeconds (operators and tests finish work without waiting five minutes), or
// page differently with pageSize / maxPages (1–100 each; e.g. to walk a backlog in small steps).
// Anyone else, with or without an openid, gets PERMISSION_DENIED before any WeChat call.
import { getConfig } from '../../shared/config/config';
import { platformIdentity } from '../../shared/http/context';
import { perInstance } from '../../shared/http/per-instance';
import { payingFunctionDeps } from '../../shared/http/paying-deps';
import { isTimerInvocation } from '../../shared/http/timer-event';
import { consoleLogger } from '../../shared/log';
import {
  RECONCILE_MIN_AGE_MS,
  reconcile,
  type ReconcilePaging,
  type ReconcileReport,
} from '../../shared/usecases/reconcile';
import { messengerFromEnv } from '../../shared/usecases/message-deps';
import { callOpenApi } from '../../shared/wechat/openapi/client';

const log = consoleLogger('reconcile');
const depsOf = perInstance((config, log) => ({
  ...payingFunctionDeps(config, log),
  messages: messengerFromEnv(log, callOpenApi, config),
}));

function minAgeMs(event: unknown): number {
  const v = (event as { minAgeSeconds?: unknown } | null)?.minAgeSeconds;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 86_400
    ? v * 1000
    : RECONCILE_MIN_AGE_MS;
}

/** The paging an operator asked for; anything but an integer in 1–100 keeps the default. */
function pagingOf(event: unknown): Partial<ReconcilePaging> {
  const e = (event ?? {}) as { pageSize?: unknown; maxPages?: unknown };
  const valid = (v: unknown): v is number =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 100;
  const paging: Partial<ReconcilePaging> = {};
  if (valid(e.pageSize)) paging.pageSize = e.pageSize;
  if (valid(e.maxPages)) paging.maxPages = e.maxPages;
  return paging;
}

export async function main(
  event: unknown,
  context?: unknown,
): Promise<ReconcileReport | { error: string; code?: 'PERMISSION_DENIED' }> {
  try {
    const config = getConfig();
    config.validateFor('reconcile');
    const { openid } = platformIdentity(context);
    const admin = openid !== undefined && config.adminOpenids().has(openid);
    if (!admin && !isTimerInvocation(event, context, openid)) {
      log.warn('refused a caller that is neither the timer nor an admin', { openid: openid ?? 'none' });
      return {
        code: 'PERMISSION_DENIED',
        error: 'reconcile runs on its timer; only admins (ADMIN_OPENIDS) may call it',
      };
    }
    const deps = depsOf(config, log);
    const report = await reconcile(deps, new Date(), minAgeMs(event), pagingOf(event));
    log.info(JSON.stringify(report));
    return report;
  } catch (err) {
    log.error('run failed', { error: err });
    return { error: 'reconcile run failed; see the function log' };
  }
}
