// The /emu control API (reset, dump, collections, faults), change notifications, and the
// serialization of concurrent conditional updates.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, beforeEach, test } from 'node:test';
import { startCloudbaseEmulator, type ChangeEvent, type CloudbaseEmulator } from './server';
import { openLocalDatabase, type LocalDatabase } from './sdk-env';

// 200 requests in flight make the SDK warn about slow requests and share sockets among many
// listeners on a busy machine; neither is what this file tests.
process.env.SILENCE = 'true';
EventEmitter.defaultMaxListeners = 300;

let emu: CloudbaseEmulator;
let db: LocalDatabase;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

before(async () => {
  emu = await startCloudbaseEmulator({ collections: ['orders', 'users'] });
  db = openLocalDatabase(emu.url);
});
after(async () => {
  await emu.close();
});
beforeEach(async () => {
  await call('POST', '/emu/reset', { drop: true });
  await call('POST', '/emu/collections', { name: 'orders' });
  await call('POST', '/emu/collections', { name: 'users' });
});

test('collections, dump and reset of one collection or of all', async () => {
  await db.collection('orders').add([{ _id: 'o1', amountFen: 1, at: new Date(1000) }, { _id: 'o2' }]);
  await db.collection('users').add({ _id: 'u1' });
  assert.deepEqual((await call('GET', '/emu/collections')).json, [
    { name: 'orders', count: 2 },
    { name: 'users', count: 1 },
  ]);
  const dump = await call('GET', '/emu/dump/orders');
  assert.equal(dump.status, 200);
  assert.deepEqual(dump.json[0], { _id: 'o1', amountFen: 1, at: { $date: '1970-01-01T00:00:01Z' } });
  assert.equal((await call('GET', '/emu/dump/nothing')).json.code, 'DATABASE_COLLECTION_NOT_EXIST');

  assert.equal((await call('POST', '/emu/reset', { collection: 'orders' })).status, 200);
  assert.equal((await db.collection('orders').count()).total, 0);
  assert.equal((await db.collection('users').count()).total, 1);

  await db.collection('orders').add({ _id: 'o9' });
  await call('POST', '/emu/reset');
  assert.deepEqual((await call('GET', '/emu/collections')).json, [
    { name: 'orders', count: 0 },
    { name: 'users', count: 0 },
  ]);
  await call('POST', '/emu/reset', { drop: true });
  assert.deepEqual((await call('GET', '/emu/collections')).json, []);
  await assert.rejects(db.collection('users').get(), { code: 'DATABASE_COLLECTION_NOT_EXIST' });
  assert.equal((await call('GET', '/emu/nope')).status, 404);
  assert.equal((await call('POST', '/emu/faults', { action: 'explode' })).json.code, 'INVALID_PARAM');
});

test('faults fail the next N operations of a kind with the given platform error, then stop', async () => {
  await db.collection('orders').add({ _id: 'o1', status: 'NOTPAY' });
  const added = await call('POST', '/emu/faults', {
    action: 'update',
    collection: 'orders',
    count: 2,
    error: { code: 'DATABASE_REQUEST_FAILED', message: 'disk on fire' },
  });
  assert.equal(added.status, 200);
  assert.equal((await call('GET', '/emu/faults')).json.length, 1);
  // other kinds and other collections are untouched
  assert.equal((await db.collection('orders').doc('o1').get()).data.length, 1);
  await db.collection('users').add({ _id: 'u1' });
  assert.equal((await db.collection('users').doc('u1').update({ a: 1 })).updated, 1);
  for (let i = 0; i < 2; i++) {
    await assert.rejects(db.collection('orders').doc('o1').update({ status: 'SUCCESS' }), {
      code: 'DATABASE_REQUEST_FAILED',
      message: 'disk on fire',
    });
  }
  assert.equal(
    (await db.collection('orders').doc('o1').get()).data[0].status,
    'NOTPAY',
    'failed writes changed nothing',
  );
  assert.equal((await db.collection('orders').doc('o1').update({ status: 'SUCCESS' })).updated, 1);
  assert.deepEqual((await call('GET', '/emu/faults')).json, []);
});

test('a default fault uses DATABASE_REQUEST_FAILED; full action names and * match; DELETE clears', async () => {
  await call('POST', '/emu/faults', { action: 'database.insertDocument' });
  await assert.rejects(db.collection('orders').add({ a: 1 }), { code: 'DATABASE_REQUEST_FAILED' });
  await db.collection('orders').add({ a: 1 });
  await call('POST', '/emu/faults', { action: '*', count: 5 });
  await assert.rejects(db.collection('orders').count(), { code: 'DATABASE_REQUEST_FAILED' });
  await call('DELETE', '/emu/faults');
  assert.equal((await db.collection('orders').count()).total, 1);
});

test('a delay fault holds the operation without failing it', async () => {
  await call('POST', '/emu/faults', { action: 'get', delayMs: 400 });
  const t = Date.now();
  await db.collection('orders').get();
  assert.ok(Date.now() - t >= 380, `took ${Date.now() - t} ms`);
  const t2 = Date.now();
  await db.collection('orders').get();
  assert.ok(Date.now() - t2 < 380);
});

test('onChange reports committed inserts, updates, removes and resets', async () => {
  const events: ChangeEvent[] = [];
  const off = emu.onChange((e) => events.push(e));
  await db.collection('orders').add({ _id: 'o1', n: 1 });
  await db.collection('orders').doc('o1').update({ n: 2 });
  const tx = await db.startTransaction();
  await tx.collection('orders').doc('o1').remove();
  assert.equal(events.length, 2, 'uncommitted transaction writes are not reported');
  await tx.commit();
  await call('POST', '/emu/reset', { collection: 'orders' });
  off();
  await db.collection('orders').add({ _id: 'o2' });
  assert.deepEqual(
    events.map((e) => [e.type, e.collection, 'id' in e ? e.id : undefined]),
    [
      ['insert', 'orders', 'o1'],
      ['update', 'orders', 'o1'],
      ['remove', 'orders', 'o1'],
      ['reset', 'orders', undefined],
    ],
  );
  assert.deepEqual((events[1] as { doc: unknown }).doc, { _id: 'o1', n: 2 });
});

test('200 concurrent conditional updates of one document: exactly one wins', async () => {
  const _ = db.command;
  await db.collection('orders').add({ _id: 'race', status: 'NOTPAY', version: 1, wins: 0 });
  const results = await Promise.all(
    Array.from({ length: 200 }, (_unused, i) =>
      db
        .collection('orders')
        .where({ _id: 'race', status: 'NOTPAY', version: 1 })
        .update({ status: 'SUCCESS', version: _.inc(1), wins: _.inc(1), winner: i }),
    ),
  );
  const updated = results.map((r) => r.updated);
  assert.equal(updated.filter((u) => u === 1).length, 1);
  assert.equal(updated.filter((u) => u === 0).length, 199);
  const [doc] = (await db.collection('orders').doc('race').get()).data;
  assert.equal(doc.version, 2);
  assert.equal(doc.wins, 1);
  assert.equal(doc.winner, updated.indexOf(1));
});
