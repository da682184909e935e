// startLocalStack on ephemeral ports: the functions' URL variables point at this stack, the catalog is
// seeded once, functions reach the emulator, the console is mounted, close() frees every port.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildFixtureFunctions } from '../local/host/fixtures/build-fixtures';
import { openLocalDatabase } from '../local/cloudbase/sdk-env';
import { SEED_PRODUCTS } from '../local/seed/products';
import { seedDatabase } from '../local/seed/seed';
import { startLocalStack, type LocalStack } from '../local/stack';

let dir: string;
let stack: LocalStack;

async function call(name: string, data: unknown, openid?: string) {
  const res = await fetch(`${stack.hostUrl}/functions/${name}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(openid ? { 'x-wx-openid': openid, 'x-wx-appid': stack.env.WX_APPID } : {}),
    },
    body: JSON.stringify(data),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxcloud-stack-test-'));
  await buildFixtureFunctions(join(dir, 'functions'), ['echo', 'dbprobe']);
  stack = await startLocalStack({
    dataDir: join(dir, 'data'),
    inMemory: true,
    ports: { host: 0, wechatSim: 0, cloudbaseEmu: 0 },
    buildDir: join(dir, 'functions'),
    quiet: true,
  });
});

after(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the functions see URL variables pointing at this stack and the emulator/simulator answer there', async () => {
  const keys = [
    'WXPAY_BASE_URL',
    'WECHAT_API_BASE_URL',
    'WXPAY_NOTIFY_URL',
    'WXPAY_REFUND_NOTIFY_URL',
    'WX_APPID',
    'TCB_CONTEXT_CNFG',
  ];
  const { status, body } = await call('echo', { envKeys: keys });
  assert.equal(status, 200);
  const env = body.result.env;
  assert.equal(env.WXPAY_BASE_URL, stack.simUrl);
  assert.equal(env.WECHAT_API_BASE_URL, stack.simUrl);
  assert.equal(env.WXPAY_NOTIFY_URL, `${stack.hostUrl}/pay/notify`);
  assert.equal(env.WXPAY_REFUND_NOTIFY_URL, `${stack.hostUrl}/refund/notify`);
  assert.equal(env.WX_APPID, stack.localData.env.WX_APPID);
  assert.ok(env.TCB_CONTEXT_CNFG.includes(stack.emuUrl));
  for (const u of [stack.hostUrl, stack.simUrl, stack.emuUrl]) assert.match(u, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(stack.ports.host, 0);
});

test('the catalog is seeded (integer prices, one inactive) and seeding again changes nothing', async () => {
  const db = openLocalDatabase(stack.emuUrl);
  const got = (await db.collection('products').limit(100).get()) as { data: Array<Record<string, unknown>> };
  assert.equal(got.data.length, SEED_PRODUCTS.length);
  for (const p of SEED_PRODUCTS) {
    const doc = got.data.find((d) => d._id === p._id);
    assert.ok(doc, p._id);
    assert.equal(doc.priceFen, p.priceFen);
    assert.ok(Number.isInteger(doc.priceFen) && doc.priceFen > 0);
  }
  assert.equal(SEED_PRODUCTS.filter((p) => !p.active).length, 1);
  await db.collection('products').doc('tea-oolong').update({ priceFen: 1600 });
  const again = await seedDatabase(stack.emuUrl);
  assert.deepEqual(again, { collectionsCreated: [], productsCreated: [] });
  const tea = (await db.collection('products').doc('tea-oolong').get()) as {
    data: Array<{ priceFen: number }>;
  };
  assert.equal(tea.data[0].priceFen, 1600, 'a restart keeps local edits');
  await db.collection('products').doc('tea-oolong').update({ priceFen: 1500 });
});

test('a function reads and writes the emulator through wx-server-sdk', async () => {
  const first = await call('dbprobe', { tag: 'a' }, 'o-stack-1');
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.result.visits, 1);
  assert.equal(first.body.result.activeProducts, SEED_PRODUCTS.filter((p) => p.active).length);
  const second = await call('dbprobe', { tag: 'b' }, 'o-stack-1');
  assert.equal(second.body.result.visits, 2);
  const db = openLocalDatabase(stack.emuUrl);
  const doc = (await db.collection('users').doc('probe-o-stack-1').get()) as {
    data: Array<{ visits: number; tag: string }>;
  };
  assert.deepEqual({ visits: doc.data[0].visits, tag: doc.data[0].tag }, { visits: 2, tag: 'b' });
});

test('the web console is mounted on the host and close() frees every port', async () => {
  const page = await fetch(`${stack.hostUrl}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  await page.text();
  const ports = [stack.ports.host, stack.ports.wechatSim, stack.ports.cloudbaseEmu];
  await stack.close();
  for (const p of ports) assert.ok(await portIsFree(p), `port ${p} is free`);
});
