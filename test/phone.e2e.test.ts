// Phone number binding end to end (issue 18 part 1): the account callable exchanges the code of
// `<button open-type="getPhoneNumber">` through the simulator (云调用 through the emulator, and https
// with stable_token), stores it on the caller's user document, returns it to its owner only, shows it
// masked in the console, never logs it, and refuses bad, used or foreign codes with a clear error and
// no change. Generated bad input gets an error envelope and writes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AccountResponse } from '../shared/contracts/api';
import { readConsoleState } from '../local/console/state';
import { startE2E, type E2E, type TestUser } from './support/e2e';
import { rng } from './support/fuzz';

let e: E2E;
const lines: string[] = [];

before(async () => {
  e = await startE2E({ host: { functionOutput: (name, line) => void lines.push(`[${name}] ${line}`) } });
});
after(async () => {
  await e?.close();
});

async function signedInUser(): Promise<TestUser> {
  const user = await e.newUser();
  await e.login(user);
  return user;
}

async function phoneCode(openid: string, phoneNumber?: string): Promise<string> {
  const body = phoneNumber ? { openid, phoneNumber } : { openid };
  return (await e.sim<{ code: string }>('POST', '/sim/phone-codes', body)).code;
}

const account = (user: TestUser | undefined, data: unknown) =>
  e.call<AccountResponse>('account', data, user ? { openid: user.openid } : {});

async function userDoc(openid: string): Promise<Record<string, unknown> | undefined> {
  return (await e.dump('users')).find((u) => u._id === openid);
}

describe('binding a phone number', () => {
  it('binds the verified number, returns it to its owner only and masks it in the console', async () => {
    const alice = await signedInUser();
    const bob = await signedInUser();
    const bound = await account(alice, {
      action: 'bindPhone',
      code: await phoneCode(alice.openid, '13812340000'),
    });
    assert.ok(bound.ok, JSON.stringify(bound));
    assert.deepEqual(
      { ...bound.data.phone, verifiedAt: undefined },
      {
        phoneNumber: '13812340000',
        purePhoneNumber: '13812340000',
        countryCode: '86',
        masked: '138****0000',
        verifiedAt: undefined,
      },
    );
    const stored = (await userDoc(alice.openid))?.phone as Record<string, unknown>;
    assert.equal(stored.purePhoneNumber, '13812340000');
    assert.equal(stored.countryCode, '86');
    assert.ok(stored.verifiedAt, 'verifiedAt is stored');

    const mine = await account(alice, { action: 'getPhone' });
    assert.ok(mine.ok);
    assert.equal(mine.data.phone?.phoneNumber, '13812340000');
    const theirs = await account(bob, { action: 'getPhone' });
    assert.deepEqual(theirs, { ok: true, data: { phone: null } }, "another user never reads Alice's number");
    for (const other of ['orders', 'login'] as const) {
      const r = await e.call(other, other === 'orders' ? { action: 'list' } : {}, { openid: bob.openid });
      assert.ok(!JSON.stringify(r).includes('13812340000'), `${other} never carries a phone number`);
    }
    const anonymous = await account(undefined, { action: 'getPhone' });
    assert.equal(!anonymous.ok && anonymous.error.code, 'UNAUTHENTICATED');

    const console = await readConsoleState(e.emuUrl, e.simUrl);
    const row = console.users.find((u) => u._id === alice.openid);
    assert.equal(row?.phone, '138****0000');
    assert.ok(!JSON.stringify(console).includes('13812340000'), 'the console shows the number masked only');
    assert.ok(!lines.join('\n').includes('13812340000'), 'the number never reaches a function log');
  });

  it('a newer verification replaces the number; binding again with the same number changes nothing else', async () => {
    const user = await signedInUser();
    const first = await account(user, {
      action: 'bindPhone',
      code: await phoneCode(user.openid, '13900000001'),
    });
    assert.ok(first.ok);
    const second = await account(user, {
      action: 'bindPhone',
      code: await phoneCode(user.openid, '13900000002'),
    });
    assert.ok(second.ok);
    assert.equal(second.data.phone?.purePhoneNumber, '13900000002');
    const doc = await userDoc(user.openid);
    assert.equal((doc?.phone as { purePhoneNumber: string }).purePhoneNumber, '13900000002');
    assert.equal(doc?.loginCount, 1, 'binding is not a login');
  });

  it('used, unknown or foreign codes: INVALID_ARGUMENT asking to tap again, and nothing changes', async () => {
    const alice = await signedInUser();
    const bob = await signedInUser();
    const code = await phoneCode(alice.openid, '13700000000');
    assert.ok((await account(alice, { action: 'bindPhone', code })).ok);
    const before = await e.dumpAll();
    const used = await account(alice, { action: 'bindPhone', code });
    assert.ok(!used.ok);
    assert.equal(used.error.code, 'INVALID_ARGUMENT');
    assert.equal(used.error.upstream, '40029');
    assert.match(used.error.message, /tap the button again/);
    const unknown = await account(alice, { action: 'bindPhone', code: 'no-such-code-123' });
    assert.equal(!unknown.ok && unknown.error.upstream, '40029');
    // Bob replays a code WeChat issued to Alice: WeChat checks it against Bob's openid.
    const stolen = await account(bob, {
      action: 'bindPhone',
      code: await phoneCode(alice.openid, '13600000000'),
    });
    assert.equal(!stolen.ok && stolen.error.code, 'INVALID_ARGUMENT');
    assert.equal(await e.dumpAll(), before, 'a refused code writes nothing');
  });

  it('a caller who never logged in is told to log in first, and the code is not spent', async () => {
    const user = await e.newUser();
    const code = await phoneCode(user.openid);
    const before = await e.dumpAll();
    const early = await account(user, { action: 'bindPhone', code });
    assert.equal(!early.ok && early.error.code, 'NOT_FOUND');
    assert.match(!early.ok ? early.error.message : '', /call login first/);
    assert.equal(await e.dumpAll(), before);
    await e.login(user);
    assert.ok((await account(user, { action: 'bindPhone', code })).ok, 'the same code still works');
  });

  it("WeChat's quota and outages map to RATE_LIMITED and UPSTREAM_UNAVAILABLE, writing nothing", async () => {
    const user = await signedInUser();
    const code = await phoneCode(user.openid);
    const before = await e.dumpAll();
    await e.sim('POST', '/sim/faults', { target: 'phone', kind: 'rateLimit', count: 1 });
    const quota = await account(user, { action: 'bindPhone', code });
    assert.ok(!quota.ok);
    assert.deepEqual([quota.error.code, quota.error.upstream], ['RATE_LIMITED', '1400001']);
    assert.match(quota.error.message, /quota/);
    await e.sim('POST', '/sim/faults', { target: 'phone', kind: '5xx', count: 1 });
    const busy = await account(user, { action: 'bindPhone', code });
    assert.equal(!busy.ok && busy.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.equal(await e.dumpAll(), before);
    assert.ok((await account(user, { action: 'bindPhone', code })).ok, 'the code survives the failures');
  });

  it('works over https with stable_token as well (WECHAT_OPENAPI_MODE=https)', async () => {
    e.setEnv({ WECHAT_OPENAPI_MODE: 'https' });
    try {
      const user = await signedInUser();
      const before = (await e.sim<{ openapi: Record<string, { https: number }> }>('GET', '/sim/stats'))
        .openapi;
      const r = await account(user, {
        action: 'bindPhone',
        code: await phoneCode(user.openid, '15000000000'),
      });
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.data.phone?.masked, '150****0000');
      const after = (await e.sim<{ openapi: Record<string, { https: number }> }>('GET', '/sim/stats'))
        .openapi;
      assert.equal(after.getuserphonenumber.https, (before.getuserphonenumber?.https ?? 0) + 1);
    } finally {
      e.setEnv({ WECHAT_OPENAPI_MODE: undefined });
    }
  });
});

