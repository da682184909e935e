// Transactions through @cloudbase/node-sdk: isolation, read-your-writes, commit, rollback, conflicts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from './server';
import { openLocalDatabase, type LocalDatabase } from './sdk-env';

let emu: CloudbaseEmulator;
let db: LocalDatabase;

before(async () => {
  emu = await startCloudbaseEmulator({ transactionIdleTimeoutMs: 800 });
  db = openLocalDatabase(emu.url);
});
after(async () => {
  await emu.close();
});
beforeEach(async () => {
  await fetch(`${emu.url}/emu/reset`, { method: 'POST', body: JSON.stringify({ drop: true }) });
  await db.createCollection('accounts');
  await db.collection('accounts').add([
    { _id: 'alice', balance: 100 },
    { _id: 'bob', balance: 50 },
  ]);
});

const balance = async (id: string) => (await db.collection('accounts').doc(id).get()).data[0]?.balance;

test('runTransaction commits every write at once and returns the callback result', async () => {
  const result = await db.runTransaction(async (tx: any) => {
    const a = (await tx.collection('accounts').doc('alice').get()).data;
    assert.equal(a.balance, 100);
    await tx
      .collection('accounts')
      .doc('alice')
      .update({ balance: a.balance - 30 });
    await tx
      .collection('accounts')
      .doc('bob')
      .update({ balance: db.command.inc(30) });
    await tx.collection('accounts').add({ _id: 'log-1', amount: 30 });
    return 'moved';
  });
  assert.equal(result, 'moved');
  assert.equal(await balance('alice'), 70);
  assert.equal(await balance('bob'), 80);
  assert.equal((await db.collection('accounts').doc('log-1').get()).data[0].amount, 30);
});

test('writes are invisible outside until commit, visible inside at once', async () => {
  const tx = await db.startTransaction();
  await tx.collection('accounts').doc('alice').update({ balance: 1 });
  await tx.collection('accounts').doc('carol').set({ balance: 7 });
  await tx.collection('accounts').doc('bob').delete();
  assert.equal((await tx.collection('accounts').doc('alice').get()).data.balance, 1);
  assert.equal((await tx.collection('accounts').doc('carol').get()).data.balance, 7);
  assert.equal((await tx.collection('accounts').doc('bob').get()).data, null);
  assert.deepEqual(
    (
      await tx
        .collection('accounts')
        .where({ balance: db.command.lt(10) })
        .get()
    ).data
      .map((d: any) => d._id)
      .sort(),
    ['alice', 'carol'],
  );
  // outside: nothing happened yet
  assert.equal(await balance('alice'), 100);
  assert.equal(await balance('bob'), 50);
  assert.equal(await balance('carol'), undefined);
  await tx.commit();
  assert.equal(await balance('alice'), 1);
  assert.equal(await balance('bob'), undefined);
  assert.equal(await balance('carol'), 7);
});

test('rollback discards every write; a throwing callback rolls back and rethrows', async () => {
  const tx = await db.startTransaction();
  await tx.collection('accounts').doc('alice').update({ balance: 0 });
  await tx.collection('accounts').add({ _id: 'temp' });
  await tx.rollback();
  assert.equal(await balance('alice'), 100);
  assert.equal((await db.collection('accounts').doc('temp').get()).data.length, 0);
  await assert.rejects(tx.commit(), { code: 'DATABASE_TRANSACTION_FAIL' });

  await assert.rejects(
    db.runTransaction(async (t: any) => {
      await t.collection('accounts').doc('bob').update({ balance: 0 });
      throw new Error('insufficient funds');
    }),
    /insufficient funds/,
  );
  assert.equal(await balance('bob'), 50);

  await assert.rejects(
    db.runTransaction(async (t: any) => {
      await t.collection('accounts').doc('bob').update({ balance: 0 });
      await t.rollback('custom reason');
    }),
    (reason) => reason === 'custom reason',
  );
  assert.equal(await balance('bob'), 50);
});

test('two transactions writing the same document: the second gets the conflict code, the first commits', async () => {
  const t1 = await db.startTransaction();
  const t2 = await db.startTransaction();
  await t1.collection('accounts').doc('alice').update({ balance: 1 });
  // t2 still reads the committed value, not t1's uncommitted one
  assert.equal((await t2.collection('accounts').doc('alice').get()).data.balance, 100);
  await assert.rejects(t2.collection('accounts').doc('alice').update({ balance: 2 }), {
    code: 'DATABASE_TRANSACTION_CONFLICT',
  });
  // the conflict aborted t2: it cannot commit anything
  await assert.rejects(t2.commit(), { code: 'DATABASE_TRANSACTION_CONFLICT' });
  await t2.rollback(); // rolling back an ended transaction is harmless
  await t1.commit();
  assert.equal(await balance('alice'), 1);
});

