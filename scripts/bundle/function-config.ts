// The config.json that sits next to a function's index.js: the 云调用 (cloud.openapi) names the
// function may call. CloudBase refuses an unlisted name with -604101, so every function that declares
// the `wechatOpenApi` need (shared/config/declaration.ts) is granted the APIs of the one table in
// shared/wechat/openapi/apis.ts; functions that never call WeChat's server APIs get no file.
import { FUNCTIONS } from '../../shared/config/declaration';
import { OPENAPI_PERMISSIONS } from '../../shared/wechat/openapi';

export interface FunctionConfigJson {
  permissions: { openapi: string[] };
}

export function functionConfig(name: string): FunctionConfigJson | undefined {
  const needs = (FUNCTIONS as Record<string, readonly string[]>)[name];
  if (!needs?.includes('wechatOpenApi')) return undefined;
  return { permissions: { openapi: [...OPENAPI_PERMISSIONS] } };
}
