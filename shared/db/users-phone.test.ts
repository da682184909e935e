// users.bindPhone against the real CloudBase emulator: a conditional update that a slower, older
// verification never wins, that changes nothing when repeated, and that never creates a user.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { COLLECTIONS } from './collections';
import { repositoriesOf, type Repositories } from './repositories';

let emu: CloudbaseEmulator;
let db: Repositories;

before(async () => {
  emu = await startCloudbaseEmulator({ port: 0, collections: Object.values(COLLECTIONS) });
  db = repositoriesOf(openLocalDatabase(emu.url));
});
after(() => emu.close());

const phone = (pure: string, at: string) => ({
  phoneNumber: pure,
  purePhoneNumber: pure,
  countryCode: '86',
  verifiedAt: new Date(at),
});

test('binds, lets a newer verification replace it, and keeps it against an older one', async () => {
  await db.users.recordLogin({ openid: 'o-phone-1', appid: 'wx1', now: new Date('2026-01-01T00:00:00Z') });
  const first = await db.users.bindPhone('o-phone-1', phone('13800000001', '2026-01-01T01:00:00Z'));
  assert.equal(first.outcome, 'applied');
  const newer = await db.users.bindPhone('o-phone-1', phone('13800000002', '2026-01-01T02:00:00Z'));
  assert.equal(newer.outcome, 'applied');
  const older = await db.users.bindPhone('o-phone-1', phone('13800000003', '2026-01-01T01:30:00Z'));
  assert.equal(older.outcome, 'newer');
  assert.equal(older.outcome === 'newer' && older.phone.purePhoneNumber, '13800000002');
  const user = await db.users.get('o-phone-1');
  assert.equal(user?.phone?.purePhoneNumber, '13800000002');
  assert.ok(user?.phone?.verifiedAt instanceof Date);
  assert.equal(user?.loginCount, 1);
});

test('a repeat of the same verification leaves the same document', async () => {
  await db.users.recordLogin({ openid: 'o-phone-2', appid: 'wx1', now: new Date() });
  const p = phone('13900000000', '2026-02-01T00:00:00Z');
  await db.users.bindPhone('o-phone-2', p);
  const once = await db.users.get('o-phone-2');
  const again = await db.users.bindPhone('o-phone-2', p);
  assert.notEqual(again.outcome, 'missing');
  assert.deepEqual(await db.users.get('o-phone-2'), once);
});

test('a user who never logged in is missing, and no document is created', async () => {
  const r = await db.users.bindPhone('o-phone-nobody', phone('13700000000', '2026-01-01T00:00:00Z'));
  assert.equal(r.outcome, 'missing');
  assert.equal(await db.users.get('o-phone-nobody'), undefined);
});
