// Your CloudBase environment id (云开发控制台 → 设置 → 环境 ID), e.g. 'pay-demo-1a2b3c'.
// Left undefined, wx.cloud.init() uses the default environment of the mini-program, which
// is convenient while developing; pin the id before uploading a release.
export const CLOUD_ENV: string | undefined = undefined;

// How the app calls the functions. 'cloud' (the default): wx.cloud.callFunction, where WeChat vouches
// for the user. 'https': wx.request to the HTTPS API (README: HTTPS API; deploy with HTTP_API=on),
// where the session token from login is sent as `Authorization: Bearer`. With 'https', set
// API_BASE_URL to `https://<env-id>.service.tcloudbase.com` (or your custom domain) and add that
// domain to 开发管理 → 开发设置 → 服务器域名 → request合法域名.
export const API_TRANSPORT: 'cloud' | 'https' = 'cloud';
export const API_BASE_URL = '';

// Your WeChat Pay merchant id (商户号), passed to WeChat's confirm-receipt component (确认收货) with
// the order's ids. Optional there: the transaction id alone identifies the order.
export const MERCHANT_ID = '';

// Subscription messages (订阅消息, README: Subscription messages): the one-time templates checkout
// asks the user to accept before paying (at most 3), in this order: paid, refunded, shipped. They must
// be the templateIds of the server's WX_SUBSCRIBE_TEMPLATES (createPayment refuses other ids). They
// are here, not fetched, because wx.requestSubscribeMessage must run inside the tap on "pay", before
// any network call. These are the local simulator's three templates (the local stack's default);
// replace them with yours from 微信公众平台 → 订阅消息 → 我的模板, or set [] to never ask.
export const SUBSCRIBE_TEMPLATE_IDS: readonly string[] = [
  'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg',
  'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4',
  'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E',
];
