// The use cases' dependencies in a deployed function: this instance's database and the gateway of
// the configured WeChat Pay mode, both created on first use and kept across invocations. The
// functions that can make an order SUCCESS (orders, payNotify, reconcile) also get WeChat's shipping
// API, so virtual goods are uploaded in the invocation that applied their payment.
import type { AppConfig } from '../config/config';
import { getRepositories } from '../db/repositories';
import type { NotificationKind } from '../gateways/gateway';
import { getGateway, getNotificationGateway } from '../gateways/select';
import type { Logger } from '../log';
import type { UseCaseDeps } from '../usecases/deps';
import { fulfilmentDepsFromEnv } from '../usecases/fulfilment-deps';
import type { NotificationDeps } from '../usecases/notifications';

export function functionDeps(config: AppConfig, log: Logger): UseCaseDeps {
  return { ...getRepositories(), gateway: getGateway(config), log };
}

/** functionDeps and the shipping upload of virtual goods (orders.get confirming, reconcile). */
export function payingFunctionDeps(config: AppConfig, log: Logger): UseCaseDeps {
  return { ...functionDeps(config, log), fulfilment: fulfilmentDepsFromEnv(log) };
}

/** Payment notifications upload virtual goods' shipping; refund notifications never make an order paid. */
export function notificationDeps(config: AppConfig, log: Logger, kind: NotificationKind): NotificationDeps {
  const deps: NotificationDeps = { ...getRepositories(), gateway: getNotificationGateway(config), log };
  if (kind === 'pay') deps.fulfilment = fulfilmentDepsFromEnv(log);
  return deps;
}
