// refundNotify: HTTP trigger /refund/notify (cloudbaserc.json httpAccess). Answers WeChat Pay directly;
// a successful refund it settles sends its `refunded` subscription message when configured.
import { notificationDeps } from '../../shared/http/deps';
import { notificationEndpoint } from '../../shared/http/notification-endpoint';
import { messengerFromEnv } from '../../shared/usecases/message-deps';
import { callOpenApi } from '../../shared/wechat/openapi/client';

export const main = notificationEndpoint('refundNotify', 'refund', (config, log) => ({
  ...notificationDeps(config, log),
  messages: messengerFromEnv(log, callOpenApi, config),
}));
