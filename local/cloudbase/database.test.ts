// @cloudbase/node-sdk, unmodified, against the emulator: every operation, operator and error the
// functions rely on.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from './server';
import { openLocalDatabase, type LocalDatabase } from './sdk-env';

let emu: CloudbaseEmulator;
let db: LocalDatabase;

const products = [
  {
    _id: 'p1',
    name: 'Apple',
    priceFen: 300,
    tags: ['fruit', 'red'],
    stock: { qty: 5, wh: 'A' },
    lines: [
      { sku: 'a', q: 1 },
      { sku: 'b', q: 5 },
    ],
    active: true,
    rank: 2,
  },
  {
    _id: 'p2',
    name: 'banana',
    priceFen: 150,
    tags: ['fruit'],
    stock: { qty: 0, wh: 'B' },
    lines: [{ sku: 'c', q: 2 }],
    active: false,
    rank: 1,
  },
  {
    _id: 'p3',
    name: 'Cherry',
    priceFen: 300,
    tags: [],
    stock: { qty: 9, wh: 'A' },
    lines: [],
    active: true,
    note: 'x',
    rank: 3,
  },
];

async function reset(): Promise<void> {
  const res = await fetch(`${emu.url}/emu/reset`, { method: 'POST', body: '{"drop":true}' });
  assert.equal(res.status, 200);
  await db.createCollection('products');
  await db.collection('products').add(products);
}

const ids = (res: { data: Array<{ _id: string }> }) => res.data.map((d) => d._id);

before(async () => {
  emu = await startCloudbaseEmulator();
  db = openLocalDatabase(emu.url);
});
after(async () => {
  await emu.close();
});

describe('documents', () => {
  beforeEach(reset);

  test('insert one and many, get by id, generated ids are unique', async () => {
    const one = await db.collection('products').add({ name: 'Date', priceFen: 10 });
    assert.match(String(one.id), /^[0-9a-f]{32}$/);
    const many = await db.collection('products').add([{ name: 'E' }, { name: 'F' }]);
    assert.equal(many.ids!.length, 2);
    assert.notEqual(many.ids![0], many.ids![1]);
    const got = await db.collection('products').doc(one.id!).get();
    assert.deepEqual(got.data, [{ _id: one.id, name: 'Date', priceFen: 10 }]);
    assert.deepEqual((await db.collection('products').doc('nope').get()).data, []);
  });

  test('duplicate _id fails and inserts nothing of the batch', async () => {
    await assert.rejects(db.collection('products').add({ _id: 'p1', name: 'again' }), {
      code: 'DATABASE_DUPLICATE_WRITE',
    });
    await assert.rejects(db.collection('products').add([{ _id: 'n1' }, { _id: 'n1' }]), {
      code: 'DATABASE_DUPLICATE_WRITE',
    });
    assert.equal((await db.collection('products').count()).total, 3);
    assert.equal((await db.collection('products').doc('p1').get()).data[0].name, 'Apple');
  });

  test('dates, server dates with offset, nested values and numbers round-trip', async () => {
    const before = Date.now();
    const when = new Date('2024-05-06T07:08:09.123Z');
    await db.collection('products').add({
      _id: 'd1',
      when,
      at: db.serverDate(),
      later: db.serverDate({ offset: 60_000 }),
      deep: { list: [1, 2.5, { x: null }] },
      big: 2 ** 40,
    });
    const [doc] = (await db.collection('products').doc('d1').get()).data;
    assert.ok(doc.when instanceof Date && doc.when.getTime() === when.getTime());
    assert.ok(doc.at instanceof Date && doc.at.getTime() >= before && doc.at.getTime() <= Date.now());
    assert.equal(doc.later.getTime() - doc.at.getTime(), 60_000);
    assert.deepEqual(doc.deep, { list: [1, 2.5, { x: null }] });
    assert.equal(doc.big, 2 ** 40);
  });

  test('doc().set replaces an existing document and upserts a missing one', async () => {
    const replaced = await db.collection('products').doc('p1').set({ name: 'Apple 2' });
    assert.equal(replaced.updated, 1);
    assert.deepEqual((await db.collection('products').doc('p1').get()).data, [
      { _id: 'p1', name: 'Apple 2' },
    ]);
    const created = await db.collection('products').doc('p9').set({ name: 'New' });
    assert.equal(created.upsertedId, 'p9');
    assert.equal(created.updated, 0);
    assert.deepEqual((await db.collection('products').doc('p9').get()).data, [{ _id: 'p9', name: 'New' }]);
  });

  test('doc().update on a missing document updates nothing and creates nothing', async () => {
    const res = await db.collection('products').doc('ghost').update({ name: 'x' });
    assert.equal(res.updated, 0);
    assert.equal((await db.collection('products').count()).total, 3);
  });

  test('remove by doc and by query', async () => {
    assert.equal((await db.collection('products').doc('p2').remove()).deleted, 1);
    assert.equal((await db.collection('products').doc('p2').remove()).deleted, 0);
    assert.equal((await db.collection('products').where({ priceFen: 300 }).remove()).deleted, 2);
    assert.equal((await db.collection('products').count()).total, 0);
  });
});

