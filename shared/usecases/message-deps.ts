// The subscription messages' dependencies in a deployed function: WX_SUBSCRIBE_TEMPLATES, the
// `messages` collection and the WeChat server-API client of this instance. Undefined when the
// variable is unset, so that no message is sent and nothing else changes.
import { getConfig, type AppConfig } from '../config/config';
import { getDatabase } from '../db/database';
import { messageRepository } from '../db/messages';
import type { Logger } from '../log';
import { callOpenApi } from '../wechat/openapi/client';
import { readOpenApiMode } from '../wechat/openapi/config';
import type { MessageDeps } from './messages';

export function messageDepsFromEnv(
  log: Logger,
  config: AppConfig = getConfig(),
  /** The function holds no AppSecret (refund, refundNotify): in https mode reconcile sends for it. */
  opts: { secretless?: boolean } = {},
): MessageDeps | undefined {
  const templates = config.subscribeTemplates();
  if (!templates) return undefined;
  const deps: MessageDeps = { messages: messageRepository(getDatabase()), callOpenApi, templates, log };
  if (opts.secretless && readOpenApiMode() === 'https')
    deps.deferred = 'recorded for reconcile: this function sends by 云调用 only and holds no AppSecret';
  return deps;
}
