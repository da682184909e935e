// payNotify: HTTP trigger /pay/notify (cloudbaserc.json httpAccess). Answers WeChat Pay directly; a
// payment it applies to virtual goods has their shipping uploaded in the same invocation, and its
// `paid` subscription message sent when configured.
import { payNotificationDeps } from '../../shared/http/paying-deps';
import { notificationEndpoint } from '../../shared/http/notification-endpoint';
import { messengerFromEnv } from '../../shared/usecases/message-deps';
import { callOpenApi } from '../../shared/wechat/openapi/client';

export const main = notificationEndpoint('payNotify', 'pay', (config, log) => ({
  ...payNotificationDeps(config, log),
  messages: messengerFromEnv(log, callOpenApi, config),
}));
