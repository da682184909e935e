// How the real SDKs reach the emulator without any local branch in function code.
//
// Inside a function: @cloudbase/node-sdk (also under wx-server-sdk) reads its endpoint from
// TCB_CONTEXT_CNFG's URL, the environment id for DYNAMIC_CURRENT_ENV / SYMBOL_CURRENT_ENV from
// TCB_ENV (exported into its context through TCB_CONTEXT_KEYS) and request-signing credentials from
// TENCENTCLOUD_SECRETID/SECRETKEY(/SESSIONTOKEN). TENCENTCLOUD=true stops it from probing the cloud
// metadata service before every request (which can hang for seconds off the cloud). We leave
// TENCENTCLOUD_RUNENV unset: 'SCF' would turn off keep-alive, and wx-server-sdk's 'WX_LOCAL_SCF'
// maps env 'local' to "the default environment".
import tcb from '@cloudbase/node-sdk';
import { ENV_ID } from './protocol';

/** Placeholder credentials: the SDK refuses to sign without some; the emulator does not check them. */
export const LOCAL_SECRET_ID = 'AKIDlocalcloudbaseemulator';
export const LOCAL_SECRET_KEY = 'local-cloudbase-emulator-key';

export function sdkEndpoint(emulatorUrl: string): string {
  return `${emulatorUrl.replace(/\/+$/, '')}/admin`;
}

/** Environment variables a function process needs so that its SDKs talk to the emulator. */
export function functionSdkEnv(emulatorUrl: string): Record<string, string> {
  return {
    TCB_ENV: ENV_ID,
    SCF_NAMESPACE: ENV_ID,
    TCB_CONTEXT_KEYS: 'TCB_ENV,TCB_SEQID,TCB_SOURCE',
    TCB_CONTEXT_CNFG: JSON.stringify({ URL: sdkEndpoint(emulatorUrl) }),
    TCB_SOURCE: 'local',
    TENCENTCLOUD: 'true',
    TENCENTCLOUD_SECRETID: LOCAL_SECRET_ID,
    TENCENTCLOUD_SECRETKEY: LOCAL_SECRET_KEY,
    TENCENTCLOUD_SESSIONTOKEN: 'local',
  };
}

export type LocalDatabase = ReturnType<ReturnType<typeof tcb.init>['database']>;

/**
 * A node-sdk database handle on the emulator, for tests, seeding and the console (in this process).
 * Sets TENCENTCLOUD=true in this process if unset, for the reason above.
 */
export function openLocalDatabase(emulatorUrl: string): LocalDatabase {
  process.env.TENCENTCLOUD ??= 'true';
  const app = tcb.init({
    env: ENV_ID,
    serviceUrl: sdkEndpoint(emulatorUrl),
    secretId: LOCAL_SECRET_ID,
    secretKey: LOCAL_SECRET_KEY,
  });
  return app.database();
}
