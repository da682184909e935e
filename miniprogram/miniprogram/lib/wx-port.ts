// The slice of the `wx` global that the logic modules use. Kept structural and free of the
// `WechatMiniprogram` namespace so that the same modules compile in the mini-program (where the real
// `wx` is checked against it in app.ts) and in Node (where test/miniprogram/wx-adapter.ts implements it).

export interface CallFunctionSuccess {
  errMsg: string;
  /** What the function returned; `unknown` because the client validates the envelope itself. */
  result?: unknown;
  requestID?: string;
}

/** What `wx.cloud.callFunction` and `wx.requestPayment` reject with: `errMsg` is `<api>:fail <detail>`. */
export interface WxFailure {
  errMsg: string;
  errCode?: number;
}

export interface ProductQuery {
  limit(max: number): ProductQuery;
  get(): Promise<{ data: unknown[] }>;
}

export interface DatabasePort {
  collection(name: string): { where(condition: Record<string, unknown>): ProductQuery };
}

export interface CloudPort {
  callFunction(param: { name: string; data: Record<string, unknown> }): Promise<CallFunctionSuccess>;
  database(): DatabasePort;
}

export interface RequestPaymentParam {
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA' | 'MD5' | 'HMAC-SHA256';
  paySign: string;
}

/** What `wx.request` hands its `success` callback (any HTTP status). */
export interface RequestSuccess {
  statusCode: number;
  /** Parsed JSON when the answer was JSON (`dataType: 'json'`), else the text. */
  data: unknown;
  header: Record<string, unknown>;
  errMsg: string;
}

/** The subset of `wx.request`'s options the HTTPS transport uses. */
export interface RequestOption {
  url: string;
  method: 'POST';
  data: Record<string, unknown>;
  header: Record<string, string>;
  dataType: 'json';
  /** Milliseconds. */
  timeout: number;
  success(res: RequestSuccess): void;
  /** Network failures only (`request:fail timeout`, DNS, TLS); HTTP error statuses go to success. */
  fail(failure: WxFailure): void;
}

/** WeChat's confirm-receipt component (确认收货组件): the order by WeChat Pay's ids. */
export interface BusinessViewParam {
  businessType: 'weappOrderConfirm';
  extraData: { transaction_id?: string; merchant_id?: string; merchant_trade_no?: string };
}

/** What the component answers when the user leaves it: `extraData.status` success, fail or cancel. */
export interface BusinessViewResult {
  errMsg: string;
  extraData?: { status?: string; [key: string]: unknown };
}

/** `wx.requestSubscribeMessage`'s success: errMsg plus `<tmplId>: 'accept' | 'reject' | 'ban' | 'filter'`. */
export type SubscribeMessageResult = { errMsg: string } & Record<string, string>;

/** The options of `wx.requestSubscribeMessage` the checkout uses (callback style). */
export interface SubscribeMessageOption {
  /** At most 3 one-time templates per call. */
  tmplIds: string[];
  success?(res: SubscribeMessageResult): void;
  /** e.g. errCode 20004 (the user turned messages off), 20001 (an unknown template id). */
  fail?(failure: WxFailure): void;
}

export interface WxPort {
  cloud: CloudPort;
  /** `wx.request`: callback style (it returns a RequestTask, not a promise). */
  request(option: RequestOption): unknown;
  login(): Promise<{ code: string; errMsg: string }>;
  /** Resolves with `requestPayment:ok`; rejects with `requestPayment:fail cancel` or another failure. */
  requestPayment(param: RequestPaymentParam): Promise<{ errMsg: string }>;
  /**
   * `wx.requestSubscribeMessage`: WeChat's dialog asking the user to accept one-time messages. It must
   * be called inside the tap handler (before any await), or WeChat refuses it.
   */
  requestSubscribeMessage(option: SubscribeMessageOption): unknown;
  /** `wx.openBusinessView`: opens a WeChat business component such as 确认收货. */
  openBusinessView(param: BusinessViewParam): Promise<BusinessViewResult>;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
}

/** Reads `errMsg` from whatever a wx API rejected with (an object, an Error, or anything else). */
export function failureMessage(reason: unknown): string {
  if (
    reason &&
    typeof reason === 'object' &&
    'errMsg' in reason &&
    typeof (reason as WxFailure).errMsg === 'string'
  ) {
    return (reason as WxFailure).errMsg;
  }
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
