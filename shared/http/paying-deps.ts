// The dependencies of the functions that can make an order SUCCESS (orders.get confirming a payment,
// payNotify, reconcile): those of ./deps.ts plus WeChat's shipping API, so that virtual goods are
// uploaded in the invocation that applied their payment, and the subscription messages they send
// (also refundNotify's `refunded`). A module of its own so that no other function bundles the WeChat
// server-API client (wx-server-sdk).
import type { AppConfig } from '../config/config';
import type { Logger } from '../log';
import type { UseCaseDeps } from '../usecases/deps';
import { fulfilmentDepsFromEnv } from '../usecases/fulfilment-deps';
import { messageStoreFromEnv } from '../usecases/message-deps';
import type { MessageDeps } from '../usecases/messages';
import { callOpenApi } from '../wechat/openapi/client';
import type { NotificationDeps } from '../usecases/notifications';
import { functionDeps, notificationDeps } from './deps';

export function payingFunctionDeps(config: AppConfig, log: Logger): UseCaseDeps {
  return {
    ...functionDeps(config, log),
    fulfilment: fulfilmentDepsFromEnv(log),
    messages: sendingMessages(log, config),
  };
}

/** The subscription messages (when configured) sent by this instance's WeChat server-API client. */
function sendingMessages(log: Logger, config: AppConfig): MessageDeps | undefined {
  const store = messageStoreFromEnv(log, config);
  return store && { ...store, callOpenApi };
}

export function payNotificationDeps(config: AppConfig, log: Logger): NotificationDeps {
  return {
    ...notificationDeps(config, log),
    fulfilment: fulfilmentDepsFromEnv(log),
    messages: sendingMessages(log, config),
  };
}

/** Refund notifications never make an order paid: no shipping upload, only the `refunded` message. */
export function refundNotificationDeps(config: AppConfig, log: Logger): NotificationDeps {
  return { ...notificationDeps(config, log), messages: sendingMessages(log, config) };
}
