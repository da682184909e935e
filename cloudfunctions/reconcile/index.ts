// reconcile: the 5-minute timer (cloudbaserc.json). Bounded, idempotent; returns what it did.
// Mini-program users may not run it; the timer, the console and admins may. Callers without a user
// identity (timer, server-side invocation) may shorten the minimum age, which tests and operators
// use to finish work without waiting five minutes.
import { getConfig } from '../../shared/config/config';
import { platformIdentity } from '../../shared/http/context';
import { payingFunctionDeps } from '../../shared/http/paying-deps';
import { consoleLogger } from '../../shared/log';
import { RECONCILE_MIN_AGE_MS, reconcile, type ReconcileReport } from '../../shared/usecases/reconcile';

const log = consoleLogger('reconcile');

function minAgeMs(event: unknown): number {
  const v = (event as { minAgeSeconds?: unknown } | null)?.minAgeSeconds;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= 86_400
    ? v * 1000
    : RECONCILE_MIN_AGE_MS;
}

export async function main(event: unknown, context?: unknown): Promise<ReconcileReport | { error: string }> {
  try {
    const config = getConfig();
    config.validateFor('reconcile');
    const { openid } = platformIdentity(context);
    if (openid && !config.adminOpenids().has(openid))
      return { error: 'reconcile runs on its timer; it is not callable from the mini-program' };
    const report = await reconcile(
      payingFunctionDeps(config, log),
      new Date(),
      openid ? RECONCILE_MIN_AGE_MS : minAgeMs(event),
    );
    log.info(JSON.stringify(report));
    return report;
  } catch (err) {
    log.error('run failed', { error: err });
    return { error: 'reconcile run failed; see the function log' };
  }
}
