// The use cases' dependencies in a deployed function: this instance's database and the gateway of
// the configured WeChat Pay mode, both created on first use and kept across invocations. The
// functions that can make an order SUCCESS add WeChat's shipping API (./paying-deps.ts).
import type { AppConfig } from '../config/config';
import { getRepositories } from '../db/repositories';
import { getGateway, getNotificationGateway } from '../gateways/select';
import type { Logger } from '../log';
import type { UseCaseDeps } from '../usecases/deps';
import type { NotificationDeps } from '../usecases/notifications';

export function functionDeps(config: AppConfig, log: Logger): UseCaseDeps {
  return { ...getRepositories(), gateway: getGateway(config), log };
}

export function notificationDeps(config: AppConfig, log: Logger): NotificationDeps {
  return { ...getRepositories(), gateway: getNotificationGateway(config), log };
}
