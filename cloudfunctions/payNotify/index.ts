// payNotify: HTTP trigger /pay/notify (cloudbaserc.json httpAccess). Answers WeChat Pay directly.
import { getConfig } from '../../shared/config/config';
import { readTriggerEvent, type TriggerResponse } from '../../shared/http/trigger';
import { handleNotification } from '../../shared/usecases/notifications';

export async function main(event: unknown): Promise<TriggerResponse> {
  return handleNotification('pay', readTriggerEvent(event), getConfig());
}
