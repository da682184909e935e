// The use cases' unit-test bench: the real CloudBase emulator in memory on an ephemeral port, reached
// through the real @cloudbase/node-sdk, a fake WeChat Pay, and a logger that keeps its lines.
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../../local/cloudbase/server';
import { openLocalDatabase } from '../../../local/cloudbase/sdk-env';
import { COLLECTIONS } from '../../db/collections';
import type { Database } from '../../db/database';
import { repositoriesOf, type Repositories } from '../../db/repositories';
import type { Product } from '../../domain/catalog';
import { formatLogLine, type Logger } from '../../log';
import type { UseCaseDeps } from '../deps';
import { FakeWechat } from './fake-wechat';

export const PRODUCTS: Product[] = [
  { _id: 'tea', name: 'Tea', priceFen: 1200, active: true },
  { _id: 'cake', name: 'Cake', priceFen: 2550, active: true },
  { _id: 'gone', name: 'Gone', priceFen: 100, active: false },
  { _id: 'ebook', name: 'E-book', priceFen: 300, active: true, fulfilment: 'virtual' },
  { _id: 'pizza', name: 'Pizza', priceFen: 5900, active: true, fulfilment: 'local-delivery' },
  // A catalog entry with a fulfilment no code knows (written by hand in the console).
  { _id: 'drone', name: 'Drone', priceFen: 100, active: true, fulfilment: 'drone' as 'express' },
];

export interface MemoryLogger extends Logger {
  readonly lines: string[];
}

export function memoryLogger(): MemoryLogger {
  const lines: string[] = [];
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${formatLogLine(message, fields)}`);
  return { lines, info: write('info'), warn: write('warn'), error: write('error') };
}

export interface Bench {
  repos: Repositories;
  db: Database;
  /** Fresh dependencies for one test: the shared database, a new fake WeChat and logger. */
  deps(): UseCaseDeps & { gateway: FakeWechat; log: MemoryLogger };
  /** Arms an emulator fault (`POST /emu/faults`, e.g. `{action:'insert', collection, lostResponse:true}`). */
  fault(spec: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

let openids = 0;
/** An openid no other test uses, so tests share one database without seeing each other's orders. */
export function newOpenid(): string {
  return `o-unit-${process.pid}-${++openids}`;
}

export async function startBench(): Promise<Bench> {
  const emu: CloudbaseEmulator = await startCloudbaseEmulator({
    port: 0,
    collections: Object.values(COLLECTIONS),
  });
  const db = openLocalDatabase(emu.url);
  for (const p of PRODUCTS) await db.collection(COLLECTIONS.products).add(p);
  const repos = repositoriesOf(db);
  return {
    repos,
    db,
    deps: () => ({ ...repos, gateway: new FakeWechat(), log: memoryLogger() }),
    fault: async (spec) => {
      const res = await fetch(`${emu.url}/emu/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(spec),
      });
      if (!res.ok) throw new Error(`POST /emu/faults answered ${res.status}: ${await res.text()}`);
    },
    clearFaults: async () => {
      const res = await fetch(`${emu.url}/emu/faults`, { method: 'DELETE' });
      if (!res.ok) throw new Error(`DELETE /emu/faults answered ${res.status}`);
    },
    close: () => emu.close(),
  };
}
