// The WeChat server APIs the kit calls, each reachable two ways: as 云调用 (`cloud.openapi.<cloud>`
// inside a CloudBase function, no access_token) and over HTTPS (`POST <WECHAT_API_BASE_URL><path>
// ?access_token=`). The body is WeChat's snake_case JSON in both (wx-server-sdk's case conversion is
// turned off), so one table row is all a new API needs.
// A 云调用 name must also be listed in the function's `permissions.openapi` on CloudBase.

export const OPEN_APIS = {
  uploadShippingInfo: {
    cloud: 'wxa.sec.order.uploadShippingInfo',
    path: '/wxa/sec/order/upload_shipping_info',
  },
  getShippingOrder: { cloud: 'wxa.sec.order.getOrder', path: '/wxa/sec/order/get_order' },
  getShippingOrderList: { cloud: 'wxa.sec.order.getOrderList', path: '/wxa/sec/order/get_order_list' },
  isTradeManaged: { cloud: 'wxa.sec.order.isTradeManaged', path: '/wxa/sec/order/is_trade_managed' },
  notifyConfirmReceive: {
    cloud: 'wxa.sec.order.notifyConfirmReceive',
    path: '/wxa/sec/order/notify_confirm_receive',
  },
  getPhoneNumber: { cloud: 'phonenumber.getPhoneNumber', path: '/wxa/business/getuserphonenumber' },
  sendSubscribeMessage: { cloud: 'subscribeMessage.send', path: '/cgi-bin/message/subscribe/send' },
} as const satisfies Record<string, OpenApiRoute>;

export interface OpenApiRoute {
  cloud: string;
  path: string;
}

export type OpenApiName = keyof typeof OPEN_APIS;

/**
 * The 云调用 names a function that uses this layer must be granted (CloudBase: the function's
 * config.json `{"permissions": {"openapi": [...]}}` next to index.js).
 */
export const OPENAPI_PERMISSIONS: readonly string[] = Object.values(OPEN_APIS).map((a) => a.cloud);
