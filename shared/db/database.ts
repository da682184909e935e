// The one database handle of a function instance, created on first use (no I/O at import). The same
// code runs in the cloud and against the local emulator: @cloudbase/node-sdk finds its environment
// and endpoint from the function's environment (SCF_NAMESPACE/TCB_ENV, TCB_CONTEXT_CNFG), which the
// platform sets in the cloud and `functionSdkEnv` sets locally.
import type { Db } from '@cloudbase/database';
import { loadCloudbaseSdk } from '../cloudbase-sdk';
import { StorageError } from './errors';

export type Database = Db;

let database: Database | undefined;

export function getDatabase(): Database {
  if (!database) {
    const tcb = loadCloudbaseSdk();
    database = tcb.init({ env: tcb.SYMBOL_CURRENT_ENV }).database();
  }
  return database;
}

interface SdkResult {
  code?: unknown;
  message?: unknown;
}

/**
 * Runs one SDK call and normalises both ways the SDK reports failure (a thrown TcbError, or a
 * resolved object carrying `code`) into StorageError.
 */
export async function run<T>(operation: string, call: () => Promise<T>): Promise<T> {
  let res: T;
  try {
    res = await call();
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    throw new StorageError(
      operation,
      typeof e?.code === 'string' && e.code ? e.code : 'REQUEST_FAILED',
      String(e?.message ?? err),
    );
  }
  const r = res as SdkResult | undefined;
  if (r && typeof r === 'object' && typeof r.code === 'string' && r.code) {
    throw new StorageError(operation, r.code, typeof r.message === 'string' ? r.message : '');
  }
  return res;
}
