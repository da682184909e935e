// The paging queries, the reconcile cursor and the rate-limit counter on the real emulator through
// the real SDK: (createdAt, _id) order with ties, `after` bounds, a cursor that survives the round
// trip, and a counter that recovers from a hand-edited document.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { newOrder, type OrderDoc } from '../domain/order';
import { RATE_LIMITS } from '../domain/rate-limit';
import { COLLECTIONS } from './collections';
import type { Database } from './database';
import { repositoriesOf, type Repositories } from './repositories';

let emu: CloudbaseEmulator;
let raw: Database;
let db: Repositories;
before(async () => {
  emu = await startCloudbaseEmulator({ port: 0, collections: Object.values(COLLECTIONS) });
  raw = openLocalDatabase(emu.url);
  db = repositoriesOf(raw);
});
after(() => emu.close());

const T0 = new Date('2026-11-01T00:00:00Z');

function order(id: string, at: Date): OrderDoc {
  return newOrder({
    outTradeNo: id,
    openid: 'o-paging',
    items: [{ productId: 'p', name: 'P', priceFen: 1, quantity: 1 }],
    amountFen: 1,
    description: 'P',
    apiVersion: 'v3',
    now: at,
  });
}

describe('paging on the emulator', () => {
  it('findStaleUnpaid pages in (createdAt, _id) order after a cursor, ties included, none twice', async () => {
    const ids = ['T_page_c', 'T_page_a', 'T_page_b', 'T_page_d', 'T_page_e'];
    const at = [T0, T0, T0, new Date(T0.getTime() + 1), new Date(T0.getTime() + 2)];
    for (const [i, id] of ids.entries()) await db.orders.insert(order(id, at[i]));
    const cutoff = new Date(T0.getTime() + 2); // the last one is not due yet
    const seen: string[] = [];
    let cursor;
    for (let page = 0; page < 10; page++) {
      const docs = await db.orders.findStaleUnpaid(cutoff, 2, cursor);
      seen.push(...docs.map((d) => d._id));
      if (docs.length < 2) break;
      const last = docs[docs.length - 1];
      cursor = { createdAt: last.createdAt, id: last._id };
    }
    assert.deepEqual(seen, ['T_page_a', 'T_page_b', 'T_page_c', 'T_page_d']);
  });

  it('the reconcile cursor survives its round trip; an unreadable one starts over', async () => {
    assert.equal(await db.reconcileCursors.get('orders'), undefined);
    const at = new Date('2026-11-02T03:04:05.678Z');
    await db.reconcileCursors.save('orders', { createdAt: at, id: 'T_x' }, new Date());
    assert.deepEqual(await db.reconcileCursors.get('orders'), { createdAt: at, id: 'T_x' });
    await db.reconcileCursors.save('orders', undefined, new Date());
    assert.equal(await db.reconcileCursors.get('orders'), undefined);
    await raw
      .collection(COLLECTIONS.reconcileCursors)
      .doc('refunds')
      .set({ after: { id: 7 } });
    assert.equal(await db.reconcileCursors.get('refunds'), undefined);
  });

  it('a hand-edited counter is reset to the current window, not trusted', async () => {
    await raw
      .collection(COLLECTIONS.rateLimits)
      .add({ _id: 'prepay:o-edited', count: 'lots', windowStartMs: 'yesterday' });
    const now = new Date('2026-11-03T00:00:30Z');
    assert.deepEqual(await db.rateLimits.charge('prepay:o-edited', RATE_LIMITS.prepay, now), {
      allowed: true,
    });
    const doc = (await raw.collection(COLLECTIONS.rateLimits).where({ _id: 'prepay:o-edited' }).get())
      .data[0] as { count: number; windowStartMs: number };
    assert.deepEqual([doc.count, doc.windowStartMs], [1, Date.parse('2026-11-03T00:00:00Z')]);
  });
});
