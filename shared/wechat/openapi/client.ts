// callOpenApi(name, body): one WeChat server API, by 云调用 or over HTTPS with the shared
// stable_token, with WeChat's errcodes turned into our errors. A token WeChat refuses (40001,
// 42001) is replaced once and the call retried once.
import { OPEN_APIS, type OpenApiName } from './apis';
import { accessTokenSource, type AccessTokenSource } from './access-token';
import { cloudCall } from './cloud-call';
import { readOpenApiConfig, type OpenApiConfig } from './config';
import { isTokenErrcode, openApiError } from './errors';
import { httpsCall } from './https-call';
import { stableTokenFetcher } from './stable-token';
import { databaseTokenStore, type TokenStore } from './token-store';

export type OpenApiBody = Record<string, unknown>;
export type CallOpenApi = (name: OpenApiName, body: OpenApiBody) => Promise<OpenApiBody>;

export interface OpenApiClientOptions {
  config?: OpenApiConfig;
  /** https mode: where the token is shared (default: the `wechatTokens` collection). */
  store?: TokenStore;
  /** https mode: per-request deadline (default 8 s). */
  timeoutMs?: number;
}

export function createOpenApiClient(opts: OpenApiClientOptions = {}): CallOpenApi {
  let config = opts.config;
  let tokens: AccessTokenSource | undefined;
  return async (name, body) => {
    config ??= readOpenApiConfig();
    const route = OPEN_APIS[name];
    if (config.mode === 'cloud') return cloudCall(route.cloud, body);
    tokens ??= accessTokenSource({
      appid: config.appid,
      store: opts.store ?? databaseTokenStore(),
      fetch: stableTokenFetcher(config),
    });
    let token = await tokens.get();
    for (let attempt = 0; ; attempt++) {
      const answer = await httpsCall(config.baseUrl, route.path, token, body, opts.timeoutMs);
      if (answer.errcode === 0) return answer.body;
      if (isTokenErrcode(answer.errcode) && attempt === 0) {
        token = await tokens.get(token);
        continue;
      }
      throw openApiError(name, answer.errcode, answer.errmsg);
    }
  };
}

let defaultClient: CallOpenApi | undefined;

/** The function instance's client, configured from its environment on first use. */
export const callOpenApi: CallOpenApi = (name, body) => (defaultClient ??= createOpenApiClient())(name, body);
