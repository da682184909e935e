// payNotify: HTTP trigger /pay/notify (cloudbaserc.json httpAccess). Answers WeChat Pay directly; a
// payment it applies to virtual goods has their shipping uploaded in the same invocation.
import { payNotificationDeps } from '../../shared/http/paying-deps';
import { notificationEndpoint } from '../../shared/http/notification-endpoint';

export const main = notificationEndpoint('payNotify', 'pay', payNotificationDeps);
