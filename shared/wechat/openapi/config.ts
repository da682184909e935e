// How this instance reaches WeChat's server APIs, read on first use (never at import). The variables
// and their rules are declared once in shared/config/declaration.ts; this only picks the mode:
//   WECHAT_OPENAPI_MODE   `cloud` (云调用 through wx-server-sdk) or `https` (stable_token);
//                         unset: `cloud` inside CloudBase, `https` elsewhere
//   https mode needs WX_APPID and WX_APPSECRET, and reads WECHAT_API_BASE_URL (the `wechatApi` section).
import { createConfig, getConfig, type AppConfig } from '../../config/config';
import type { Secret } from '../../config/secret';

export type OpenApiMode = 'cloud' | 'https';

export interface OpenApiConfig {
  mode: OpenApiMode;
  /** https mode only (云调用 needs neither an endpoint nor the app's credentials). */
  baseUrl: string;
  appid: string;
  appSecret?: Secret;
}

/** CloudBase sets these in every function instance (locally the host does too). */
function insideCloudBase(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.SCF_NAMESPACE || env.TCB_ENV || env.TCB_CONTEXT_CNFG);
}

export function readOpenApiConfig(env: NodeJS.ProcessEnv = process.env): OpenApiConfig {
  const config: AppConfig = env === process.env ? getConfig() : createConfig(env);
  const mode: OpenApiMode = env.WECHAT_OPENAPI_MODE?.trim()
    ? config.choice<OpenApiMode>('WECHAT_OPENAPI_MODE')
    : insideCloudBase(env)
      ? 'cloud'
      : 'https';
  if (mode === 'cloud') return { mode, baseUrl: '', appid: '' };
  const { appid, appSecret, baseUrl } = config.wechatApi();
  return { mode, baseUrl, appid, appSecret };
}
