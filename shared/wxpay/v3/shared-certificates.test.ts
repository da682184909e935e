// Platform certificates shared through the database (defect 8 of issue 17): many cold instances hit
// by forged notifications with random serials cause at most one GET /v3/certificates per minute
// across all of them, counted by the WeChat simulator itself. Each instance is a separate
// createWxpayV3 (its own certificate store, no memory shared with the others), the database is the
// CloudBase emulator through the real SDK, WeChat Pay is the simulator in platform-certificate mode.
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../../local/cloudbase/server';
import { openLocalDatabase } from '../../../local/cloudbase/sdk-env';
import { startHarness, type SimHarness } from '../../../local/wechat/testing';
import { COLLECTIONS } from '../../db/collections';
import { DatabaseCertificateStore } from '../../db/platform-certificates';
import { WxpayUpstreamError } from '../errors';
import * as E from './errors';
import { createWxpayV3, parseApiV3Key, type WxpayV3 } from './index';
import { buildTestNotification } from './testing';

process.env.SILENCE = 'true';

let emu: CloudbaseEmulator;
let db: ReturnType<typeof openLocalDatabase>;
let h: SimHarness;
/** Shifts every instance's clock (signing, verification, rate limits) together. */
let offsetMs = 0;
const clock = () => Date.now() + offsetMs;
const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const instances: WxpayV3[] = [];

before(async () => {
  emu = await startCloudbaseEmulator({ collections: Object.values(COLLECTIONS) });
  db = openLocalDatabase(emu.url);
  h = await startHarness({ signingMode: 'certificate' });
});
after(async () => {
  for (const wx of instances) wx.client.close();
  await h.close();
  await emu.close();
});

/** A cold function instance in platform-certificate mode (no public key), sharing the database. */
function coldInstance(opts: { warn?: (m: string) => void } = {}): WxpayV3 {
  const env = h.env;
  const wx = createWxpayV3({
    mchid: env.WXPAY_MCHID,
    serialNo: env.WXPAY_SERIAL_NO,
    privateKey: createPrivateKey(h.data.keys.merchantPrivateKey),
    apiV3Key: parseApiV3Key(env.WXPAY_APIV3_KEY),
    baseURL: h.url,
    clock,
    sharedCertificates: new DatabaseCertificateStore(env.WXPAY_MCHID, () => db),
    ...(opts.warn ? { warn: opts.warn } : {}),
  });
  instances.push(wx);
  return wx;
}

/** A notification signed by a key WeChat never issued, under a serial nobody has seen. */
function forged(): { headers: Record<string, string>; body: string } {
  return buildTestNotification({
    privateKey: strangerKey,
    serial: randomBytes(20).toString('hex').toUpperCase(),
    apiV3Key: parseApiV3Key(h.env.WXPAY_APIV3_KEY),
    eventType: 'TRANSACTION.SUCCESS',
    resource: { out_trade_no: 'T-forged', trade_state: 'SUCCESS' } as never,
    timestamp: Math.floor(clock() / 1000),
  });
}

async function downloads(): Promise<number> {
  const stats = (await h.sim('GET', '/sim/stats')).json as { apiCalls: Record<string, number> };
  return stats.apiCalls.certificates ?? 0;
}

async function refuseAll(wxs: WxpayV3[], perInstance: number): Promise<void> {
  const results = await Promise.allSettled(
    wxs.flatMap((wx) =>
      Array.from({ length: perInstance }, () => {
        const n = forged();
        return wx.notifications!.parse(n.headers, n.body);
      }),
    ),
  );
  for (const r of results) {
    assert.equal(r.status, 'rejected', 'a forged notification is never accepted');
    assert.ok(r.reason instanceof E.WxpayUnknownSerialError, String(r.reason));
  }
}

