// The phone number as stored and as shown to anyone but its owner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskPhone, phoneFromWechat } from './phone';

test('masking keeps only what identifies nobody', () => {
  assert.equal(maskPhone('13800000000'), '138****0000');
  assert.equal(maskPhone('5551234'), '55****34');
  assert.equal(maskPhone('1234'), '****');
});

test("WeChat's phone_info is taken as given; the country code may be a number or a string", () => {
  const at = new Date('2026-01-02T03:04:05Z');
  const info = { phoneNumber: '+15551234', purePhoneNumber: '5551234', watermark: {} };
  assert.deepEqual(phoneFromWechat({ phone_info: { ...info, countryCode: 1 } }, at), {
    phoneNumber: '+15551234',
    purePhoneNumber: '5551234',
    countryCode: '1',
    verifiedAt: at,
  });
  assert.equal(phoneFromWechat({ phone_info: { ...info, countryCode: '1' } }, at).countryCode, '1');
});

test('a malformed answer is refused without repeating its content', () => {
  const at = new Date();
  for (const body of [
    {},
    { phone_info: null },
    { phone_info: { phoneNumber: '13800000000', purePhoneNumber: '13800000000' } },
    { phone_info: { phoneNumber: '138 0000 0000', purePhoneNumber: '13800000000', countryCode: '86' } },
    { phone_info: { phoneNumber: '13800000000', purePhoneNumber: { $ne: 1 }, countryCode: '86' } },
  ]) {
    assert.throws(
      () => phoneFromWechat(body, at),
      (err: Error & { code?: string }) =>
        err.code === 'UPSTREAM_UNAVAILABLE' && !err.message.includes('13800000000'),
    );
  }
});
