// WeChat Pay v3's error answer: an HTTP status plus `{code, message, detail?}`.

export interface V3ErrorDetail {
  field?: string;
  value?: unknown;
  issue?: string;
  location?: 'body' | 'query' | 'path' | 'header';
}

export interface V3ErrorBody {
  code: string;
  message: string;
  detail?: V3ErrorDetail;
}

export class V3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: V3ErrorDetail,
  ) {
    super(message);
  }

  body(): V3ErrorBody {
    return this.detail
      ? { code: this.code, message: this.message, detail: this.detail }
      : { code: this.code, message: this.message };
  }
}

export const v3 = {
  param: (field: string, issue: string, value?: unknown, location: V3ErrorDetail['location'] = 'body') =>
    new V3Error(400, 'PARAM_ERROR', `参数错误: ${field} ${issue}`, { field, value, issue, location }),
  invalid: (message: string) => new V3Error(400, 'INVALID_REQUEST', message),
  sign: (message: string) => new V3Error(401, 'SIGN_ERROR', message),
  appidMchid: () => new V3Error(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配'),
  orderNotExist: () => new V3Error(404, 'ORDER_NOT_EXIST', '订单不存在'),
  resourceNotExist: (what: string) => new V3Error(404, 'RESOURCE_NOT_EXISTS', what),
  orderPaid: () => new V3Error(400, 'ORDERPAID', '订单已支付'),
  orderClosed: () => new V3Error(400, 'ORDER_CLOSED', '订单已关闭'),
  notEnough: () => new V3Error(403, 'NOT_ENOUGH', '基本账户余额不足，请充值后重新发起'),
  frequency: () => new V3Error(429, 'FREQUENCY_LIMITED', '频率超限'),
  system: () => new V3Error(500, 'SYSTEM_ERROR', '系统错误'),
  notFound: () => new V3Error(404, 'NOT_FOUND', '请求的资源不存在'),
};

/** v2 business failure (`return_code` SUCCESS, `result_code` FAIL). */
export class V2BusinessError extends Error {
  constructor(
    readonly errCode: string,
    readonly errCodeDes: string,
  ) {
    super(errCodeDes);
  }
}

/** v2 protocol failure (`return_code` FAIL): bad signature, missing parameter, malformed XML. */
export class V2ReturnError extends Error {}
