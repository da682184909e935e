// How a call reaches a cloud function. `cloud`: wx.cloud.callFunction, where WeChat puts the caller's
// identity into the call. `https`: wx.request to the HTTPS API (README: HTTPS API), where the caller
// is the session token sent as `Authorization: Bearer`. Both resolve with the function's result
// envelope (an error envelope too) and reject only when no envelope came back.
import type { CloudPort, RequestSuccess, WxFailure, WxPort } from './wx-port';

export interface Transport {
  /** `context`: the platform names the caller; `token`: the session token does (login needs a fresh code). */
  readonly identity: 'context' | 'token';
  call(name: string, data: Record<string, unknown>): Promise<unknown>;
}

export function cloudTransport(cloud: CloudPort): Transport {
  return {
    identity: 'context',
    async call(name, data) {
      const { result } = await cloud.callFunction({ name, data });
      return result;
    },
  };
}

export interface HttpsTransportOptions {
  /** e.g. `https://<env-id>.service.tcloudbase.com`; the functions are at `<baseUrl>/api/<name>`. */
  baseUrl: string;
  /** The stored session token, if any. */
  token: () => string | undefined;
  /** Per request; the callables time out after 10–15 s on the server. */
  timeoutMs?: number;
}

export const DEFAULT_HTTPS_TIMEOUT_MS = 20_000;

function isEnvelope(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

export function httpsTransport(wx: Pick<WxPort, 'request'>, options: HttpsTransportOptions): Transport {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    identity: 'token',
    call(name, data) {
      const header: Record<string, string> = { 'content-type': 'application/json' };
      // login identifies the caller by its code; every other call by the token.
      const token = name === 'login' ? undefined : options.token();
      if (token) header.authorization = `Bearer ${token}`;
      return new Promise<unknown>((resolve, reject) => {
        wx.request({
          url: `${base}/api/${encodeURIComponent(name)}`,
          method: 'POST',
          data,
          header,
          dataType: 'json',
          timeout: options.timeoutMs ?? DEFAULT_HTTPS_TIMEOUT_MS,
          success: (res: RequestSuccess) => {
            // Error envelopes come with 4xx/5xx statuses and are answers like any other.
            if (isEnvelope(res.data)) return resolve(res.data);
            // Anything else is the platform's (a crash, a timeout, no route): no answer from the function.
            const failure: WxFailure = {
              errMsg: `request:fail the HTTPS API answered ${res.statusCode} without a result envelope (is HTTP_API=on deployed at ${base}?)`,
            };
            reject(failure);
          },
          fail: (failure: WxFailure) => reject(failure),
        });
      });
    },
  };
}
