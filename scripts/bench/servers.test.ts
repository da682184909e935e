// Smoke test of the throughput bench's baseline: the bare server must do the function's work for real
// (verify, decrypt, conditional update, record) and refuse what the function refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { startCloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { ensureLocalData } from '../../local/setup/local-data';
import { prepareBatch } from './notifications';
import { BENCH_COLLECTIONS, startBare, startFloor } from './servers';

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((res) => server.close(() => res()));
}

test('bench baseline: bare server applies each notification once, floor only verifies; both refuse forgeries', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-tp-'));
  const emu = await startCloudbaseEmulator({ port: 0, collections: BENCH_COLLECTIONS });
  const servers: Server[] = [];
  try {
    const local = await ensureLocalData(join(dir, 'local'));
    const db = openLocalDatabase(emu.url);
    const notes = await prepareBatch(db, local, 'smoke', 3);
    const bare = await startBare(local.env, emu.url);
    const floor = await startFloor(local.env);
    servers.push(bare.server, floor.server);
    const post = (url: string, body: string, headers: Record<string, string>) =>
      fetch(`${url}/pay/notify`, { method: 'POST', body, headers });

    for (const n of notes) assert.equal((await post(bare.url, n.body, n.headers)).status, 204);
    const paid = (await db
      .collection('orders')
      .where({ benchBatch: 'smoke', status: 'SUCCESS' })
      .count()) as { total: number };
    assert.equal(paid.total, 3, 'every order went NOTPAY → SUCCESS');
    const versions = (await db.collection('orders').where({ benchBatch: 'smoke' }).get()).data.map(
      (o) => (o as { version: number }).version,
    );
    assert.deepEqual(versions, [1, 1, 1], 'newOrder writes version 0; one conditional update makes it 1');
    // a redelivery changes nothing and is still acknowledged
    assert.equal((await post(bare.url, notes[0].body, notes[0].headers)).status, 204);
    const again = (await db.collection('orders').where({ _id: 'smoke000000' }).get()).data[0] as {
      version: number;
    };
    assert.equal(again.version, 1);
    const logged = (await db.collection('notifications').count()) as { total: number };
    assert.equal(logged.total, 3);

    const forged = notes[1].body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ');
    assert.equal((await post(bare.url, forged, notes[1].headers)).status, 401);
    assert.equal((await post(floor.url, forged, notes[1].headers)).status, 401);
    assert.equal((await post(floor.url, notes[2].body, notes[2].headers)).status, 204);
  } finally {
    await Promise.all(servers.map(close));
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
