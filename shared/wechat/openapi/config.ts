// The variables of the WeChat server-API layer, read on first use (never at import). Folded into
// shared/config by the lead; until then this is their one accessor.
//   WECHAT_OPENAPI_MODE   `cloud` (云调用 through wx-server-sdk) or `https` (stable_token);
//                         default `cloud` inside CloudBase, `https` elsewhere
//   WECHAT_API_BASE_URL   default https://api.weixin.qq.com (https mode)
//   WX_APPID, WX_APPSECRET required in https mode only
import { ConfigError } from '../../config/errors';
import { Secret } from '../../config/secret';

export type OpenApiMode = 'cloud' | 'https';

export interface OpenApiConfig {
  mode: OpenApiMode;
  baseUrl: string;
  appid: string;
  /** https mode only. */
  appSecret?: Secret;
}

/** CloudBase sets these in every function instance (locally the host does too). */
function insideCloudBase(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.SCF_NAMESPACE || env.TCB_ENV || env.TCB_CONTEXT_CNFG);
}

export function readOpenApiConfig(env: NodeJS.ProcessEnv = process.env): OpenApiConfig {
  const rawMode = env.WECHAT_OPENAPI_MODE?.trim();
  if (rawMode && rawMode !== 'cloud' && rawMode !== 'https')
    throw new ConfigError(
      'WECHAT_OPENAPI_MODE',
      'WECHAT_OPENAPI_MODE must be "cloud" (云调用, inside CloudBase) or "https" (stable_token with WX_APPSECRET); unset picks cloud inside CloudBase',
    );
  const mode: OpenApiMode =
    (rawMode as OpenApiMode | undefined) || (insideCloudBase(env) ? 'cloud' : 'https');
  const baseUrl = (env.WECHAT_API_BASE_URL?.trim() || 'https://api.weixin.qq.com').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+/.test(baseUrl))
    throw new ConfigError(
      'WECHAT_API_BASE_URL',
      'WECHAT_API_BASE_URL must be an http(s) URL such as https://api.weixin.qq.com',
    );
  const appid = env.WX_APPID?.trim() ?? '';
  if (mode === 'cloud') return { mode, baseUrl, appid };
  if (!/^wx[0-9a-f]{16}$/i.test(appid))
    throw new ConfigError(
      'WX_APPID',
      "WX_APPID must be the mini-program's AppID (wx + 16 hex) for WECHAT_OPENAPI_MODE=https; copy it from 微信公众平台 → 开发管理 → 开发设置",
    );
  const secret = env.WX_APPSECRET?.trim() ?? '';
  if (!/^[0-9a-f]{32}$/i.test(secret))
    throw new ConfigError(
      'WX_APPSECRET',
      'WX_APPSECRET (32 hex) is required for WECHAT_OPENAPI_MODE=https; set it, or use 云调用 (WECHAT_OPENAPI_MODE=cloud) inside CloudBase, which needs no secret',
    );
  return { mode, baseUrl, appid, appSecret: new Secret(secret) };
}
