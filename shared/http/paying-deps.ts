// The dependencies of the functions that can make an order SUCCESS (orders.get confirming a payment,
// payNotify, reconcile): those of ./deps.ts plus WeChat's shipping API, so that virtual goods are
// uploaded in the invocation that applied their payment. A module of its own so that no other
// function bundles the WeChat server-API client (wx-server-sdk).
import type { AppConfig } from '../config/config';
import type { Logger } from '../log';
import type { UseCaseDeps } from '../usecases/deps';
import { fulfilmentDepsFromEnv } from '../usecases/fulfilment-deps';
import type { NotificationDeps } from '../usecases/notifications';
import { functionDeps, notificationDeps } from './deps';

export function payingFunctionDeps(config: AppConfig, log: Logger): UseCaseDeps {
  return { ...functionDeps(config, log), fulfilment: fulfilmentDepsFromEnv(log) };
}

/** Refund notifications never make an order paid: refundNotify keeps notificationDeps alone. */
export function payNotificationDeps(config: AppConfig, log: Logger): NotificationDeps {
  return { ...notificationDeps(config, log), fulfilment: fulfilmentDepsFromEnv(log) };
}
