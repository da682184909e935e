// 云调用: `cloud.openapi.<name>(body)` through wx-server-sdk, which the CloudBase platform answers on
// the function's behalf (no access_token, no secret here). Loaded on first use: the SDK is heavy and
// most invocations never call WeChat.
import { openApiError, unavailable } from './errors';

export const CLOUD_CALL_TIMEOUT_MS = 8_000;

type OpenApiFn = (body: Record<string, unknown>) => Promise<Record<string, unknown>>;

let openapi: unknown;

function sdkOpenApi(): unknown {
  if (!openapi) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: keeps cold starts light
    const cloud = require('wx-server-sdk') as {
      init(o: object): void;
      DYNAMIC_CURRENT_ENV: unknown;
      openapi(o: object): unknown;
    };
    // A deadline below the functions' timeouts, so a hung 云调用 ends as UPSTREAM_UNAVAILABLE
    // (retryable) rather than as the platform killing the invocation.
    cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV, timeout: CLOUD_CALL_TIMEOUT_MS });
    // WeChat's own snake_case in and out, exactly as over HTTPS.
    openapi = cloud.openapi({ convertCase: false });
  }
  return openapi;
}

/** Errors wx-server-sdk reports for the platform itself rather than for WeChat's answer. */
const PLATFORM_UNAVAILABLE = new Set([-501001, -501002, -501003, -501004, -501005, -604100, -604102]);

export async function cloudCall(
  cloudName: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const fn = cloudName
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], sdkOpenApi());
  let result: Record<string, unknown>;
  try {
    result = await (fn as OpenApiFn)(body);
  } catch (err) {
    const e = err as { errCode?: unknown; errMsg?: unknown };
    if (typeof e?.errCode === 'number') {
      if (PLATFORM_UNAVAILABLE.has(e.errCode))
        throw unavailable(cloudName, `CloudBase platform error ${e.errCode}`);
      throw openApiError(cloudName, e.errCode, e.errMsg);
    }
    throw unavailable(cloudName, 'the 云调用 failed without an errCode');
  }
  const { errCode: _code, errMsg: _msg, ...rest } = result;
  return rest;
}
