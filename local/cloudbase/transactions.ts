// Doc-level transactions as the platform offers them: a transaction's writes live in its own
// overlay (read-your-writes; invisible to everyone else) and lock the documents they touch. A write
// to a document that another open transaction has written, or that changed after this transaction
// started, fails with DATABASE_TRANSACTION_CONFLICT and aborts the transaction (as MongoDB does), so
// the SDK's runTransaction can retry. Commit re-checks and applies all writes at once; abort drops them.
import { randomBytes } from 'node:crypto';
import { PlatformError, transactionConflict } from './errors';
import type { DocView, ViewWrite } from './operations';
import { idKey, type Store } from './store';

type State = 'active' | 'committed' | 'aborted';

export class Transaction {
  /** collection → idKey → staged write */
  readonly staged = new Map<string, Map<string, ViewWrite>>();
  state: State = 'active';
  abortReason: PlatformError | undefined;
  lastUsed = Date.now();
  constructor(
    readonly id: string,
    readonly startSeq: number,
  ) {}
}

export interface TransactionOptions {
  /** An open transaction idle this long is aborted, releasing its locks. */
  idleTimeoutMs?: number;
}

export class TransactionManager {
  private readonly txns = new Map<string, Transaction>();
  private readonly locks = new Map<string, Transaction>();
  private readonly idleTimeoutMs: number;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    opts: TransactionOptions = {},
  ) {
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.sweeper = setInterval(() => this.sweep(), Math.min(5_000, this.idleTimeoutMs)).unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const txn of this.txns.values()) if (txn.state === 'active') this.release(txn, 'aborted');
    this.txns.clear();
  }

  start(): Transaction {
    const txn = new Transaction(randomBytes(12).toString('hex'), this.store.sequence);
    this.txns.set(txn.id, txn);
    return txn;
  }

  /** The open transaction with this id, or a platform error that says why it cannot be used. */
  active(id: unknown): Transaction {
    const txn = typeof id === 'string' ? this.txns.get(id) : undefined;
    if (!txn) {
      throw new PlatformError(
        'DATABASE_TRANSACTION_FAIL',
        `transaction ${JSON.stringify(id)} does not exist or has expired; start a new one`,
      );
    }
    if (txn.state === 'aborted') {
      throw (
        txn.abortReason ??
        new PlatformError(
          'DATABASE_TRANSACTION_FAIL',
          `transaction ${txn.id} was rolled back; start a new one`,
        )
      );
    }
    if (txn.state === 'committed') {
      throw new PlatformError('DATABASE_TRANSACTION_FAIL', `transaction ${txn.id} is already committed`);
    }
    txn.lastUsed = Date.now();
    return txn;
  }

  view(txn: Transaction): DocView {
    const store = this.store;
    return {
      scan: (collection) => {
        const committed = store.collection(collection).docs;
        const staged = txn.staged.get(collection);
        if (!staged) return committed.values();
        return (function* () {
          for (const [key, doc] of committed) {
            const w = staged.get(key);
            if (!w) yield doc;
            else if (w.after) yield w.after;
          }
          for (const [key, w] of staged) if (!committed.has(key) && w.after) yield w.after;
        })();
      },
      get: (collection, id) => {
        const w = txn.staged.get(collection)?.get(idKey(id));
        if (w) return w.after ?? undefined;
        return store.get(collection, id);
      },
      write: (collection, writes) => this.stage(txn, collection, writes),
    };
  }

  private conflictOf(txn: Transaction, collection: string, id: unknown): PlatformError | undefined {
    const holder = this.locks.get(`${collection}\0${idKey(id)}`);
    if ((holder && holder !== txn) || this.store.version(collection, id) > txn.startSeq) {
      return transactionConflict(collection, id);
    }
    return undefined;
  }

  private stage(txn: Transaction, collection: string, writes: ViewWrite[]): void {
    for (const w of writes) {
      const conflict = this.conflictOf(txn, collection, w.id);
      if (conflict) {
        this.abort(txn, conflict);
        throw conflict;
      }
    }
    let staged = txn.staged.get(collection);
    if (!staged) txn.staged.set(collection, (staged = new Map<string, ViewWrite>()));
    for (const w of writes) {
      const key = idKey(w.id);
      staged.set(key, w);
      this.locks.set(`${collection}\0${key}`, txn);
    }
  }

  commit(txn: Transaction): void {
    for (const [collection, staged] of txn.staged) {
      for (const w of staged.values()) {
        const conflict = this.store.has(collection)
          ? this.conflictOf(txn, collection, w.id)
          : new PlatformError(
              'DATABASE_TRANSACTION_FAIL',
              `collection "${collection}" was dropped during the transaction`,
            );
        if (conflict) {
          this.abort(txn, conflict);
          throw conflict;
        }
      }
    }
    for (const [collection, staged] of txn.staged) {
      this.store.commit(
        collection,
        [...staged.values()].map((w) => ({ id: w.id, after: w.after })),
      );
    }
    this.release(txn, 'committed');
  }

  abort(txn: Transaction, reason?: PlatformError): void {
    if (txn.state !== 'active') return;
    txn.abortReason = reason;
    this.release(txn, 'aborted');
  }

  /** Aborts every open transaction (used by reset). */
  abortAll(): void {
    for (const txn of this.txns.values()) this.abort(txn);
  }

  private release(txn: Transaction, state: State): void {
    txn.state = state;
    for (const [collection, staged] of txn.staged) {
      for (const key of staged.keys()) {
        const lockKey = `${collection}\0${key}`;
        if (this.locks.get(lockKey) === txn) this.locks.delete(lockKey);
      }
    }
    txn.staged.clear();
    txn.lastUsed = Date.now();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, txn] of this.txns) {
      if (now - txn.lastUsed < this.idleTimeoutMs) continue;
      if (txn.state === 'active') {
        this.abort(
          txn,
          new PlatformError(
            'DATABASE_TRANSACTION_FAIL',
            `transaction ${id} expired after ${this.idleTimeoutMs} ms without activity`,
          ),
        );
      } else {
        this.txns.delete(id);
      }
    }
  }
}
