// File-backed storage: one `<collection>.json` per collection in the data directory, rewritten
// atomically (temp file, fsync, rename, fsync of the directory) so a crash at any instant leaves
// either the previous or the new content. Writes are coalesced off the request path: a change marks
// the collection dirty and a flush runs at most every `flushDelayMs` — or, for big collections, at
// most every 5× the time the last serialization took, so persistence never takes more than about a
// sixth of the event loop. Acknowledged writes younger than that window can be lost on kill -9,
// never corrupted.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EJSON } from 'bson';
import { encodeEjson, reviveStored, type Doc } from './ejson';
import type { Store, StoreListener } from './store';

const SUFFIX = '.json';
const FORMAT = 'wxcloud-pay/cloudbase-collection@1';

interface CollectionFile {
  format: typeof FORMAT;
  collection: string;
  documents: Doc[];
}

/** Reads every collection file of `dir` into the store; leftover temp files of a crash are removed. */
export function loadDirectory(dir: string, store: Store): void {
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(dir)) {
    if (entry.endsWith('.tmp')) {
      rmSync(join(dir, entry), { force: true });
      continue;
    }
    if (!entry.endsWith(SUFFIX)) continue;
    const path = join(dir, entry);
    let file: CollectionFile;
    try {
      file = EJSON.parse(readFileSync(path, 'utf8'), { relaxed: true }) as CollectionFile;
    } catch (err) {
      throw new Error(
        `cannot read database file ${path}: ${(err as Error).message}; move it away to start with an empty collection`,
      );
    }
    if (file?.format !== FORMAT || typeof file.collection !== 'string' || !Array.isArray(file.documents)) {
      continue; // not ours
    }
    store.load(
      file.collection,
      file.documents.map((d) => reviveStored(d) as Doc),
    );
  }
}

/** One collection file, in relaxed EJSON. */
export function serializeCollection(collection: string, documents: Doc[]): string {
  const file: CollectionFile = { format: FORMAT, collection, documents };
  return encodeEjson(file);
}

export class DirectoryPersistence implements StoreListener {
  private readonly pending = new Set<string>();
  private readonly removed = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private tmpCounter = 0;
  private lastError: Error | undefined;
  private nextDelayMs: number;

  constructor(
    private readonly dir: string,
    private readonly store: Store,
    private readonly flushDelayMs = 25,
  ) {
    this.nextDelayMs = flushDelayMs;
  }

  dirty(collection: string): void {
    this.removed.delete(collection);
    this.pending.add(collection);
    this.schedule();
  }

  dropped(collection: string): void {
    this.pending.delete(collection);
    this.removed.add(collection);
    this.schedule();
  }

  /** The last write failure, cleared by the next successful flush. */
  get error(): Error | undefined {
    return this.lastError;
  }

  private schedule(): void {
    if (this.timer || this.flushing) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.nextDelayMs);
  }

  /** Writes every dirty collection now; resolves when they are on disk. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0 && this.removed.size === 0) return;
    this.flushing = this.writeOnce().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
    if (this.pending.size > 0 || this.removed.size > 0) this.schedule();
  }

  private async writeOnce(): Promise<void> {
    const names = [...this.pending];
    const gone = [...this.removed];
    this.pending.clear();
    this.removed.clear();
    try {
      for (const name of gone) await rm(this.pathOf(name), { force: true });
      let serializeMs = 0;
      for (const name of names) {
        if (!this.store.has(name)) continue;
        // Serialize synchronously so the snapshot is consistent; only the I/O is async.
        const started = performance.now();
        const text = serializeCollection(name, [...this.store.collection(name).docs.values()]);
        serializeMs += performance.now() - started;
        await this.writeAtomic(this.pathOf(name), text);
      }
      this.nextDelayMs = Math.min(5_000, Math.max(this.flushDelayMs, 5 * serializeMs));
      this.syncDir();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = err as Error;
      for (const n of names) if (!this.removed.has(n)) this.pending.add(n);
      console.error(`[cloudbase-emulator] could not write to ${this.dir}: ${(err as Error).message}`);
    }
  }

  private pathOf(name: string): string {
    return join(this.dir, `${name}${SUFFIX}`);
  }

  private async writeAtomic(path: string, content: string): Promise<void> {
    const tmp = `${path}.${process.pid}.${++this.tmpCounter}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(content, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }

  private syncDir(): void {
    // The rename is durable only once the directory entry is; not every platform allows this.
    try {
      const fd = openSync(this.dir, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      /* best effort */
    }
  }
}
