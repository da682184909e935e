// wx-server-sdk, unmodified, configured only through functionSdkEnv (as inside a function process):
// the calls cloud functions make, the way it reports errors, and its transactions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from './server';
import { functionSdkEnv } from './sdk-env';

let emu: CloudbaseEmulator;
// wx-server-sdk ships no usable types for its database surface; the tests use it as functions do.

let db: any;

before(async () => {
  emu = await startCloudbaseEmulator({ collections: ['orders'] });
  // This test file runs in its own process: setting the function environment here is local to it.
  Object.assign(process.env, functionSdkEnv(emu.url));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK reads the environment at load, so it loads after it is set
  const cloud = require('wx-server-sdk');
  cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
  db = cloud.database();
});
after(async () => {
  await emu.close();
});

test('add, get, where with orderBy/limit/field, count, update, set, remove', async () => {
  const _ = db.command;
  const orders = db.collection('orders');
  const added = await orders.add({
    data: { _id: 'w1', status: 'NOTPAY', amountFen: 300, version: 1, createdAt: db.serverDate() },
  });
  assert.equal(added._id, 'w1');
  await orders.add({ data: { _id: 'w2', status: 'NOTPAY', amountFen: 100, version: 1 } });
  await orders.add({ data: { _id: 'w3', status: 'SUCCESS', amountFen: 200, version: 2 } });

  const one = await orders.doc('w1').get();
  assert.equal(one.data.amountFen, 300);
  assert.ok(one.data.createdAt instanceof Date);

  const page = await orders
    .where({ status: 'NOTPAY' })
    .orderBy('amountFen', 'asc')
    .limit(1)
    .field({ amountFen: true })
    .get();
  assert.deepEqual(page.data, [{ _id: 'w2', amountFen: 100 }]);
  assert.equal((await orders.where({ amountFen: _.gte(200) }).count()).total, 2);

  const won = await orders
    .where({ _id: 'w1', status: 'NOTPAY', version: 1 })
    .update({ data: { status: 'SUCCESS', version: _.inc(1), paidAt: db.serverDate() } });
  assert.equal(won.stats.updated, 1);
  const lost = await orders
    .where({ _id: 'w1', status: 'NOTPAY', version: 1 })
    .update({ data: { status: 'CLOSED' } });
  assert.equal(lost.stats.updated, 0);

  const set = await orders.doc('w9').set({ data: { status: 'NOTPAY' } });
  assert.equal(set._id, 'w9');
  assert.equal((await orders.doc('w9').remove()).stats.removed, 1);
  assert.equal((await orders.count()).total, 3);
});

test('platform errors surface as wx-server-sdk errCodes', async () => {
  await assert.rejects(
    db.collection('missing').where({ a: 1 }).get(),
    (err: { errCode: number; errMsg: string }) => {
      assert.equal(err.errCode, -502005);
      assert.match(err.errMsg, /does not exist/);
      return true;
    },
  );
  await assert.rejects(db.collection('missing').doc('x').get(), { errCode: -502005 });
  await assert.rejects(db.collection('missing').add({ data: { a: 1 } }), { errCode: -502005 });
  await assert.rejects(db.collection('orders').add({ data: { _id: 'w2' } }), (err: { errMsg: string }) =>
    /already exists/.test(err.errMsg),
  );
  const fault = await fetch(`${emu.url}/emu/faults`, {
    method: 'POST',
    body: JSON.stringify({
      action: 'update',
      error: { code: 'DATABASE_COLLECTION_NOT_EXIST', message: 'injected' },
    }),
  });
  assert.equal(fault.status, 200);
  await assert.rejects(
    db
      .collection('orders')
      .doc('w2')
      .update({ data: { a: 1 } }),
    { errCode: -502005 },
  );
});

test('runTransaction and a conflicting transaction', async () => {
  const _ = db.command;
  const result = await db.runTransaction(async (tx: any) => {
    const order = (await tx.collection('orders').doc('w2').get()).data;
    await tx
      .collection('orders')
      .doc('w2')
      .update({ data: { refundedFen: order.amountFen, version: _.inc(1) } });
    return order.amountFen;
  });
  assert.equal(result, 100);
  assert.equal((await db.collection('orders').doc('w2').get()).data.refundedFen, 100);

  const t1 = await db.startTransaction();
  const t2 = await db.startTransaction();
  await t1
    .collection('orders')
    .doc('w3')
    .update({ data: { note: 't1' } });
  await assert.rejects(
    t2
      .collection('orders')
      .doc('w3')
      .update({ data: { note: 't2' } }),
    (err: { errMsg?: string; message?: string }) =>
      /DATABASE_TRANSACTION_CONFLICT|write conflict/.test(String(err.errMsg ?? err.message)),
  );
  await t1.commit();
  assert.equal((await db.collection('orders').doc('w3').get()).data.note, 't1');
});