describe('collections and errors', () => {
  beforeEach(reset);

  test('createCollection fails when it exists; operations on a missing collection fail', async () => {
    await assert.rejects(db.createCollection('products'), { code: 'DATABASE_COLLECTION_ALREADY_EXIST' });
    for (const op of [
      () => db.collection('missing').get(),
      () => db.collection('missing').add({ a: 1 }),
      () => db.collection('missing').count(),
      () => db.collection('missing').doc('x').update({ a: 1 }),
      () => db.collection('missing').doc('x').remove(),
    ]) {
      await assert.rejects(op(), (err: { code: string; message: string }) => {
        assert.equal(err.code, 'DATABASE_COLLECTION_NOT_EXIST');
        assert.match(err.message, /createCollection\('missing'\)/);
        return true;
      });
    }
  });

  test('malformed requests get the platform error shape, and the server keeps serving', async () => {
    const post = async (body: string) => {
      const res = await fetch(`${emu.url}/admin?env=local`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      assert.equal(res.status, 200);
      return (await res.json()) as { code: string; message: string; requestId: string };
    };
    const cases: Array<[string, string, RegExp]> = [
      ['{not json', 'INVALID_PARAM', /not valid JSON/],
      ['[]', 'INVALID_PARAM', /JSON object/],
      ['{"envName":"local"}', 'INVALID_PARAM', /action is required/],
      ['{"action":"database.dropEverything","envName":"local"}', 'INVALID_PARAM', /not supported/],
      [
        '{"action":"database.getDocument","envName":"local","collectionName":"products","query":"{bad"}',
        'INVALID_PARAM',
        /query is not valid EJSON/,
      ],
      ['{"action":"database.getDocument","envName":"local"}', 'INVALID_PARAM', /collectionName is required/],
      [
        '{"action":"database.getDocument","envName":"local","collectionName":"../etc"}',
        'INVALID_PARAM',
        /invalid/,
      ],
      [
        '{"action":"database.getDocument","envName":"prod-1a2b","collectionName":"products"}',
        'INVALID_ENV',
        /serves env "local"/,
      ],
      [
        '{"action":"database.modifyDocument","envName":"local","collectionName":"products","query":"{}","data":"{\\"$bogus\\":{\\"a\\":1}}","merge":true}',
        'DATABASE_REQUEST_FAILED',
        /update failed/,
      ],
      [
        '{"action":"database.getDocument","envName":"local","collectionName":"products","query":"{\\"a\\":{\\"$bogus\\":1}}"}',
        'INVALID_PARAM',
        /invalid query/,
      ],
      [
        '{"action":"database.getDocument","envName":"local","collectionName":"products","limit":-1}',
        'INVALID_PARAM',
        /limit/,
      ],
    ];
    for (const [body, code, message] of cases) {
      const answer = await post(body);
      assert.equal(answer.code, code, body);
      assert.match(answer.message, message, body);
      assert.ok(answer.requestId);
    }
    assert.equal((await db.collection('products').count()).total, 3);
    // no envName means the default environment, which is this one
    const res = await fetch(`${emu.url}/admin`, {
      method: 'POST',
      body: '{"action":"database.calculateDocument","collectionName":"products"}',
    });
    assert.deepEqual(((await res.json()) as { data: unknown }).data, { total: 3 });
  });
});

describe('queries', () => {
  beforeEach(reset);

  test('comparison, in/nin, exists, nested paths, regex', async () => {
    const _ = db.command;
    const q = async (where: object) => ids(await db.collection('products').where(where).get()).sort();
    assert.deepEqual(await q({ priceFen: 300 }), ['p1', 'p3']);
    assert.deepEqual(await q({ priceFen: _.eq(150) }), ['p2']);
    assert.deepEqual(await q({ priceFen: _.neq(150) }), ['p1', 'p3']);
    assert.deepEqual(await q({ priceFen: _.gt(150) }), ['p1', 'p3']);
    assert.deepEqual(await q({ priceFen: _.gte(150) }), ['p1', 'p2', 'p3']);
    assert.deepEqual(await q({ priceFen: _.lt(300) }), ['p2']);
    assert.deepEqual(await q({ priceFen: _.lte(300).and(_.gt(200)) }), ['p1', 'p3']);
    assert.deepEqual(await q({ _id: _.in(['p1', 'p2', 'zz']) }), ['p1', 'p2']);
    assert.deepEqual(await q({ _id: _.nin(['p1', 'p2']) }), ['p3']);
    assert.deepEqual(await q({ note: _.exists(true) }), ['p3']);
    assert.deepEqual(await q({ note: _.exists(false) }), ['p1', 'p2']);
    assert.deepEqual(await q({ 'stock.wh': 'A' }), ['p1', 'p3']);
    assert.deepEqual(await q({ stock: { qty: _.gt(4) } }), ['p1', 'p3']);
    assert.deepEqual(await q({ tags: 'red' }), ['p1']);
    assert.deepEqual(await q({ tags: _.all(['fruit', 'red']) }), ['p1']);
    assert.deepEqual(await q({ tags: _.size(0) }), ['p3']);
    assert.deepEqual(await q({ name: db.RegExp({ regexp: '^[ab]', options: 'i' }) }), ['p1', 'p2']);
    assert.deepEqual(await q({ name: /an/ }), ['p2']);
    assert.deepEqual(await q({ lines: _.elemMatch({ sku: 'b', q: _.gte(5) }) }), ['p1']);
    assert.deepEqual(await q({ lines: _.elemMatch({ sku: 'b', q: _.gt(5) }) }), []);
  });

  test('and / or / nor, at the top level and per field', async () => {
    const _ = db.command;
    const q = async (where: object) => ids(await db.collection('products').where(where).get()).sort();
    assert.deepEqual(await q(_.or([{ priceFen: 150 }, { note: 'x' }])), ['p2', 'p3']);
    assert.deepEqual(await q(_.and([{ priceFen: 300 }, { active: true }, { 'stock.qty': _.lt(6) }])), ['p1']);
    assert.deepEqual(await q(_.nor([{ priceFen: 150 }, { note: 'x' }])), ['p1']);
    assert.deepEqual(await q({ priceFen: _.or(_.lt(200), _.gt(1000)) }), ['p2']);
    assert.deepEqual(await q({ rank: _.not(_.gt(1)) }), ['p2']);
    // $expr needs mingo's expression operators
    assert.deepEqual(await q(_.expr(_.aggregate.gt(['$priceFen', { $multiply: ['$rank', 120] }]))), [
      'p1',
      'p2',
    ]);
    assert.deepEqual(await q({ priceFen: (_ as any).mod(100, 50) }), ['p2']);
  });

  test('orderBy on several keys, skip, limit, projection', async () => {
    const c = db.collection('products');
    assert.deepEqual(ids(await c.orderBy('priceFen', 'desc').orderBy('rank', 'asc').get()), [
      'p1',
      'p3',
      'p2',
    ]);
    assert.deepEqual(ids(await c.orderBy('priceFen', 'desc').orderBy('rank', 'desc').get()), [
      'p3',
      'p1',
      'p2',
    ]);
    assert.deepEqual(ids(await c.orderBy('stock.qty', 'asc').skip(1).limit(1).get()), ['p1']);
    assert.deepEqual((await c.where({ _id: 'p1' }).field({ name: true }).get()).data, [
      { _id: 'p1', name: 'Apple' },
    ]);
    assert.deepEqual((await c.doc('p1').field({ name: true, 'stock.qty': true }).get()).data, [
      { _id: 'p1', name: 'Apple', stock: { qty: 5 } },
    ]);
    const excluded = (await c.doc('p3').field({ lines: false, tags: false, stock: false }).get()).data[0];
    assert.deepEqual(Object.keys(excluded).sort(), ['_id', 'active', 'name', 'note', 'priceFen', 'rank']);
  });

  test('limit defaults to 100 and is capped at 1000; count sees everything', async () => {
    const c = db.collection('products');
    const batch = Array.from({ length: 1200 }, (_, i) => ({ _id: `bulk-${String(i).padStart(4, '0')}`, i }));
    for (let i = 0; i < batch.length; i += 400) await c.add(batch.slice(i, i + 400));
    const where = c.where({ i: db.command.exists(true) });
    assert.equal((await where.get()).data.length, 100);
    assert.equal((await where.limit(1000).get()).data.length, 1000);
    assert.equal((await where.limit(5000).get()).data.length, 1000);
    assert.equal((await where.orderBy('i', 'desc').skip(1100).limit(1000).get()).data.length, 100);
    assert.equal((await where.orderBy('i', 'desc').limit(1).get()).data[0]._id, 'bulk-1199');
    assert.equal((await where.count()).total, 1200);
    // raw callers that ask for more than the cap get the cap too
    const raw = await fetch(`${emu.url}/admin`, {
      method: 'POST',
      body: JSON.stringify({
        action: 'database.getDocument',
        envName: 'local',
        collectionName: 'products',
        limit: 4000,
      }),
    });
    const body = (await raw.json()) as { data: { list: string[]; limit: number } };
    assert.equal(body.data.list.length, 1000);
    assert.equal(body.data.limit, 1000);
  });
});

describe('aggregation', () => {
  beforeEach(reset);

  test('match, group with sum, sort', async () => {
    const $ = db.command.aggregate;
    const res = await db
      .collection('products')
      .aggregate()
      .match({ active: true })
      .group({ _id: '$priceFen', count: $.sum(1), ranks: $.sum('$rank') })
      .sort({ _id: 1 })
      .end();
    assert.deepEqual(res.data, [{ _id: 300, count: 2, ranks: 5 }]);
  });
});

describe('updates', () => {
  beforeEach(reset);

  const get = async (id: string) => (await db.collection('products').doc(id).get()).data[0];

  test('field operators: set, inc, mul, remove, min, max, rename, server date', async () => {
    const _ = db.command;
    const before = Date.now();
    const res = await db
      .collection('products')
      .doc('p1')
      .update({
        name: 'Apple!',
        priceFen: _.inc(5),
        rank: _.mul(10),
        note: _.remove(),
        tags: _.remove(),
        stock: { qty: _.min(3), wh: _.set('Z') },
        'stock.max': _.max(7),
        active: _.rename('enabled'),
        updatedAt: db.serverDate({ offset: 1000 }),
      });
    assert.equal(res.updated, 1);
    const doc = await get('p1');
    assert.equal(doc.name, 'Apple!');
    assert.equal(doc.priceFen, 305);
    assert.equal(doc.rank, 20);
    assert.ok(!('tags' in doc) && !('active' in doc));
    assert.equal(doc.enabled, true);
    assert.deepEqual(doc.stock, { qty: 3, wh: 'Z', max: 7 });
    assert.ok(doc.updatedAt instanceof Date && doc.updatedAt.getTime() >= before + 1000);
    // _.set on an object replaces it entirely, where a plain object merges
    await db
      .collection('products')
      .doc('p1')
      .update({ stock: _.set({ only: 1 }) });
    assert.deepEqual((await get('p1')).stock, { only: 1 });
    await db
      .collection('products')
      .doc('p1')
      .update({ stock: { more: 2 } });
    assert.deepEqual((await get('p1')).stock, { only: 1, more: 2 });
  });

  test('array operators: push (each, position), pull (value and condition), pullAll, addToSet, pop, shift, unshift', async () => {
    const _ = db.command;
    const c = db.collection('products');
    await c.doc('p1').update({ tags: _.push(['sweet']) });
    assert.deepEqual((await get('p1')).tags, ['fruit', 'red', 'sweet']);
    await c.doc('p1').update({ tags: _.push({ each: ['first'], position: 0 }) });
    assert.deepEqual((await get('p1')).tags, ['first', 'fruit', 'red', 'sweet']);
    await c.doc('p1').update({ tags: _.pull('red') });
    assert.deepEqual((await get('p1')).tags, ['first', 'fruit', 'sweet']);
    await c.doc('p1').update({ lines: _.pull({ q: _.gt(2) }) });
    assert.deepEqual((await get('p1')).lines, [{ sku: 'a', q: 1 }]);
    await c.doc('p1').update({ tags: _.pullAll(['first', 'sweet']) });
    assert.deepEqual((await get('p1')).tags, ['fruit']);
    await c.doc('p1').update({ tags: _.addToSet('fruit') });
    await c.doc('p1').update({ tags: _.addToSet('green') });
    assert.deepEqual((await get('p1')).tags, ['fruit', 'green']);
    await c.doc('p1').update({ tags: _.unshift('zero') });
    await c.doc('p1').update({ tags: _.pop() });
    assert.deepEqual((await get('p1')).tags, ['zero', 'fruit']);
    await c.doc('p1').update({ tags: _.shift() });
    assert.deepEqual((await get('p1')).tags, ['fruit']);
  });

  test('where().update reports how many documents changed; an update that changes nothing counts 0', async () => {
    const c = db.collection('products');
    assert.equal((await c.where({ priceFen: 300 }).update({ active: false })).updated, 2);
    assert.equal((await c.where({ active: false }).update({ active: false })).updated, 0);
    assert.equal((await c.where({ priceFen: 999 }).update({ active: true })).updated, 0);
    assert.deepEqual(ids(await c.where({ active: false }).get()).sort(), ['p1', 'p2', 'p3']);
  });

  test('a conditional transition succeeds once and then matches nothing', async () => {
    const _ = db.command;
    const c = db.collection('products');
    await c.add({ _id: 'o1', status: 'NOTPAY', version: 1 });
    const transition = () =>
      c
        .where({ _id: 'o1', status: 'NOTPAY', version: 1 })
        .update({ status: 'SUCCESS', version: _.inc(1), paidAt: db.serverDate() });
    assert.equal((await transition()).updated, 1);
    assert.equal((await transition()).updated, 0);
    const doc = await get('o1');
    assert.equal(doc.status, 'SUCCESS');
    assert.equal(doc.version, 2);
  });

  test('updateAndReturn answers the updated document', async () => {
    const res = await (db.collection('products').where({ _id: 'p2' }) as any).updateAndReturn({
      priceFen: db.command.inc(50),
    });
    assert.equal(res.updated, 1);
    assert.equal(res.doc.priceFen, 200);
    assert.equal((await get('p2')).priceFen, 200);
  });

  test('_id cannot be changed', async () => {
    await assert.rejects(db.collection('products').doc('p1').update({ _id: 'other' }), {
      code: 'INVALID_PARAM',
    });
    await assert.rejects(db.collection('products').doc('p1').set({ _id: 'other' }), {
      code: 'INVALID_PARAM',
    });
  });
});
