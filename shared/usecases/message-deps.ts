// The subscription messages of a deployed function: WX_SUBSCRIBE_TEMPLATES, the `messages`
// collection and, for the functions that send, the WeChat server-API client they pass in (the refund
// function passes none and records its messages for reconcile). Undefined when the variable is
// unset: no message is sent and nothing else changes. Only the functions that send or record
// messages import this module (payNotify, refundNotify, refund, reconcile, ship).
import '../config/subscribe-templates';
import { getConfig, type AppConfig } from '../config/config';
import { getDatabase } from '../db/database';
import { messageRepository } from '../db/messages';
import type { Logger } from '../log';
import type { CallOpenApi } from '../wechat/openapi/client';
import { orderMessenger, type OrderMessenger } from './messages';

export function messengerFromEnv(
  log: Logger,
  callOpenApi: CallOpenApi | undefined,
  config: AppConfig = getConfig(),
): OrderMessenger | undefined {
  const templates = config.subscribeTemplates();
  if (!templates) return undefined;
  return orderMessenger({ messages: messageRepository(getDatabase()), callOpenApi, templates, log });
}
