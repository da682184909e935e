// refundNotify: HTTP trigger /refund/notify (cloudbaserc.json httpAccess). Answers WeChat Pay directly;
// a successful refund it settles sends the `refunded` subscription message when configured.
import { notificationEndpoint } from '../../shared/http/notification-endpoint';
import { refundNotificationDeps } from '../../shared/http/paying-deps';

export const main = notificationEndpoint('refundNotify', 'refund', refundNotificationDeps);
