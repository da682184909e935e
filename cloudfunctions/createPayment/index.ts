// createPayment: validated cart → order priced from the catalog → JSAPI prepay → wx.requestPayment params.
import type { CreatePaymentResponse } from '../../shared/contracts/api';
import { optionalString } from '../../shared/domain/validate';
import { authedCallable } from '../../shared/http/callable';
import { getGateway } from '../../shared/usecases/gateways';
import { IDEMPOTENCY_KEY_PATTERN, createPayment } from '../../shared/usecases/payments';

export const main = authedCallable<CreatePaymentResponse>(
  'createPayment',
  async ({ fields, caller, identity, config, now }) => {
    const idempotencyKey = optionalString(fields, 'idempotencyKey', {
      min: 8,
      max: 64,
      pattern: IDEMPOTENCY_KEY_PATTERN,
      patternHint: '8–64 characters of [A-Za-z0-9_-], e.g. a UUID without braces',
    });
    return createPayment(getGateway(config), {
      openid: caller.openid,
      items: fields.items,
      now,
      ...(identity.appid ? { appid: identity.appid } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
  },
);
