// File-backed mode: data survives a restart, and a kill -9 in the middle of writing leaves
// readable files holding a consistent prefix of what was written.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { startCloudbaseEmulator } from './server';
import { openLocalDatabase } from './sdk-env';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cloudbase-emu-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('collections, documents and types survive a restart; reset survives too', async () => {
  const dataDir = tempDir();
  const first = await startCloudbaseEmulator({ dataDir, collections: ['orders', 'empty'] });
  const db = openLocalDatabase(first.url);
  const paidAt = new Date('2025-01-02T03:04:05.678Z');
  await db.collection('orders').add([
    { _id: 'o1', amountFen: 100, paidAt, items: [{ sku: 'a', q: 2 }] },
    { _id: 'o2', amountFen: 5 },
    { _id: 'o3', amountFen: 7 },
  ]);
  await db
    .collection('orders')
    .doc('o2')
    .update({ amountFen: db.command.inc(1), at: db.serverDate() });
  await db.collection('orders').doc('o3').remove();
  await first.close();

  const second = await startCloudbaseEmulator({ dataDir, collections: ['orders'] });
  const db2 = openLocalDatabase(second.url);
  const docs = (await db2.collection('orders').orderBy('_id', 'asc').get()).data;
  assert.deepEqual(
    docs.map((d: { _id: string }) => d._id),
    ['o1', 'o2'],
  );
  assert.ok(docs[0].paidAt instanceof Date && docs[0].paidAt.getTime() === paidAt.getTime());
  assert.deepEqual(docs[0].items, [{ sku: 'a', q: 2 }]);
  assert.equal(docs[1].amountFen, 6);
  assert.ok(docs[1].at instanceof Date);
  assert.equal((await db2.collection('empty').count()).total, 0, 'an empty collection persists');

  await fetch(`${second.url}/emu/reset`, { method: 'POST', body: JSON.stringify({ drop: true }) });
  await second.close();
  assert.deepEqual(readdirSync(dataDir), []);
  const third = await startCloudbaseEmulator({ dataDir });
  assert.deepEqual(await (await fetch(`${third.url}/emu/collections`)).json(), []);
  await third.close();
});

test('kill -9 while writing leaves readable files with a consistent prefix of the writes', async () => {
  const dataDir = tempDir();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve(__dirname, 'fixtures/crash-writer.ts'), dataDir],
    {
      cwd: resolve(__dirname, '../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let durable = 0;
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise<NodeJS.Signals | null>((done) =>
    child.on('exit', (_code, signal) => done(signal)),
  );
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`writer made no durable progress in 25 s: ${stderr}`)),
      25_000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString().matchAll(/durable (\d+)/g)) durable = Math.max(durable, Number(m[1]));
      if (durable >= 600) {
        clearTimeout(timer);
        done();
      }
    });
    child.on('exit', () => fail(new Error(`writer exited early: ${stderr}`)));
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');

  const reopened = await startCloudbaseEmulator({ dataDir });
  try {
    const db = openLocalDatabase(reopened.url);
    const total = (await db.collection('log').count()).total;
    assert.ok(total >= durable, `${total} documents on disk, ${durable} were acknowledged as durable`);
    assert.equal(total % 20, 0, 'batches are written whole');
    // every n from 0 to total-1 is there exactly once: the file is a prefix of the write sequence
    const ns = new Set<number>();
    for (let skip = 0; skip < total; skip += 1000) {
      const page = await db
        .collection('log')
        .orderBy('n', 'asc')
        .skip(skip)
        .limit(1000)
        .field({ n: true })
        .get();
      for (const d of page.data) ns.add(d.n);
    }
    assert.equal(ns.size, total);
    assert.equal(Math.max(...ns), total - 1);
    assert.deepEqual(
      readdirSync(dataDir).filter((f) => f.endsWith('.tmp')),
      [],
      'leftover temp files are cleaned on load',
    );
  } finally {
    await reopened.close();
  }
});
