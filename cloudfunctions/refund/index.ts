// refund: owner full refund inside the window, admin any amount up to the rest; reserved before WeChat.
import type { RefundResponse } from '../../shared/contracts/api';
import { MERCHANT_NO_PATTERN } from '../../shared/domain/ids';
import { MAX_ORDER_FEN } from '../../shared/domain/money';
import { TEXT_PATTERN, optionalInt, optionalString, requireString } from '../../shared/domain/validate';
import { authedCallable } from '../../shared/http/callable';
import { functionDeps } from '../../shared/http/deps';
import { perInstance } from '../../shared/http/per-instance';
import { messengerFromEnv } from '../../shared/usecases/message-deps';
import { requestRefund } from '../../shared/usecases/refunds';

// A refund WeChat settles at once records its `refunded` message; reconcile sends it (this function
// does not bundle the WeChat server-API client; refundNotify sends the usual ones).
const depsOf = perInstance((config, log) => ({
  ...functionDeps(config, log),
  messages: messengerFromEnv(log, undefined, config),
}));

export const main = authedCallable<RefundResponse>(
  'refund',
  async ({ fields, caller, isAdmin, config, log, now }) => {
    const orderId = requireString(fields, 'orderId', {
      min: 6,
      max: 32,
      pattern: MERCHANT_NO_PATTERN,
      patternHint: 'the orderId returned by createPayment',
    });
    const amountFen = optionalInt(fields, 'amountFen', { min: 1, max: MAX_ORDER_FEN });
    // WeChat shows the reason to the payer; 80 characters is its limit.
    const reason = optionalString(fields, 'reason', {
      min: 1,
      max: 80,
      pattern: TEXT_PATTERN,
      patternHint: 'text without control characters',
    });
    return requestRefund(depsOf(config, log), {
      orderId,
      requester: { openid: caller.openid, isAdmin },
      windowHours: config.refundWindowHours(),
      now,
      amountFen,
      reason,
    });
  },
);
