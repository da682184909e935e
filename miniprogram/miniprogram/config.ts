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