const BAD: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  [],
  ['code'],
  {},
  { $ne: null },
  { $regex: '.*' },
  { _bsontype: 'ObjectID', id: 'x' },
  { __proto__: { admin: true } },
  '',
  ' ',
  'short',
  'x'.repeat(129),
  'x'.repeat(5000),
  '../../etc/passwd',
  'code\u0000code',
  'has space in it',
  '手机号手机号手机号手机号',
  '<script>alert(1)</script>',
  '${7*7}',
];

describe('fuzzing the account callable', () => {
  it('every generated bad input is an error envelope without a stack or secret, and writes nothing', async () => {
    const user = await signedInUser();
    const r = rng(18);
    const pick = () => BAD[Math.floor(r() * BAD.length)];
    const cases: Array<{ data: unknown; as: TestUser | undefined }> = [];
    for (let i = 0; i < 60; i++) {
      const kind = Math.floor(r() * 5);
      if (kind === 0) cases.push({ data: { action: pick() }, as: user });
      else if (kind === 1) cases.push({ data: { action: 'bindPhone', code: pick() }, as: user });
      else if (kind === 2) cases.push({ data: { action: 'bindPhone' }, as: user });
      else if (kind === 3)
        cases.push({ data: { action: 'bindPhone', code: 'valid-looking-code' }, as: undefined });
      // a number the client names itself is never taken: only WeChat's answer is stored
      else
        cases.push({ data: { action: 'bindPhone', code: pick(), purePhoneNumber: '13800000000' }, as: user });
    }
    const before = await e.dumpAll();
    const secrets = ['JWT_SECRET', 'WX_APPSECRET', 'WXPAY_APIV3_KEY'].map((k) => e.baseEnv[k]);
    for (const c of cases) {
      const raw = await e.callRaw('account', c.data, c.as ? { openid: c.as.openid } : {});
      assert.equal(raw.status, 200, `the function answered ${JSON.stringify(c.data)}`);
      const result = (raw.json as { result: { ok: boolean; error?: { code: string; message: string } } })
        .result;
      assert.equal(result.ok, false, `refused: ${JSON.stringify(c.data)}`);
      assert.match(result.error!.code, /^(INVALID_ARGUMENT|UNAUTHENTICATED)$/, JSON.stringify(c.data));
      const text = JSON.stringify(result);
      assert.ok(!/\bat \S+ \(|\.ts:\d+|node_modules/.test(text), `no stack trace: ${text}`);
      for (const s of secrets) assert.ok(!text.includes(s), 'no secret in the answer');
    }
    assert.equal(await e.dumpAll(), before, 'nothing was written');
  });
});
