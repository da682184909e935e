// The frame of a notification endpoint (HTTP trigger; answers WeChat Pay directly): validate the
// configuration, assemble the use case's dependencies, hand it the raw request.
import { getConfig, type AppConfig } from '../config/config';
import { consoleLogger, type Logger } from '../log';
import type { NotificationKind } from '../gateways/gateway';
import { handleNotification, type NotificationDeps } from '../usecases/notifications';
import { notificationDeps } from './deps';
import { perInstance } from './per-instance';
import { jsonResponse, readTriggerEvent, type TriggerResponse } from './trigger';

export function notificationEndpoint(
  name: 'payNotify' | 'refundNotify',
  kind: NotificationKind,
  depsOf: (config: AppConfig, log: Logger) => NotificationDeps = notificationDeps,
) {
  const log = consoleLogger(name);
  const depsFor = perInstance(depsOf);
  return async (event: unknown): Promise<TriggerResponse> => {
    const req = readTriggerEvent(event);
    let deps;
    try {
      const config = getConfig();
      config.validateFor(name);
      deps = depsFor(config, log);
    } catch (err) {
      log.error('misconfigured', { error: err });
      // The protocol is unknown until the configuration reads; WeChat retries on any 5xx.
      return jsonResponse(500, {
        code: 'FAIL',
        message: 'the endpoint is misconfigured; see the function log',
      });
    }
    return handleNotification(deps, kind, req, new Date());
  };
}