test('40 cold instances under forged serials: one download across all of them per minute', async () => {
  await h.sim('POST', '/sim/reset');
  await fetch(`${emu.url}/emu/reset`, {
    method: 'POST',
    body: JSON.stringify({ collection: 'platformCertificates' }),
  });
  assert.equal(await downloads(), 0);

  const wave1 = Array.from({ length: 40 }, () => coldInstance());
  await refuseAll(wave1, 3);
  assert.equal(await downloads(), 1, 'one GET /v3/certificates for 40 instances and 120 forged serials');
  assert.equal(
    wave1.reduce((n, wx) => n + wx.certificates!.downloads, 0),
    1,
    'exactly one instance downloaded',
  );

  // The genuine platform certificate is known everywhere without another download: a signed
  // 404 from WeChat verifies on every instance (and is WeChat's verdict).
  const late = Array.from({ length: 10 }, () => coldInstance());
  for (const wx of [...wave1.slice(0, 5), ...late]) {
    await assert.rejects(
      wx.client.queryByOutTradeNo(`T-none-${randomBytes(4).toString('hex')}`),
      (e: unknown) => e instanceof WxpayUpstreamError && e.status === 404,
    );
  }
  assert.equal(await downloads(), 1, 'cold instances take the shared certificates, they do not download');
  const [doc] = (await (await fetch(`${emu.url}/emu/dump/platformCertificates`)).json()) as Array<
    Record<string, unknown>
  >;
  assert.equal(doc._id, h.env.WXPAY_MCHID);
  assert.match(String((doc.certificates as string[])[0]), /^-----BEGIN CERTIFICATE-----/);
  assert.ok(typeof doc.refreshedAtMs === 'number' && doc.savedAtMs === doc.refreshedAtMs);

  // A minute later the next flood may refresh once more — once, whoever it hits.
  offsetMs += 61_000;
  await refuseAll([...wave1.slice(0, 20), ...late], 2);
  assert.equal(await downloads(), 2);
  await refuseAll(
    Array.from({ length: 10 }, () => coldInstance()),
    2,
  );
  assert.equal(await downloads(), 2, 'still within that minute');
});

test('without the collection the store warns once, names the fix, and the instance limits itself', async () => {
  await h.sim('POST', '/sim/reset');
  await fetch(`${emu.url}/emu/reset`, {
    method: 'POST',
    body: JSON.stringify({ collection: 'platformCertificates', drop: true }),
  });
  try {
    offsetMs += 61_000;
    const warnings: string[] = [];
    const wx = coldInstance({ warn: (m) => warnings.push(m) });
    await refuseAll([wx], 3);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /DATABASE_COLLECTION_NOT_EXIST/);
    assert.match(warnings[0], /npm run db-setup/);
    assert.equal(await downloads(), 1, 'one download for this instance, then its own limit holds');
    // Verification keeps working.
    await assert.rejects(
      wx.client.queryByOutTradeNo('T-none'),
      (e: unknown) => e instanceof WxpayUpstreamError && e.status === 404,
    );
  } finally {
    await fetch(`${emu.url}/emu/collections`, {
      method: 'POST',
      body: JSON.stringify({ name: 'platformCertificates' }),
    });
  }
});

test('the database claim: of racing instances exactly one wins, first insert and later updates alike', async () => {
  await fetch(`${emu.url}/emu/reset`, {
    method: 'POST',
    body: JSON.stringify({ collection: 'platformCertificates' }),
  });
  const stores = Array.from({ length: 20 }, () => new DatabaseCertificateStore('1900000109', () => db));
  assert.equal(await stores[0].read(), undefined);
  const first = await Promise.all(stores.map((s) => s.claimRefresh(undefined, 1000)));
  assert.equal(first.filter(Boolean).length, 1);
  assert.deepEqual(await stores[1].read(), { pems: [], refreshedAtMs: 1000, savedAtMs: 0 });
  const second = await Promise.all(stores.map((s) => s.claimRefresh(1000, 70_000)));
  assert.equal(second.filter(Boolean).length, 1);
  assert.equal(await stores[2].claimRefresh(1000, 80_000), false, 'a stale claim loses');
  await stores[3].save(['PEM'], 70_000);
  assert.deepEqual(await stores[4].read(), { pems: ['PEM'], refreshedAtMs: 70_000, savedAtMs: 70_000 });
  // A document without a usable refreshedAtMs reads as "long ago" and can be claimed.
  await db
    .collection('platformCertificates')
    .doc('1900000109')
    .update({ refreshedAtMs: db.command.remove() });
  assert.equal((await stores[5].read())?.refreshedAtMs, 0);
  assert.equal(await stores[5].claimRefresh(0, 90_000), true);
  assert.equal((await stores[6].read())?.refreshedAtMs, 90_000);
});
