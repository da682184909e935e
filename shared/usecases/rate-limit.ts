// The per-user limits as the use cases apply them (docs/numbers.md#per-user-limits): a call that would
// spend WeChat Pay's per-merchant quota is counted before anything is written or sent, and over the
// limit it fails with RATE_LIMITED and the seconds to wait. Reconcile (the timer) never comes here.
import { rateLimited } from '../domain/errors';
import { ORDER_QUERY_INTERVAL_MS, RATE_LIMITS, type LimitedAction } from '../domain/rate-limit';
import type { UseCaseDeps } from './deps';

export type RateLimitDeps = Pick<UseCaseDeps, 'rateLimits'>;

const WHAT: Record<LimitedAction, string> = {
  prepay: 'payments started',
  refund: 'refunds requested',
};

/** Counts one `action` by `openid`; throws RATE_LIMITED (nothing counted) when the window is full. */
export async function chargeCall(
  deps: RateLimitDeps,
  action: LimitedAction,
  openid: string,
  now: Date,
): Promise<void> {
  const limit = RATE_LIMITS[action];
  const r = await deps.rateLimits.charge(`${action}:${openid}`, limit, now);
  if (r.allowed) return;
  throw rateLimited(
    `too many ${WHAT[action]} by this user (at most ${limit.limit} per ${limit.windowMs / 1000} s); ` +
      `retry in ${r.retryAfterSeconds} s`,
    r.retryAfterSeconds,
  );
}

/**
 * A refund request that will reach WeChat. Admins (ADMIN_OPENIDS) are operators refunding on the
 * merchant's behalf, e.g. every order of a cancelled event: they are not limited here (they are on
 * the prepay limit like anyone).
 */
export function chargeRefund(
  deps: RateLimitDeps,
  requester: { openid: string; isAdmin: boolean },
  now: Date,
): Promise<void> {
  return requester.isAdmin ? Promise.resolve() : chargeCall(deps, 'refund', requester.openid, now);
}

/**
 * Whether this caller may ask WeChat about the order now: at most once per ORDER_QUERY_INTERVAL_MS
 * per order across all instances. When not, the stored order is the answer (not an error).
 */
export function mayQueryOrder(
  deps: Pick<UseCaseDeps, 'orders'>,
  outTradeNo: string,
  now: Date,
): Promise<boolean> {
  return deps.orders.claimQuery(outTradeNo, now, ORDER_QUERY_INTERVAL_MS);
}
