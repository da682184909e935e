// wxMessage: HTTP access /wx/message, the mini-program's message-push URL (消息推送, JSON, 明文模式).
// Applies WeChat's confirm-receipt and settlement events to orders and logs its reminders.
import { getDatabase } from '../../shared/db/database';
import { getRepositories } from '../../shared/db/repositories';
import { readTriggerEvent, type TriggerResponse } from '../../shared/http/trigger';
import { consoleLogger } from '../../shared/log';
import { handleWxMessage } from '../../shared/usecases/wx-message';
import { readMessageToken } from '../../shared/wechat/openapi/fulfilment-config';

const log = consoleLogger('wxMessage');

export async function main(event: unknown): Promise<TriggerResponse> {
  const { orders, notifications } = getRepositories();
  const deps = { db: getDatabase(), orders, notifications, log };
  return handleWxMessage(deps, readTriggerEvent(event), readMessageToken(), new Date());
}
