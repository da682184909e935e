// The mini-program's identity and the WeChat API login calls (jscode2session).
import type { EnvReader } from './env-reader';
import { Secret } from './secret';

export interface WechatApiConfig {
  appid: string;
  appSecret: Secret;
  /** Without trailing slash. */
  baseUrl: string;
}

export function readAppid(env: EnvReader): string {
  return env.matching('WX_APPID');
}

export function readWechatApi(env: EnvReader, appid: string): WechatApiConfig {
  return {
    appid,
    appSecret: new Secret(env.matching('WX_APPSECRET')),
    baseUrl: env.url('WECHAT_API_BASE_URL'),
  };
}
