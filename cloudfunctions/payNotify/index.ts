// payNotify: HTTP trigger /pay/notify (cloudbaserc.json httpAccess). Answers WeChat Pay directly.
import { notificationEndpoint } from '../../shared/http/notification-endpoint';

export const main = notificationEndpoint('payNotify', 'pay');
