// ship (admin): `{ orderId, shipments: [{ trackingNo, expressCompany, itemDesc?, consignorContact? }] }`
// → `{ orderId, fulfilment }`. Uploads the shipping info to WeChat's 发货信息管理, then records it;
// a second call is WeChat's one allowed change, a third is CONFLICT.
import { MERCHANT_NO_PATTERN } from '../../shared/domain/ids';
import { permissionDenied } from '../../shared/domain/errors';
import type { Fulfilment } from '../../shared/domain/fulfilment';
import { requireString } from '../../shared/domain/validate';
import { authedCallable } from '../../shared/http/callable';
import { shipOrder } from '../../shared/usecases/fulfilment';
import { perInstance } from '../../shared/http/per-instance';
import { fulfilmentDepsFromEnv } from '../../shared/usecases/fulfilment-deps';
import { messengerFromEnv } from '../../shared/usecases/message-deps';
import { callOpenApi } from '../../shared/wechat/openapi/client';

export interface ShipResponse {
  orderId: string;
  fulfilment: Fulfilment;
}

// The first accepted upload sends the `shipped` subscription message when configured.
const depsOf = perInstance((config, log) => ({
  ...fulfilmentDepsFromEnv(log),
  messages: messengerFromEnv(log, callOpenApi, config),
}));

export const main = authedCallable<ShipResponse>('ship', async ({ fields, isAdmin, config, log, now }) => {
  if (!isAdmin) throw permissionDenied('only admins (ADMIN_OPENIDS) may ship orders');
  const orderId = requireString(fields, 'orderId', {
    min: 6,
    max: 32,
    pattern: MERCHANT_NO_PATTERN,
    patternHint: 'the orderId returned by createPayment',
  });
  return shipOrder(depsOf(config, log), { orderId, shipments: fields.shipments, isAdmin, now });
});
