// The lostResponse fault with the real @cloudbase/node-sdk: the emulator applies the operation, then
// drops the connection, so the SDK call rejects although the write happened (as when the database
// commits and the network loses its answer).
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from './server';
import { openLocalDatabase, type LocalDatabase } from './sdk-env';

process.env.SILENCE = 'true';

let emu: CloudbaseEmulator;
let db: LocalDatabase;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${emu.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function dump(collection: string): Promise<Array<Record<string, unknown>>> {
  return (await call('GET', `/emu/dump/${collection}`)).json;
}

async function lose(action: string, extra: Record<string, unknown> = {}): Promise<void> {
  const added = await call('POST', '/emu/faults', { action, lostResponse: true, ...extra });
  assert.equal(added.status, 200, JSON.stringify(added.json));
  assert.equal(added.json.lostResponse, true);
}

/** The SDK call fails as a network failure does: no platform error code from the database. */
async function rejectsAsLost(call: Promise<unknown>): Promise<void> {
  await assert.rejects(call, (err: { code?: unknown }) => {
    assert.ok(
      typeof err?.code !== 'string' || !err.code.startsWith('DATABASE_'),
      `expected a network failure, got the platform error ${String(err.code)}`,
    );
    return true;
  });
}

before(async () => {
  emu = await startCloudbaseEmulator({ collections: ['orders', 'refunds'] });
  db = openLocalDatabase(emu.url);
});
after(async () => {
  await emu.close();
});
beforeEach(async () => {
  await call('POST', '/emu/reset');
});

test('insert: the document is written, the SDK call rejects, the next insert answers normally', async () => {
  await lose('insert', { collection: 'refunds' });
  await rejectsAsLost(db.collection('refunds').add({ _id: 'r1', amountFen: 100 }));
  assert.deepEqual(await dump('refunds'), [{ _id: 'r1', amountFen: 100 }]);
  assert.deepEqual((await call('GET', '/emu/faults')).json, [], 'the fault is used up');
  const again = await db.collection('refunds').add({ _id: 'r2' });
  assert.equal(again.id, 'r2');
});

test('update by id and conditional where().update: applied once, answer lost, a replay matches nothing', async () => {
  await db.collection('orders').add({ _id: 'o1', status: 'NOTPAY', version: 1, n: 0 });
  await lose('update', { collection: 'orders' });
  await rejectsAsLost(db.collection('orders').doc('o1').update({ n: 1 }));
  assert.equal((await dump('orders'))[0].n, 1);

  const _ = db.command;
  await lose('update');
  await rejectsAsLost(
    db
      .collection('orders')
      .where({ _id: 'o1', status: 'NOTPAY', version: 1 })
      .update({ status: 'SUCCESS', version: _.inc(1) }),
  );
  assert.deepEqual(await dump('orders'), [{ _id: 'o1', status: 'SUCCESS', version: 2, n: 1 }]);
  // The caller cannot know its update won; retrying the same conditional update is safe and says 0.
  const replay = await db
    .collection('orders')
    .where({ _id: 'o1', status: 'NOTPAY', version: 1 })
    .update({ status: 'SUCCESS', version: _.inc(1) });
  assert.equal(replay.updated, 0);
});

test('set and remove: applied, answer lost', async () => {
  await lose('update', { collection: 'orders' });
  await rejectsAsLost(db.collection('orders').doc('s1').set({ a: 1 }));
  assert.deepEqual(await dump('orders'), [{ _id: 's1', a: 1 }]);

  await lose('remove', { collection: 'orders' });
  await rejectsAsLost(db.collection('orders').doc('s1').remove());
  assert.deepEqual(await dump('orders'), []);
});

test('transaction: the commit is applied and its answer lost; the SDK rejects runTransaction', async () => {
  await db.collection('orders').add({ _id: 'o1', refundingFen: 0 });
  // Scoped to a collection the transaction does not write: not this commit.
  await lose('transaction', { collection: 'refunds' });
  await lose('transaction', { collection: 'orders' });
  await rejectsAsLost(
    db.runTransaction(async (tx: any) => {
      await tx.collection('orders').doc('o1').update({ refundingFen: 100 });
    }),
  );
  assert.equal((await dump('orders'))[0].refundingFen, 100, 'the commit was applied');
  const left = (await call('GET', '/emu/faults')).json as Array<{ collection: string }>;
  assert.deepEqual(
    left.map((f) => f.collection),
    ['refunds'],
    'only the fault on a collection the transaction wrote fired; starting it did not use one up',
  );

  // A transaction writing both collections uses the remaining one.
  await rejectsAsLost(
    db.runTransaction(async (tx: any) => {
      await tx.collection('orders').doc('o1').update({ refundingFen: 0 });
      await tx.collection('refunds').add({ _id: 'r1', amountFen: 100 });
    }),
  );
  assert.equal((await dump('orders'))[0].refundingFen, 0);
  assert.deepEqual(await dump('refunds'), [{ _id: 'r1', amountFen: 100 }]);
});

test('reads: the answer of count lost for the next N calls, then normal', async () => {
  await db.collection('orders').add({ _id: 'o1' });
  await lose('count', { count: 2 });
  await rejectsAsLost(db.collection('orders').count());
  await rejectsAsLost(db.collection('orders').count());
  assert.equal((await db.collection('orders').count()).total, 1);
});

test('lostResponse is validated: a boolean, and never together with an error', async () => {
  const both = await call('POST', '/emu/faults', {
    action: 'insert',
    lostResponse: true,
    error: { code: 'DATABASE_REQUEST_FAILED' },
  });
  assert.equal(both.status, 400);
  assert.equal(both.json.code, 'INVALID_PARAM');
  assert.match(both.json.message, /lostResponse/);
  const notBool = await call('POST', '/emu/faults', { action: 'insert', lostResponse: 'yes' });
  assert.equal(notBool.json.code, 'INVALID_PARAM');
  assert.deepEqual((await call('GET', '/emu/faults')).json, [], 'a rejected fault is not armed');
  // An insert after the rejected specs answers normally.
  assert.equal((await db.collection('orders').add({ _id: 'ok' })).id, 'ok');
});
