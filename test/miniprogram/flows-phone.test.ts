// The bind-phone logic (logic/phone.ts) through the wx adapter against the local stack: a code the
// simulator issues for the phone's user binds the number; a declined sheet sends nothing; a used
// code, WeChat's quota and a busy WeChat each end in the sentence the page shows, changing nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { PhoneBinding, phoneLabel } from '../../miniprogram/miniprogram/logic/phone';
import { type MiniprogramStack, type Phone, startMiniprogramStack } from './phone';

let stack: MiniprogramStack;
before(async () => {
  stack = await startMiniprogramStack();
});
after(() => stack?.close());

async function phoneCode(phone: Phone, phoneNumber?: string): Promise<string> {
  const body = phoneNumber ? { openid: phone.openid, phoneNumber } : { openid: phone.openid };
  return ((await stack.sim('POST', '/sim/phone-codes', body)) as { code: string }).code;
}

const binding = (phone: Phone) => new PhoneBinding(phone.services.api, phone.services.auth);
const accountCalls = (phone: Phone) => phone.adapter.calls.filter((c) => c.name === 'account');

test('a code from getPhoneNumber binds the number; load() reads it back, masked for the page', async () => {
  const phone = await stack.newPhone();
  const model = binding(phone);
  assert.equal(await model.load(), null, 'signs in silently and finds nothing bound');
  assert.equal(phoneLabel(model.phone), '');
  const outcome = await model.bind({
    code: await phoneCode(phone, '13698765432'),
    errMsg: 'getPhoneNumber:ok',
  });
  assert.equal(outcome.kind, 'bound');
  assert.equal(outcome.message, '已绑定 136****5432');
  const sent = accountCalls(phone).at(-1);
  assert.equal(sent?.data.action, 'bindPhone');
  const again = binding(phone);
  assert.equal((await again.load())?.purePhoneNumber, '13698765432');
  assert.equal(phoneLabel(again.phone), '136****5432');
});

test('declining the sheet sends nothing', async () => {
  const phone = await stack.newPhone();
  const outcome = await binding(phone).bind({ errMsg: 'getPhoneNumber:fail user deny' });
  assert.equal(outcome.kind, 'declined');
  assert.equal(accountCalls(phone).length, 0);
});

test('a used code, the quota and a busy WeChat: one clear sentence each, nothing bound', async () => {
  const phone = await stack.newPhone();
  const model = binding(phone);
  await phone.services.auth.signIn();
  const code = await phoneCode(phone);
  // count 3: the client retries RATE_LIMITED and UPSTREAM_UNAVAILABLE up to DEFAULT_RETRY.attempts
  await stack.sim('POST', '/sim/faults', { target: 'phone', kind: 'rateLimit', count: 3 });
  const quota = await model.bind({ code });
  assert.deepEqual(quota, { kind: 'failed', message: '手机号验证暂不可用，请稍后再试' });
  await stack.sim('POST', '/sim/faults', { target: 'phone', kind: '5xx', count: 3 });
  const busy = await model.bind({ code });
  assert.deepEqual(busy, { kind: 'failed', message: '微信繁忙，请稍后再点一次按钮' });
  assert.equal(await model.load(), null, 'nothing was bound');
  assert.equal((await model.bind({ code })).kind, 'bound', 'the unspent code still works');
  const used = await model.bind({ code });
  assert.deepEqual(used, { kind: 'failed', message: '手机号验证已失效，请再点一次按钮' });
});
