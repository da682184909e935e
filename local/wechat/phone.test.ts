// 手机号快速验证 in the simulator: codes from the control API, one use each within 5 minutes and for
// their own mini-program and openid, WeChat's answer shape, 40029, faults on target `phone` (1400001
// for the quota), both origins (access_token and 云调用) and the `/sim/stats` count.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type SimHarness } from './testing';

let h: SimHarness;

before(async () => {
  h = await startHarness();
});
after(() => h.close());

const token = () => h.accessToken();

async function phoneCode(body: Record<string, unknown>): Promise<string> {
  const r = await h.sim('POST', '/sim/phone-codes', body);
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.json.expiresAt), /^\d{4}-\d\d-\d\dT/);
  return r.json.code as string;
}

async function exchange(body: unknown, accessToken: string): Promise<Record<string, unknown>> {
  const r = await h.sim('POST', `/wxa/business/getuserphonenumber?access_token=${accessToken}`, body);
  assert.equal(r.status, 200, 'WeChat answers errors with HTTP 200');
  return r.json;
}

test('a code is exchanged once for the number the user chose, with a watermark for the app', async () => {
  const t = await token();
  const openid = await h.user();
  const code = await phoneCode({ openid, phoneNumber: '13912345678' });
  const first = await exchange({ code, openid }, t);
  assert.equal(first.errcode, 0);
  const info = first.phone_info as Record<string, unknown>;
  assert.deepEqual(
    { phoneNumber: info.phoneNumber, purePhoneNumber: info.purePhoneNumber, countryCode: info.countryCode },
    { phoneNumber: '13912345678', purePhoneNumber: '13912345678', countryCode: '86' },
  );
  const watermark = info.watermark as { appid: string; timestamp: number };
  assert.equal(watermark.appid, h.env.WX_APPID);
  assert.ok(Math.abs(watermark.timestamp - Date.now() / 1000) < 60);
  assert.equal((await exchange({ code }, t)).errcode, 40029, 'a code is good for one exchange');
});

test('foreign numbers carry the country code; a default number is stable per user', async () => {
  const t = await token();
  const openid = await h.user();
  const foreign = await exchange(
    { code: await phoneCode({ openid, phoneNumber: '5551234', countryCode: '1' }) },
    t,
  );
  assert.deepEqual(
    [
      (foreign.phone_info as Record<string, unknown>).phoneNumber,
      (foreign.phone_info as Record<string, unknown>).purePhoneNumber,
    ],
    ['+15551234', '5551234'],
  );
  const a = await exchange({ code: await phoneCode({ openid }) }, t);
  const b = await exchange({ code: await phoneCode({ openid }) }, t);
  const number = (a.phone_info as { purePhoneNumber: string }).purePhoneNumber;
  assert.match(number, /^138\d{8}$/);
  assert.equal((b.phone_info as { purePhoneNumber: string }).purePhoneNumber, number);
});

test('40029: unknown, expired, another openid; 47001 without a code; control errors are clear', async () => {
  const t = await token();
  const openid = await h.user();
  const other = await h.user();
  assert.equal((await exchange({ code: 'no-such-code' }, t)).errcode, 40029);
  assert.equal((await exchange({}, t)).errcode, 47001);
  assert.equal((await exchange({ code: 42 }, t)).errcode, 47001);
  const stolen = await phoneCode({ openid });
  assert.equal((await exchange({ code: stolen, openid: other }, t)).errcode, 40029);
  const late = await phoneCode({ openid });
  assert.equal((await h.sim('POST', '/sim/clock', { advanceSeconds: 301 })).status, 200);
  assert.equal((await exchange({ code: late }, t)).errcode, 40029, 'codes last 5 minutes');
  assert.equal(
    (await h.sim('POST', `/wxa/business/getuserphonenumber?access_token=nope`, {})).json.errcode,
    40001,
  );

  const unknownUser = await h.sim('POST', '/sim/phone-codes', { openid: 'o-nobody-here' });
  assert.equal(unknownUser.status, 404);
  assert.match(String(unknownUser.json.error), /POST \/sim\/users/);
  const badNumber = await h.sim('POST', '/sim/phone-codes', { openid, phoneNumber: '12345' });
  assert.equal(badNumber.status, 400);
  assert.match(String(badNumber.json.error), /11-digit/);
});

test('faults on target phone, the 云调用 origin and /sim/stats', async () => {
  await h.sim('POST', '/sim/reset');
  const t = await token();
  const openid = await h.user();
  const code = await phoneCode({ openid });
  assert.equal((await h.sim('POST', '/sim/faults', { target: 'phone', kind: 'rateLimit' })).status, 200);
  assert.equal((await exchange({ code }, t)).errcode, 1400001);
  await h.sim('POST', '/sim/faults', { target: 'phone', kind: '5xx' });
  assert.equal((await exchange({ code }, t)).errcode, -1);
  const noApp = await h.sim('POST', '/_cloudcall/phonenumber.getPhoneNumber', { code });
  assert.equal(noApp.json.errcode, 40013, 'a 云调用 must name the mini-program');
  const viaCloud = await fetch(`${h.url}/_cloudcall/phonenumber.getPhoneNumber`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-wx-cloud-appid': h.env.WX_APPID },
    body: JSON.stringify({ code }),
  });
  const answer = (await viaCloud.json()) as { errcode: number; phone_info?: unknown };
  assert.equal(answer.errcode, 0, 'faults spent no code');
  assert.ok(answer.phone_info);
  const stats = await h.sim('GET', '/sim/stats');
  assert.deepEqual((stats.json as { openapi: unknown }).openapi, {
    getuserphonenumber: { cloud: 1, https: 2 },
  });
});
