// The declared formats alone (EnvReader.check), as a need without a reader of its own is checked,
// and AppConfig's accessors for variables without a section.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { ConfigError, createConfig, type VariableName } from './index';
import { EnvReader } from './env-reader';

function rejects(env: Record<string, string>, name: VariableName, pattern: RegExp, secret?: string) {
  let caught: unknown;
  try {
    new EnvReader(env).check(name);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `${name} is refused`);
  assert.equal(caught.variable, name);
  assert.match(caught.message, new RegExp(`^${name} `));
  assert.match(caught.message, pattern);
  if (secret) assert.ok(!caught.message.includes(secret) && !inspect(caught).includes(secret));
}

test('check: every format kind accepts a good value and refuses a bad one with the fix', () => {
  const good = {
    WXPAY_MCHID: '1900000109',
    WXPAY_V2_SIGN_TYPE: 'MD5',
    REFUND_WINDOW_HOURS: '24',
    WXPAY_APIV3_KEY: 'a'.repeat(32),
    WXPAY_BASE_URL: 'https://example.com/',
    ADMIN_OPENIDS: 'oAdmin_1, oAdmin-2',
  };
  for (const name of Object.keys(good) as VariableName[]) new EnvReader(good).check(name);
  rejects({ WXPAY_MCHID: '12ab' }, 'WXPAY_MCHID', /numeric merchant id.*商户号/);
  rejects({}, 'WXPAY_MCHID', /is not set; add it to this function's environment variables \(copy it from/);
  rejects({ WXPAY_V2_SIGN_TYPE: 'SHA1' }, 'WXPAY_V2_SIGN_TYPE', /"HMAC-SHA256" \(default\) or "MD5"/);
  rejects({ REFUND_WINDOW_HOURS: '1e3' }, 'REFUND_WINDOW_HOURS', /whole number of hours.*default 168/);
  const shortKey = 'k'.repeat(31);
  rejects({ WXPAY_APIV3_KEY: shortKey }, 'WXPAY_APIV3_KEY', /exactly 32 bytes \(it is 31\)/, shortKey);
  rejects(
    { WXPAY_BASE_URL: 'https://a.example/#x' },
    'WXPAY_BASE_URL',
    /fragment.*set it like https:\/\/api\.mch/,
  );
  rejects({ ADMIN_OPENIDS: 'ok_openid_1,no' }, 'ADMIN_OPENIDS', /entry 2 is not an openid/);
  const secret = 'not-hex-secret-value';
  rejects({ WX_APPSECRET: secret }, 'WX_APPSECRET', /32 hex characters \(it is 20 characters\)/, secret);
});

test('required: a mode-specific reason replaces the generic fix', () => {
  assert.throws(
    () => new EnvReader({}).required('WXPAY_MERCHANT_CERT', 'v2 refunds over https need it'),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message === 'WXPAY_MERCHANT_CERT is not set; v2 refunds over https need it',
  );
});

test('AppConfig reads a variable without a section by its declared format, once', () => {
  const config = createConfig({
    ADMIN_OPENIDS: 'oA_123456',
    REFUND_WINDOW_HOURS: '',
    WXPAY_MCHID: '1900000109',
  });
  assert.deepEqual(config.list('ADMIN_OPENIDS'), ['oA_123456']);
  assert.equal(config.list('ADMIN_OPENIDS'), config.list('ADMIN_OPENIDS'));
  assert.equal(config.integer('REFUND_WINDOW_HOURS'), 168);
  assert.equal(config.text('WXPAY_MCHID'), '1900000109');
  assert.equal(config.choice('WXPAY_API_VERSION'), 'v3');
});
