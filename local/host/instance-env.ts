// What a function instance's process sees, as on the platform: a few process basics, the platform's
// own variables, placeholder credentials, the function's configured variables and, when there is a
// database, the emulator's SDK settings — nothing else from the host's environment. Pure.
import { functionSdkEnv } from '../cloudbase/sdk-env';

export const REGION = 'ap-shanghai';

const PLACEHOLDER_SECRETS = {
  // Present so the SDKs take credentials from the environment instead of probing the metadata service.
  TENCENTCLOUD_SECRETID: 'local-placeholder-secret-id',
  TENCENTCLOUD_SECRETKEY: 'local-placeholder-secret-key',
  TENCENTCLOUD_SESSIONTOKEN: 'local-placeholder-session-token',
};

const FORWARDED_PROCESS_ENV = ['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'TZ', 'SYSTEMROOT'];

export function instanceEnv(opts: {
  functionName: string;
  envId: string;
  configured: Record<string, string>;
  emulatorUrl: string | undefined;
  processEnv?: NodeJS.ProcessEnv;
}): Record<string, string> {
  const processEnv = opts.processEnv ?? process.env;
  const base: Record<string, string> = {};
  for (const k of FORWARDED_PROCESS_ENV) if (processEnv[k] !== undefined) base[k] = processEnv[k];
  return {
    ...base,
    TENCENTCLOUD: 'true',
    TENCENTCLOUD_REGION: REGION,
    SCF_NAMESPACE: opts.envId,
    TCB_ENV: opts.envId,
    SCF_FUNCTIONNAME: opts.functionName,
    SCF_FUNCTIONVERSION: '$LATEST',
    ...PLACEHOLDER_SECRETS,
    ...opts.configured,
    ...(opts.emulatorUrl ? functionSdkEnv(opts.emulatorUrl) : {}),
  };
}

export interface CallIdentity {
  openid?: string;
  appid?: string;
  unionid?: string;
  clientIp?: string;
}

/** The caller's identity as the variables `cloud.getWXContext()` reads, for one invocation. */
export function identityEnv(id: CallIdentity): Record<string, string> {
  const out: Record<string, string> = {};
  if (id.openid) out.WX_OPENID = id.openid;
  if (id.appid) out.WX_APPID = id.appid;
  if (id.unionid) out.WX_UNIONID = id.unionid;
  if (id.openid && id.clientIp) out.WX_CLIENTIP = id.clientIp;
  return out;
}
