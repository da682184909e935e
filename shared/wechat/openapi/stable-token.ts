// `POST /cgi-bin/stable_token`: appid + secret → access_token. The secret travels only in the body
// of this request; nothing derived from the exchange (axios errors carry the config) leaves here.
import { loadAxios } from '../../http/lazy-axios';
import type { OpenApiConfig } from './config';
import { openApiError, unavailable } from './errors';

export interface FreshToken {
  accessToken: string;
  expiresInS: number;
}

export type FetchStableToken = (forceRefresh: boolean) => Promise<FreshToken>;

export function stableTokenFetcher(config: OpenApiConfig, timeoutMs = 5_000): FetchStableToken {
  return async (forceRefresh) => {
    if (!config.appSecret) throw new Error('stable_token needs the https-mode configuration');
    let status: number;
    let data: unknown;
    try {
      const res = await loadAxios().post<string>(
        `${config.baseUrl}/cgi-bin/stable_token`,
        JSON.stringify({
          grant_type: 'client_credential',
          appid: config.appid,
          secret: config.appSecret.reveal(),
          force_refresh: forceRefresh,
        }),
        {
          headers: { 'content-type': 'application/json' },
          timeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
          responseType: 'text',
          transformResponse: (d: unknown) => d,
          validateStatus: () => true,
          maxContentLength: 64 * 1024,
          maxRedirects: 0,
          proxy: false,
        },
      );
      status = res.status;
      data = res.data;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw unavailable('stable_token', typeof code === 'string' ? code : 'network error');
    }
    if (status !== 200) throw unavailable('stable_token', `HTTP ${status}`);
    let body: { access_token?: unknown; expires_in?: unknown; errcode?: unknown; errmsg?: unknown };
    try {
      body = JSON.parse(String(data)) as typeof body;
    } catch {
      throw unavailable('stable_token', 'the answer is not JSON');
    }
    if (typeof body.errcode === 'number' && body.errcode !== 0)
      throw openApiError('stable_token', body.errcode, body.errmsg);
    if (typeof body.access_token !== 'string' || !body.access_token || typeof body.expires_in !== 'number')
      throw unavailable('stable_token', 'the answer has no access_token');
    return { accessToken: body.access_token, expiresInS: body.expires_in };
  };
}
