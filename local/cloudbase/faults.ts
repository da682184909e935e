// Fault injection for the next N operations of a kind: fail with a platform error, delay, or both; or
// apply the operation and lose its answer (the SDK sees a network failure although the write happened),
// which is what a dropped connection after the database committed looks like to a function.
import { invalidParam, PlatformError } from './errors';

/** Short kinds accepted by POST /emu/faults besides full action names such as 'database.modifyDocument'. */
export const FAULT_KINDS: Record<string, string[]> = {
  insert: ['database.insertDocument'],
  get: ['database.getDocument', 'database.getInTransaction', 'database.aggregateDocuments'],
  count: ['database.calculateDocument'],
  update: ['database.modifyDocument', 'database.modifyAndReturnDoc', 'database.updateDocInTransaction'],
  remove: ['database.removeDocument', 'database.deleteDocInTransaction'],
  createCollection: ['database.addCollection'],
  transaction: ['database.startTransaction', 'database.commitTransaction', 'database.abortTransaction'],
};

/** Body of POST /emu/faults. */
export interface FaultSpec {
  action: string;
  collection?: string;
  count?: number;
  error?: { code: string; message?: string };
  delayMs?: number;
  /** Apply the operation, then drop the connection instead of answering. */
  lostResponse?: boolean;
}

export interface Fault extends Required<Pick<FaultSpec, 'action'>> {
  id: number;
  collection?: string;
  remaining: number;
  error?: { code: string; message: string };
  delayMs?: number;
  lostResponse?: boolean;
}

export interface FaultHit {
  delayMs: number;
  error?: PlatformError;
  /** The operation runs; its answer must never reach the caller. */
  lostResponse: boolean;
}

/**
 * Whether a fault applies to an action. A lost answer is only interesting for the commit of a
 * transaction (the moment its writes become real), so `transaction` with `lostResponse` means the commit.
 */
function matches(f: Fault, action: string): boolean {
  if (f.action === '*' || f.action === action) return true;
  if (f.lostResponse && f.action === 'transaction') return action === 'database.commitTransaction';
  return FAULT_KINDS[f.action]?.includes(action) ?? false;
}

export class Faults {
  private list: Fault[] = [];
  private nextId = 1;

  add(spec: unknown): Fault {
    const s = spec as Partial<FaultSpec> | null;
    if (!s || typeof s !== 'object')
      throw invalidParam(
        'fault must be an object {action, collection?, count?, error?, delayMs?, lostResponse?}',
      );
    if (
      typeof s.action !== 'string' ||
      !(s.action === '*' || s.action in FAULT_KINDS || s.action.startsWith('database.'))
    ) {
      throw invalidParam(
        `fault action must be '*', one of ${Object.keys(FAULT_KINDS).join(', ')}, or a full action name like 'database.modifyDocument'`,
      );
    }
    const count = s.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw invalidParam('fault count must be a positive integer');
    if (s.delayMs !== undefined && (typeof s.delayMs !== 'number' || s.delayMs < 0 || s.delayMs > 120_000)) {
      throw invalidParam('fault delayMs must be a number between 0 and 120000');
    }
    if (s.error !== undefined && (typeof s.error !== 'object' || typeof s.error?.code !== 'string')) {
      throw invalidParam('fault error must be {code, message?}');
    }
    if (s.collection !== undefined && typeof s.collection !== 'string')
      throw invalidParam('fault collection must be a string');
    if (s.lostResponse !== undefined && typeof s.lostResponse !== 'boolean')
      throw invalidParam('fault lostResponse must be a boolean');
    const lostResponse = s.lostResponse === true;
    if (lostResponse && s.error !== undefined) {
      throw invalidParam(
        'a fault cannot both fail the operation (error) and lose its answer (lostResponse): an error means nothing was applied; send one of them',
      );
    }
    // Without an explicit error a pure delay (or a lost answer) is meant only when delayMs (lostResponse) is given.
    const error = lostResponse
      ? undefined
      : s.error !== undefined
        ? {
            code: s.error.code,
            message: s.error.message ?? `fault injected by the local emulator (${s.error.code})`,
          }
        : s.delayMs === undefined
          ? { code: 'DATABASE_REQUEST_FAILED', message: 'fault injected by the local emulator' }
          : undefined;
    const fault: Fault = {
      id: this.nextId++,
      action: s.action,
      collection: s.collection,
      remaining: count,
      error,
      delayMs: s.delayMs,
      ...(lostResponse ? { lostResponse } : {}),
    };
    this.list.push(fault);
    return fault;
  }

  clear(): void {
    this.list = [];
  }

  active(): Fault[] {
    return this.list.map((f) => ({ ...f }));
  }

  /**
   * Consumes one matching fault for this operation, if any. `collections`: the collection the
   * operation names, or for a commit every collection the transaction wrote.
   */
  take(action: string, collections: readonly string[]): FaultHit | undefined {
    if (this.list.length === 0) return undefined;
    const i = this.list.findIndex(
      (f) => matches(f, action) && (f.collection === undefined || collections.includes(f.collection)),
    );
    if (i < 0) return undefined;
    const f = this.list[i];
    if (--f.remaining <= 0) this.list.splice(i, 1);
    return {
      delayMs: f.delayMs ?? 0,
      error: f.error ? new PlatformError(f.error.code, f.error.message) : undefined,
      lostResponse: f.lostResponse === true,
    };
  }
}
