// `POST /cgi-bin/stable_token`: appid + secret → access_token. The secret travels only in the body
// of this request; nothing derived from the exchange (axios errors carry the config) leaves here.
import type { OpenApiConfig } from './config';
import { openApiError, unavailable } from './errors';
import { postJson } from './post-json';

export interface FreshToken {
  accessToken: string;
  expiresInS: number;
}

export type FetchStableToken = (forceRefresh: boolean) => Promise<FreshToken>;

export function stableTokenFetcher(config: OpenApiConfig, timeoutMs = 5_000): FetchStableToken {
  return async (forceRefresh) => {
    if (!config.appSecret) throw new Error('stable_token needs the https-mode configuration');
    const body = (await postJson(
      `${config.baseUrl}/cgi-bin/stable_token`,
      {
        grant_type: 'client_credential',
        appid: config.appid,
        secret: config.appSecret.reveal(),
        force_refresh: forceRefresh,
      },
      { what: 'stable_token', timeoutMs, maxBytes: 64 * 1024 },
    )) as { access_token?: unknown; expires_in?: unknown; errcode?: unknown; errmsg?: unknown };
    if (typeof body.errcode === 'number' && body.errcode !== 0)
      throw openApiError('stable_token', body.errcode, body.errmsg);
    if (typeof body.access_token !== 'string' || !body.access_token || typeof body.expires_in !== 'number')
      throw unavailable('stable_token', 'the answer has no access_token');
    return { accessToken: body.access_token, expiresInS: body.expires_in };
  };
}
