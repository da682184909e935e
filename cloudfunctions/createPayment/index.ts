// createPayment: validated cart → order priced from the catalog → JSAPI prepay → wx.requestPayment params.
// `subscriptions` (optional): the template ids the user accepted in wx.requestSubscribeMessage.
import '../../shared/config/subscribe-templates';
import type { CreatePaymentResponse } from '../../shared/contracts/api';
import { parseSubscriptions } from '../../shared/domain/subscription';
import { optionalString } from '../../shared/domain/validate';
import { authedCallable } from '../../shared/http/callable';
import { functionDeps } from '../../shared/http/deps';
import { perInstance } from '../../shared/http/per-instance';
import { IDEMPOTENCY_KEY_PATTERN, createPayment } from '../../shared/usecases/payments';

const depsOf = perInstance(functionDeps);

export const main = authedCallable<CreatePaymentResponse>(
  'createPayment',
  async ({ fields, caller, identity, config, log, now }) => {
    const idempotencyKey = optionalString(fields, 'idempotencyKey', {
      min: 8,
      max: 64,
      pattern: IDEMPOTENCY_KEY_PATTERN,
      patternHint: '8–64 characters of [A-Za-z0-9_-], e.g. a UUID without braces',
    });
    const subscriptions = parseSubscriptions(fields.subscriptions, config.subscribeTemplates());
    return createPayment(depsOf(config, log), {
      openid: caller.openid,
      items: fields.items,
      now,
      appid: identity.appid,
      idempotencyKey,
      subscriptions,
    });
  },
);
