import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { COLLECTIONS } from '../../shared/db/collections';
import { runDbSetup } from '../db-setup';
import { DATABASE_PLAN, consoleSteps, createIndexesParam, ruleJson } from './plan';

test('db-setup creates every collection on the emulator, idempotently', async () => {
  const emu = await startCloudbaseEmulator({ port: 0 });
  try {
    const lines: string[] = [];
    const first = await runDbSetup({ local: emu.url, log: (l) => lines.push(l) });
    assert.deepEqual([...first.created].sort(), Object.values(COLLECTIONS).sort());
    assert.deepEqual(first.existing, []);
    const second = await runDbSetup({ local: emu.url, log: (l) => lines.push(l) });
    assert.deepEqual(second.created, []);
    assert.deepEqual([...second.existing].sort(), Object.values(COLLECTIONS).sort());
    // the collections really exist: writes and reads go through the real SDK
    const db = openLocalDatabase(emu.url);
    for (const name of Object.values(COLLECTIONS)) {
      await db.collection(name).add({ probe: name });
      const res = await db.collection(name).where({ probe: name }).get();
      assert.equal(res.data.length, 1, name);
    }
    assert.match(lines.join('\n'), /already there users, products, orders, refunds, notifications/);
  } finally {
    await emu.close();
  }
});

test('without an API key, db-setup changes nothing and prints the console steps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-setup-'));
  try {
    writeFileSync(join(dir, '.env'), 'TCB_ENV_ID=prod-abc123\n');
    const lines: string[] = [];
    const res = await runDbSetup({ envFile: join(dir, '.env'), log: (l) => lines.push(l) });
    assert.deepEqual(res, { created: [], existing: [] });
    const out = lines.join('\n');
    assert.match(out, /envId=prod-abc123/);
    for (const spec of DATABASE_PLAN) {
      assert.match(out, new RegExp(`新建集合 → name ${spec.name} `));
      assert.ok(out.includes(`paste: ${ruleJson(spec)}`), `rule of ${spec.name}`);
      for (const ix of spec.indexes) assert.ok(out.includes(`name ${ix.name};`), ix.name);
    }
    writeFileSync(join(dir, '.env'), 'WX_APPID=x\n');
    await assert.rejects(
      runDbSetup({ envFile: join(dir, '.env'), log: () => {} }),
      /TCB_ENV_ID is not set in \.env/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--dry-run changes nothing even with an API key, and prints what it would do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-setup-'));
  try {
    writeFileSync(
      join(dir, '.env'),
      'TCB_ENV_ID=prod-abc123\nTENCENTCLOUD_SECRETID=AKIDdry\nTENCENTCLOUD_SECRETKEY=drysecretkey\n',
    );
    const lines: string[] = [];
    const touched: string[] = [];
    const res = await runDbSetup({
      envFile: join(dir, '.env'),
      dryRun: true,
      log: (l) => lines.push(l),
      db: { createCollection: (name) => Promise.resolve(touched.push(name)) },
    });
    assert.deepEqual(res, { created: [], existing: [] });
    assert.deepEqual(touched, []);
    const out = lines.join('\n');
    assert.match(out, /^dry run: nothing is changed in prod-abc123/);
    for (const spec of DATABASE_PLAN) assert.ok(out.includes(`paste: ${ruleJson(spec)}`), spec.name);
    assert.ok(!out.includes('drysecretkey'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plan: every collection, admin-only rules except read-only products, indexes for the queries', () => {
  assert.deepEqual(DATABASE_PLAN.map((c) => c.name).sort(), Object.values(COLLECTIONS).sort());
  for (const c of DATABASE_PLAN)
    assert.deepEqual(
      c.rule,
      c.name === 'products' ? { read: true, write: false } : { read: false, write: false },
      c.name,
    );
  const orders = DATABASE_PLAN.find((c) => c.name === 'orders')!;
  const keys = (name: string) =>
    orders.indexes
      .find((i) => i.name === name)
      ?.keys.map((k) => `${k.field}:${k.direction}`)
      .join(',');
  assert.equal(keys('openid_createdAt_desc'), 'openid:1,createdAt:-1,_id:-1');
  assert.equal(keys('status_createdAt'), 'status:1,createdAt:1');
  // createPayment finds an idempotent retry by its derived _id: no index of its own
  assert.equal(keys('openid_idempotencyKey_createdAt'), undefined);
  const notifications = DATABASE_PLAN.find((c) => c.name === 'notifications')!;
  assert.ok(
    notifications.indexes.some(
      (i) => i.keys.map((k) => k.field).join(',') === 'eventType,outcome,outTradeNo',
    ),
  );
  const refunds = DATABASE_PLAN.find((c) => c.name === 'refunds')!;
  assert.ok(refunds.indexes.some((i) => i.keys[0].field === 'status'));
  assert.ok(refunds.indexes.some((i) => i.keys[0].field === 'outTradeNo'));
  assert.deepEqual(createIndexesParam(orders)[0], {
    IndexName: 'openid_createdAt_desc',
    MgoKeySchema: {
      MgoIsUnique: false,
      MgoIndexKeys: [
        { Name: 'openid', Direction: '1' },
        { Name: 'createdAt', Direction: '-1' },
        { Name: '_id', Direction: '-1' },
      ],
    },
  });
  assert.match(
    consoleSteps(DATABASE_PLAN, 'e1').join('\n'),
    /索引管理 → 新建索引: name status_createdAt; 非唯一; fields status 升序, createdAt 升序/,
  );
});
