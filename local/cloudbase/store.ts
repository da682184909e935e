// Committed state of the database: collections of documents keyed by `_id`, a version per document
// (the store-wide sequence number of its last committed write, used for transaction conflict checks),
// and change notifications. Every method is synchronous, so one operation never interleaves with
// another: that is what serializes concurrent conditional updates on the same document.
import { EventEmitter } from 'node:events';
import type { Doc } from './ejson';
import { collectionAlreadyExist, collectionNotExist, invalidParam } from './errors';

export type { Doc };

export type ChangeEvent =
  | { type: 'insert' | 'update'; collection: string; id: unknown; doc: Doc }
  | { type: 'remove'; collection: string; id: unknown }
  | { type: 'createCollection' | 'dropCollection'; collection: string }
  | { type: 'reset'; collection?: string; dropped: boolean };

/** A committed write: `after === null` removes the document. */
export interface Write {
  id: unknown;
  after: Doc | null;
}

/** Map keys distinguish `1` from `'1'`, as MongoDB does. */
export function idKey(id: unknown): string {
  return typeof id === 'string' ? `s:${id}` : `${typeof id}:${String(id)}`;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$/;

export function checkCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw invalidParam('collectionName is required');
  if (!NAME.test(name)) {
    throw invalidParam(`collection name "${name}" is invalid: use 1-100 letters, digits, "_", "-" or "."`);
  }
  return name;
}

export class Collection {
  readonly docs = new Map<string, Doc>();
  /** Last committed write per document, kept after removal so a transaction still sees the conflict. */
  readonly versions = new Map<string, number>();
  constructor(readonly name: string) {}
}

export interface StoreListener {
  /** Called after a collection's content or existence changed (persistence marks it dirty). */
  dirty(collection: string): void;
  dropped(collection: string): void;
}

export class Store {
  private readonly collections = new Map<string, Collection>();
  private seq = 0;
  readonly events = new EventEmitter();
  listener: StoreListener | undefined;

  constructor() {
    this.events.setMaxListeners(0);
  }

  get sequence(): number {
    return this.seq;
  }

  has(name: string): boolean {
    return this.collections.has(name);
  }

  names(): string[] {
    return [...this.collections.keys()].sort();
  }

  collection(name: string): Collection {
    const coll = this.collections.get(name);
    if (!coll) throw collectionNotExist(name);
    return coll;
  }

  create(name: string): Collection {
    checkCollectionName(name);
    if (this.collections.has(name)) throw collectionAlreadyExist(name);
    const coll = new Collection(name);
    this.collections.set(name, coll);
    this.listener?.dirty(name);
    this.emit({ type: 'createCollection', collection: name });
    return coll;
  }

  /** Loads a collection from storage without notifications. */
  load(name: string, docs: Doc[]): void {
    const coll = new Collection(name);
    for (const doc of docs) coll.docs.set(idKey(doc._id), doc);
    this.collections.set(name, coll);
  }

  get(name: string, id: unknown): Doc | undefined {
    return this.collection(name).docs.get(idKey(id));
  }

  version(name: string, id: unknown): number {
    return this.collections.get(name)?.versions.get(idKey(id)) ?? 0;
  }

  /** Applies writes to one collection atomically (the caller has validated them). */
  commit(name: string, writes: Write[]): void {
    if (writes.length === 0) return;
    const coll = this.collection(name);
    const seq = ++this.seq;
    for (const w of writes) {
      const key = idKey(w.id);
      const existed = coll.docs.has(key);
      coll.versions.set(key, seq);
      if (w.after === null) {
        if (coll.docs.delete(key)) this.emit({ type: 'remove', collection: name, id: w.id });
      } else {
        coll.docs.set(key, w.after);
        this.emit({ type: existed ? 'update' : 'insert', collection: name, id: w.id, doc: w.after });
      }
    }
    this.listener?.dirty(name);
  }

  /** Empties one collection or all of them; with `drop` removes them altogether. */
  reset(name?: string, drop = false): void {
    this.seq++;
    const names = name !== undefined ? [this.collection(name).name] : [...this.collections.keys()];
    for (const n of names) {
      if (drop) {
        this.collections.delete(n);
        this.listener?.dropped(n);
        continue;
      }
      const coll = this.collection(n);
      for (const key of coll.docs.keys()) coll.versions.set(key, this.seq);
      coll.docs.clear();
      this.listener?.dirty(n);
    }
    this.emit({ type: 'reset', collection: name, dropped: drop });
  }

  private emit(event: ChangeEvent): void {
    if (this.events.listenerCount('change') > 0) this.events.emit('change', event);
  }
}
