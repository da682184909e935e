// The repositories against the real CloudBase emulator through the real @cloudbase/node-sdk.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { newOutRefundNo, newOutTradeNo } from '../domain/ids';
import { markPaid, newOrder, reserveRefund, type OrderDoc } from '../domain/order';
import { COLLECTIONS } from './collections';
import { isDuplicateKey } from './errors';
import { repositoriesOf, type Repositories } from './repositories';

let emu: CloudbaseEmulator;
let db: Repositories;

before(async () => {
  emu = await startCloudbaseEmulator({ port: 0, collections: Object.values(COLLECTIONS) });
  db = repositoriesOf(openLocalDatabase(emu.url));
});
after(async () => {
  await emu.close();
});

function order(openid: string, amountFen = 1000, at = new Date()): OrderDoc {
  return newOrder({
    outTradeNo: newOutTradeNo(at),
    openid,
    items: [{ productId: 'p', name: 'P', priceFen: amountFen, quantity: 1 }],
    amountFen,
    description: 'P',
    apiVersion: 'v3',
    now: at,
  });
}

describe('shared/db on the emulator', () => {
  it('round-trips an order with dates and applies NOTPAY → SUCCESS exactly once under concurrency', async () => {
    const o = order('o-db-user1');
    await db.orders.insert(o);
    const stored = await db.orders.get(o._id);
    assert.ok(stored && stored.createdAt instanceof Date);
    const facts = {
      transactionId: '42000001',
      amountTotalFen: 1000,
      payerOpenid: 'o-db-user1',
      paidAt: new Date(),
    };
    const results = await Promise.all(
      Array.from({ length: 20 }, () => db.orders.apply(o._id, (doc) => markPaid(doc, facts, new Date()))),
    );
    assert.equal(results.filter((r) => r.outcome === 'applied').length, 1);
    assert.equal(results.filter((r) => r.outcome === 'already').length, 19);
    const paid = await db.orders.get(o._id);
    assert.equal(paid?.status, 'SUCCESS');
    assert.equal(paid?.version, 1);
    assert.equal(
      (await db.orders.apply('T_nope_123', (doc) => markPaid(doc, facts, new Date()))).outcome,
      'missing',
    );
  });

  it('never reserves more than was paid with 30 concurrent reservations', async () => {
    const o = {
      ...order('o-db-user2', 1000),
      status: 'SUCCESS' as const,
      transactionId: 'tx',
      paidAt: new Date(),
    };
    await db.orders.insert(o);
    const attempts = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        db.orders.apply(o._id, (doc) => ({
          kind: 'apply',
          transition: reserveRefund(doc, { outRefundNo: `R${i}`, amountFen: 100 }, new Date()),
        })),
      ),
    );
    const applied = attempts.filter((a) => a.status === 'fulfilled' && a.value.outcome === 'applied').length;
    const final = await db.orders.get(o._id);
    assert.equal(applied, 10);
    assert.equal(final?.refundingFen, 1000);
    for (const a of attempts)
      if (a.status === 'rejected') assert.match(String((a.reason as Error).message), /exceeds|concurrent/);
  });

  it('creates a user exactly once on concurrent first logins', async () => {
    const now = new Date();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => db.users.recordLogin({ openid: 'o-db-login', appid: 'wx1', now })),
    );
    assert.equal(results.filter((r) => r.isNew).length, 1);
    const last = await db.users.recordLogin({
      openid: 'o-db-login',
      appid: 'wx1',
      profile: { nickName: 'N' },
      now,
    });
    assert.equal(last.user.loginCount, 11);
    assert.equal(last.user.nickName, 'N');
  });

  it('lists orders newest first with a cursor', async () => {
    const base = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const o = order('o-db-lister', 100, new Date(base + i * 1000));
      ids.push(o._id);
      await db.orders.insert(o);
    }
    const first = await db.orders.list('o-db-lister', 2);
    assert.deepEqual(
      first.orders.map((o) => o._id),
      [ids[4], ids[3]],
    );
    const second = await db.orders.list('o-db-lister', 2, first.nextBefore);
    assert.deepEqual(
      second.orders.map((o) => o._id),
      [ids[2], ids[1]],
    );
    const third = await db.orders.list('o-db-lister', 2, second.nextBefore);
    assert.deepEqual(
      third.orders.map((o) => o._id),
      [ids[0]],
    );
    assert.equal(third.nextBefore, undefined);
  });

  it('records a notification once and detects duplicate inserts', async () => {
    const id = `n-${newOutRefundNo()}`;
    await db.notifications.record({
      _id: id,
      eventType: 'TRANSACTION.SUCCESS',
      outcome: 'duplicate',
      receivedAt: new Date(),
    });
    await db.notifications.record({
      _id: id,
      eventType: 'TRANSACTION.SUCCESS',
      outcome: 'applied',
      receivedAt: new Date(),
    });
    assert.equal((await db.notifications.get(id))?.outcome, 'applied');
    const raw = openLocalDatabase(emu.url);
    await raw.collection(COLLECTIONS.products).add({ _id: 'pdb1', name: 'X', priceFen: 5, active: true });
    try {
      await raw.collection(COLLECTIONS.products).add({ _id: 'pdb1', name: 'X', priceFen: 5, active: true });
      assert.fail('duplicate insert succeeded');
    } catch (err) {
      const { StorageError } = await import('./errors');
      const e = err as { code?: string; message?: string };
      assert.ok(
        isDuplicateKey(new StorageError('insert', String(e.code), String(e.message))),
        String(e.code),
      );
    }
    const products = await db.products.getMany(['pdb1', 'missing']);
    assert.deepEqual([...products.keys()], ['pdb1']);
  });
});
