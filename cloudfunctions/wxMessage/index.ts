// wxMessage: HTTP access /wx/message, the mini-program's message-push URL (消息推送, JSON, 明文模式).
// Applies WeChat's confirm-receipt and settlement events to orders and logs its reminders.
import { readTriggerEvent, type TriggerResponse } from '../../shared/http/trigger';
import { handleWxMessage } from '../../shared/usecases/wx-message';
import { readMessageToken } from '../../shared/wechat/openapi/fulfilment-config';

export async function main(event: unknown): Promise<TriggerResponse> {
  return handleWxMessage(readTriggerEvent(event), readMessageToken(), new Date());
}
