// The catalog page logic reads `products` through wx.cloud.database(); here that is the real
// node-sdk against the CloudBase emulator, with the same query the phone runs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { loadCatalog } from '../../miniprogram/miniprogram/logic/catalog';
import { createWxAdapter } from './wx-adapter';

let emulator: Awaited<ReturnType<typeof startCloudbaseEmulator>>;

before(async () => {
  emulator = await startCloudbaseEmulator({ port: 0 });
  const db = openLocalDatabase(emulator.url);
  await db.createCollection('products');
  const docs = [
    { _id: 'p_tea', name: 'Tea', priceFen: 1200, active: true, description: 'green' },
    { _id: 'p_pin', name: 'Pin', priceFen: 1, active: true },
    { _id: 'p_old', name: 'Retired', priceFen: 500, active: false },
    { _id: 'p_bad', name: 'Broken price', priceFen: 9.5, active: true },
  ];
  for (const doc of docs) await db.collection('products').add(doc);
});
after(() => emulator.close());

test('the catalog lists active, well-formed products, cheapest first', async () => {
  const adapter = createWxAdapter({
    hostUrl: 'http://127.0.0.1:9',
    simUrl: 'http://127.0.0.1:9',
    openid: 'o',
    appid: 'a',
    database: () => openLocalDatabase(emulator.url),
  });
  const products = await loadCatalog(adapter.wx.cloud.database());
  assert.deepEqual(products, [
    { id: 'p_pin', name: 'Pin', priceFen: 1 },
    { id: 'p_tea', name: 'Tea', priceFen: 1200, description: 'green' },
  ]);
  assert.equal(
    (await loadCatalog(adapter.wx.cloud.database(), 1)).length,
    1,
    'the page size is passed to the query',
  );
});