test('a document changed outside after the transaction started makes the transaction conflict', async () => {
  const tx = await db.startTransaction();
  await tx.collection('accounts').doc('bob').update({ balance: 10 });
  await db.collection('accounts').doc('bob').update({ balance: 99 });
  await assert.rejects(tx.commit(), { code: 'DATABASE_TRANSACTION_CONFLICT' });
  assert.equal(await balance('bob'), 99);

  const late = await db.startTransaction();
  await db.collection('accounts').doc('alice').update({ balance: 5 });
  await assert.rejects(late.collection('accounts').doc('alice').update({ balance: 6 }), {
    code: 'DATABASE_TRANSACTION_CONFLICT',
  });
  assert.equal(await balance('alice'), 5);
});

test('an idle transaction expires and releases its locks', async () => {
  const stale = await db.startTransaction();
  await stale.collection('accounts').doc('alice').update({ balance: 0 });
  const blocked = await db.startTransaction();
  await assert.rejects(blocked.collection('accounts').doc('alice').update({ balance: 1 }), {
    code: 'DATABASE_TRANSACTION_CONFLICT',
  });
  // idle timeout 0.8 s, swept every 0.8 s: poll (bounded) until a new transaction can take the lock
  const startedWaiting = Date.now();
  for (;;) {
    const fresh = await db.startTransaction();
    try {
      await fresh.collection('accounts').doc('alice').update({ balance: 2 });
      await fresh.commit();
      break;
    } catch (err) {
      assert.equal((err as { code: string }).code, 'DATABASE_TRANSACTION_CONFLICT');
      assert.ok(Date.now() - startedWaiting < 10_000, 'the stale transaction never expired');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await assert.rejects(stale.commit(), { code: 'DATABASE_TRANSACTION_FAIL' });
  assert.equal(await balance('alice'), 2);
});

test('a transaction cannot insert an _id that exists, and a missing collection is reported', async () => {
  const tx = await db.startTransaction();
  await assert.rejects(tx.collection('accounts').add({ _id: 'alice' }), { code: 'DATABASE_DUPLICATE_WRITE' });
  await assert.rejects(tx.collection('nowhere').doc('x').get(), { code: 'DATABASE_COLLECTION_NOT_EXIST' });
  await tx.rollback();
});

test('the legacy doc-level transaction actions read, write and delete inside the transaction', async () => {
  const post = async (body: Record<string, unknown>) => {
    const res = await fetch(`${emu.url}/admin`, {
      method: 'POST',
      body: JSON.stringify({ envName: 'local', ...body }),
    });
    return (await res.json()) as Record<string, any>;
  };
  const { transactionId } = await post({ action: 'database.startTransaction' });
  assert.equal(typeof transactionId, 'string');
  const read = await post({
    action: 'database.getInTransaction',
    transactionId,
    collectionName: 'accounts',
    _id: 'alice',
  });
  assert.equal(JSON.parse(read.data).balance, 100);
  const updated = await post({
    action: 'database.updateDocInTransaction',
    transactionId,
    collectionName: 'accounts',
    _id: 'alice',
    data: '{"$set":{"balance":{"$numberInt":"60"}}}',
  });
  assert.equal(JSON.parse(updated.updated), 1);
  const upserted = await post({
    action: 'database.updateDocInTransaction',
    transactionId,
    collectionName: 'accounts',
    _id: 'dave',
    data: '{"balance":{"$numberInt":"40"}}',
    upsert: true,
  });
  assert.deepEqual(JSON.parse(upserted.upserted), [{ _id: 'dave' }]);
  const deleted = await post({
    action: 'database.deleteDocInTransaction',
    transactionId,
    collectionName: 'accounts',
    _id: 'bob',
  });
  assert.equal(JSON.parse(deleted.deleted), 1);
  assert.equal(await balance('alice'), 100);
  assert.equal((await post({ action: 'database.commitTransaction', transactionId })).code, undefined);
  assert.equal(await balance('alice'), 60);
  assert.equal(await balance('dave'), 40);
  assert.equal(await balance('bob'), undefined);
});
