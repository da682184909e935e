// The subscription messages' store in a deployed function: WX_SUBSCRIBE_TEMPLATES and the `messages`
// collection, without WeChat's server-API client (the functions that send add their own: see
// shared/http/paying-deps.ts). Undefined when the variable is unset: no message, nothing else changes.
import { getConfig, type AppConfig } from '../config/config';
import { getDatabase } from '../db/database';
import { messageRepository } from '../db/messages';
import type { Logger } from '../log';
import type { MessageDeps } from './messages';

export function messageStoreFromEnv(log: Logger, config: AppConfig = getConfig()): MessageDeps | undefined {
  const templates = config.subscribeTemplates();
  if (!templates) return undefined;
  return { messages: messageRepository(getDatabase()), templates, log };
}
