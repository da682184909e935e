import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { ensureLocalData, type LocalData } from '../../local/setup/local-data';
import {
  ConfigError,
  FUNCTION_NAMES,
  FUNCTION_VARIABLES,
  SECRET_VARIABLES,
  Secret,
  createConfig,
  variablesFor,
  type Env,
  type Need,
  type PayMode,
  type VariableName,
  NEEDS,
  variableSpec,
} from './index';

let dir: string;
let local: LocalData;
let base: Record<string, string>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxpay-config-'));
  local = await ensureLocalData(dir);
  base = { ...local.env, ADMIN_OPENIDS: 'oAdmin_openid_1,oAdmin-openid-2' };
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** An env that records every variable the config reads. */
function recording(env: Record<string, string>): { env: Env; reads: Set<string> } {
  const reads = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, prop) {
      if (typeof prop === 'string') reads.add(prop);
      return target[prop as string];
    },
  });
  return { env: proxy, reads };
}

function expectConfigError(
  fn: () => unknown,
  variable: string,
  pattern: RegExp,
  secretValue?: string,
): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError for ${variable}, got ${String(caught)}`);
  assert.equal(caught.variable, variable);
  assert.ok(caught.message.includes(variable), `message names ${variable}: ${caught.message}`);
  assert.match(caught.message, pattern);
  if (secretValue !== undefined && secretValue.length >= 4) {
    assert.ok(!caught.message.includes(secretValue), `message must not echo the value of ${variable}`);
    assert.ok(!inspect(caught).includes(secretValue));
  }
  return caught;
}

describe('config: per-function variables', () => {
  for (const mode of ['v3', 'v2'] as const) {
    for (const name of FUNCTION_NAMES) {
      test(`${mode} ${name} reads exactly what variablesFor lists`, () => {
        const env = { ...base, WXPAY_API_VERSION: mode, WXPAY_MERCHANT_CERT: local.keys.merchantCertificate };
        const { env: proxy, reads } = recording(env);
        createConfig(proxy).validateFor(name);
        const vars = variablesFor(name, env);
        for (const r of vars.required) assert.ok(reads.has(r), `${name} (${mode}) must read required ${r}`);
        for (const r of reads as Set<VariableName>)
          assert.ok(
            vars.required.includes(r) || vars.optional.includes(r),
            `${name} (${mode}) reads ${r}, which is not listed`,
          );
        // and each required variable is really required
        for (const r of vars.required) {
          const without = { ...env, [r]: '' };
          expectConfigError(() => createConfig(without).validateFor(name), r, /not set/);
        }
      });
    }
  }

  test('a configuration that passed is not read again; one that failed is checked again on the next call', () => {
    const { env: proxy, reads } = recording({ ...base });
    const config = createConfig(proxy);
    config.validateFor('payNotify');
    assert.ok(reads.size > 0);
    reads.clear();
    config.validateFor('payNotify');
    assert.equal(reads.size, 0, `read again: ${[...reads].join(', ')}`);
    config.validateFor('orders'); // another function's declaration is its own check
    assert.ok(reads.size > 0);

    const broken = createConfig({ ...base, WXPAY_APIV3_KEY: '' });
    for (let i = 0; i < 2; i++)
      expectConfigError(() => broken.validateFor('payNotify'), 'WXPAY_APIV3_KEY', /not set/);
  });

  test('FUNCTION_VARIABLES: the default-mode requirements, and everything any mode reads; login needs only its three secrets', () => {
    const modes = [
      {},
      { WXPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_1', WXPAY_PUBLIC_KEY: 'k' },
      { WXPAY_API_VERSION: 'v2' },
      { WXPAY_API_VERSION: 'v2', WXPAY_BASE_URL: 'http://127.0.0.1:3100' },
    ];
    for (const name of FUNCTION_NAMES) {
      const { required, optional } = FUNCTION_VARIABLES[name];
      assert.deepEqual(required, variablesFor(name, {}).required);
      const anyMode = new Set(modes.flatMap((env) => Object.values(variablesFor(name, env)).flat()));
      assert.deepEqual(new Set([...required, ...optional]), anyMode, name);
    }
    assert.ok(!variablesFor('createPayment').optional.includes('WXPAY_APIV2_KEY'), 'v3 gets no v2 key');
    assert.deepEqual(FUNCTION_VARIABLES.login.required, ['WX_APPID', 'WX_APPSECRET', 'JWT_SECRET']);
    assert.ok(!FUNCTION_VARIABLES.payNotify.required.includes('JWT_SECRET'));
    assert.ok(FUNCTION_VARIABLES.refund.optional.includes('ADMIN_OPENIDS'));
    assert.ok(
      variablesFor('refund', { WXPAY_API_VERSION: 'v2' }).required.includes('WXPAY_MERCHANT_CERT'),
      'v2 refund over the default https base URL needs the client certificate',
    );
    assert.ok(
      !variablesFor('refund', {
        WXPAY_API_VERSION: 'v2',
        WXPAY_BASE_URL: 'http://127.0.0.1:3100',
      }).required.includes('WXPAY_MERCHANT_CERT'),
    );
  });

  test('a need whose variables depend on the pay mode declares that it reads WXPAY_API_VERSION', () => {
    const modes: PayMode[] = [
      { apiVersion: 'v3', publicKey: false, https: true },
      { apiVersion: 'v3', publicKey: true, https: true },
      { apiVersion: 'v2', publicKey: false, https: true },
      { apiVersion: 'v2', publicKey: false, https: false },
    ];
    for (const [name, need] of Object.entries(NEEDS) as Array<[string, Need]>) {
      const lists = modes.map((mode) => need.variables(mode));
      const varies = lists.some((l) => JSON.stringify(l) !== JSON.stringify(lists[0]));
      if (varies)
        for (const l of lists)
          assert.ok(l.optional?.includes('WXPAY_API_VERSION'), `${name} lists WXPAY_API_VERSION`);
    }
  });

  test('an unknown WXPAY_API_VERSION is the first problem, whatever else is missing', () => {
    for (const name of ['createPayment', 'payNotify', 'reconcile'] as const)
      expectConfigError(
        () => createConfig({ ...base, WXPAY_API_VERSION: 'v4', WXPAY_SERIAL_NO: '' }).validateFor(name),
        'WXPAY_API_VERSION',
        /"v3" \(default\) or "v2"; remove it to use v3/,
      );
  });

  test('every variable a function reads says how to fix it, and secrets are declared so', () => {
    for (const name of FUNCTION_NAMES)
      for (const v of Object.values(FUNCTION_VARIABLES[name]).flat()) {
        const spec = variableSpec(v);
        assert.ok(spec.fix !== undefined || spec.default !== undefined, `${v} has a fix or a default`);
      }
    for (const v of [
      'WX_APPSECRET',
      'JWT_SECRET',
      'WXPAY_PRIVATE_KEY',
      'WXPAY_APIV3_KEY',
      'WXPAY_APIV2_KEY',
    ] as const)
      assert.ok(SECRET_VARIABLES.has(v), v);
  });

  test('notification endpoints: public-key mode needs no merchant key; certificate mode does; a half pair is refused', () => {
    const noKey = { ...base, WXPAY_SERIAL_NO: '', WXPAY_PRIVATE_KEY: '' };
    for (const name of ['payNotify', 'refundNotify'] as const) {
      const vars = variablesFor(name, noKey);
      assert.ok(!vars.required.includes('WXPAY_PRIVATE_KEY') && !vars.required.includes('WXPAY_SERIAL_NO'));
      assert.ok(
        vars.required.includes('WXPAY_PUBLIC_KEY') &&
          vars.required.includes('WXPAY_PUBLIC_KEY_ID') &&
          vars.required.includes('WXPAY_APIV3_KEY'),
      );
      assert.ok(
        vars.optional.includes('WXPAY_PRIVATE_KEY'),
        'still accepted, for certificate-signed notifications',
      );
      createConfig(noKey).validateFor(name);
      const c = createConfig(noKey).notifyV3();
      assert.equal(c.merchant, undefined);
      assert.equal(c.publicKey?.id, base.WXPAY_PUBLIC_KEY_ID);
      assert.ok(createConfig(base).notifyV3().merchant, 'with the key, certificates can be downloaded too');
      // the other functions still sign requests
      expectConfigError(() => createConfig(noKey).validateFor('reconcile'), 'WXPAY_SERIAL_NO', /not set/);
      // platform-certificate mode downloads certificates with a signed request
      const certMode = { ...noKey, WXPAY_PUBLIC_KEY: '', WXPAY_PUBLIC_KEY_ID: '' };
      assert.ok(variablesFor(name, certMode).required.includes('WXPAY_PRIVATE_KEY'));
      expectConfigError(() => createConfig(certMode).validateFor(name), 'WXPAY_SERIAL_NO', /not set/);
      expectConfigError(
        () => createConfig({ ...noKey, WXPAY_SERIAL_NO: base.WXPAY_SERIAL_NO }).validateFor(name),
        'WXPAY_PRIVATE_KEY',
        /not set but WXPAY_SERIAL_NO is.*both .* or neither/,
      );
      expectConfigError(
        () => createConfig({ ...noKey, WXPAY_PRIVATE_KEY: base.WXPAY_PRIVATE_KEY }).validateFor(name),
        'WXPAY_SERIAL_NO',
        /not set but WXPAY_PRIVATE_KEY is/,
        base.WXPAY_PRIVATE_KEY,
      );
    }
  });
});

describe('config: values', () => {
  test('nothing is read until a section is asked for, and sections are memoised', () => {
    const { env, reads } = recording({ ...base });
    const config = createConfig(env);
    assert.equal(reads.size, 0);
    const pay = config.payV3();
    assert.equal(config.payV3(), pay);
    assert.equal(config.merchantPrivateKey(), pay.privateKey, 'the key is parsed once');
    assert.equal(pay.mchid, base.WXPAY_MCHID);
    assert.equal(pay.baseUrl, base.WXPAY_BASE_URL);
    assert.equal(pay.apiV3Key.export().toString(), base.WXPAY_APIV3_KEY);
    assert.equal(pay.publicKey?.id, base.WXPAY_PUBLIC_KEY_ID);
    assert.equal(pay.privateKey.type, 'private');
  });

  test('defaults', () => {
    const config = createConfig({
      WX_APPID: base.WX_APPID,
      WX_APPSECRET: base.WX_APPSECRET,
      JWT_SECRET: base.JWT_SECRET,
      WXPAY_MCHID: base.WXPAY_MCHID,
      WXPAY_APIV2_KEY: base.WXPAY_APIV2_KEY,
    });
    assert.equal(config.jwt().ttlSeconds, 7200);
    assert.equal(config.jwt().issuer, 'wxcloud-pay');
    assert.equal(config.jwt().audience, base.WX_APPID);
    assert.equal(config.apiVersion(), 'v3');
    assert.equal(config.wechatApi().baseUrl, 'https://api.weixin.qq.com');
    assert.equal(config.payV2().baseUrl, 'https://api.mch.weixin.qq.com');
    assert.equal(config.payV2().signType, 'HMAC-SHA256');
    assert.equal(config.refundWindowHours(), 168);
    assert.equal(config.adminOpenids().size, 0);
    assert.equal(config.v2ClientCertificate(), undefined);
  });

  test('admin list, trailing slash and v2 client certificate', () => {
    const config = createConfig({
      ...base,
      WXPAY_BASE_URL: 'http://127.0.0.1:9/',
      WXPAY_MERCHANT_CERT: local.keys.merchantCertificate,
      REFUND_WINDOW_HOURS: '24',
    });
    assert.deepEqual([...config.adminOpenids()], ['oAdmin_openid_1', 'oAdmin-openid-2']);
    assert.equal(config.payV2().baseUrl, 'http://127.0.0.1:9');
    assert.equal(config.refundWindowHours(), 24);
    const cc = config.v2ClientCertificate();
    assert.ok(cc && cc.certificate.checkPrivateKey(cc.privateKey));
    assert.equal(cc.certificate.serialNumber.toUpperCase(), base.WXPAY_SERIAL_NO);
  });

  test('keys are accepted as PEM, PEM with literal \\n, PEM flattened with spaces, or the bare base64 body', () => {
    const pem = local.keys.merchantPrivateKey;
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const forms = [
      pem,
      pem.trim().replace(/\n/g, '\\n'),
      pem.trim().replace(/\n/g, ' '),
      body,
      `"${pem.trim().replace(/\n/g, '\\n')}"`,
    ];
    const reference = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    for (const form of forms) {
      const key = createConfig({ WXPAY_PRIVATE_KEY: form }).merchantPrivateKey();
      assert.deepEqual(createPublicKey(key).export({ type: 'spki', format: 'der' }), reference);
    }
    const pkcs1 = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs1', format: 'pem' })
      .toString();
    assert.equal(createConfig({ WXPAY_PRIVATE_KEY: pkcs1 }).merchantPrivateKey().asymmetricKeyType, 'rsa');
    const pubBody = local.keys.publicKey.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const v3 = createConfig({ ...base, WXPAY_PUBLIC_KEY: pubBody }).payV3();
    assert.deepEqual(
      v3.publicKey?.key.export({ type: 'spki', format: 'der' }),
      createPublicKey(local.keys.publicKey).export({ type: 'spki', format: 'der' }),
    );
    const certBody = local.keys.merchantCertificate.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    assert.ok(createConfig({ ...base, WXPAY_MERCHANT_CERT: certBody }).v2ClientCertificate());
  });

  test('Secret never prints its value', () => {
    const s = new Secret('hunter2-very-secret');
    assert.ok(!inspect(s).includes('hunter2'));
    assert.ok(!JSON.stringify({ s }).includes('hunter2'));
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the point: a template literal must not reveal it
    assert.ok(!`${s}`.includes('hunter2'));
    assert.equal(s.reveal(), 'hunter2-very-secret');
    const config = createConfig(base);
    assert.ok(!inspect(config.wechatApi(), { depth: 5 }).includes(base.WX_APPSECRET));
    assert.ok(!JSON.stringify(config.payV2()).includes(base.WXPAY_APIV2_KEY));
    assert.ok(!inspect(config.jwt(), { depth: 5 }).includes(base.JWT_SECRET));
  });
});

describe('config: every variable fails with its name, a fix, and no secret', () => {
  const ecKey = () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
  const smallKey = () =>
    generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
  type Case = [
    variable: string,
    value: () => string,
    read: (c: ReturnType<typeof createConfig>) => unknown,
    pattern: RegExp,
    extra?: Record<string, string>,
  ];
  const cases: Case[] = [
    ['WX_APPID', () => 'notanappid', (c) => c.appid(), /16 hex characters.*AppID/],
    [
      'WX_APPSECRET',
      () => 'zzzzSECRETzzzz',
      (c) => c.wechatApi(),
      /32 hex characters \(it is 14 characters\).*AppSecret/,
    ],
    ['JWT_SECRET', () => 'short-jwt-secret', (c) => c.jwt(), /at least 32 bytes \(it is 16\).*openssl rand/],
    ['JWT_TTL_SECONDS', () => '12.5', (c) => c.jwt(), /whole number of seconds/],
    ['JWT_TTL_SECONDS', () => '5', (c) => c.jwt(), /between 60 and 2592000 seconds \(it is 5\)/],
    ['WECHAT_API_BASE_URL', () => 'ftp://example.com', (c) => c.wechatApi(), /https:\/\//],
    ['WXPAY_API_VERSION', () => 'v4', (c) => c.pay(), /"v3" \(default\) or "v2"/],
    ['WXPAY_MCHID', () => 'mch-abc', (c) => c.payV3(), /numeric merchant id.*商户号/],
    ['WXPAY_SERIAL_NO', () => 'not-hex!', (c) => c.payV3(), /hex serial.*证书序列号/],
    [
      'WXPAY_PRIVATE_KEY',
      () => 'not a key: (see the docs)',
      (c) => c.payV3(),
      /neither PEM nor base64.*apiclient_key\.pem/,
    ],
    ['WXPAY_PRIVATE_KEY', () => 'QUJDREVGR0g=', (c) => c.payV3(), /could not be read as a private key/],
    ['WXPAY_PRIVATE_KEY', () => ecKey(), (c) => c.payV3(), /ec key; WeChat Pay uses RSA/],
    ['WXPAY_PRIVATE_KEY', () => smallKey(), (c) => c.payV3(), /1024-bit RSA key.*at least 2048/],
    [
      'WXPAY_PRIVATE_KEY',
      () =>
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0=\n-----END ENCRYPTED PRIVATE KEY-----',
      (c) => c.payV3(),
      /passphrase.*openssl pkey/,
    ],
    [
      'WXPAY_PRIVATE_KEY',
      () => '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN',
      (c) => c.payV3(),
      /truncated PEM/,
    ],
    [
      'WXPAY_APIV3_KEY',
      () => 'abcdefghijklmnopqrstuvwxyz01234',
      (c) => c.payV3(),
      /exactly 32 bytes \(it is 31\); copy it from 商户平台 → 账户中心 → API安全 → APIv3密钥/,
    ],
    ['WXPAY_PUBLIC_KEY_ID', () => 'KEY_ID_123', (c) => c.payV3(), /must start with PUB_KEY_ID_/],
    [
      'WXPAY_PUBLIC_KEY',
      () => 'bm90IGEga2V5IGF0IGFsbA==',
      (c) => c.payV3(),
      /could not be read as a public key.*pub_key\.pem/,
    ],
    [
      'WXPAY_PUBLIC_KEY',
      () => local.keys.platformCertificate,
      (c) => c.payV3(),
      /holds a certificate.*微信支付公钥/,
    ],
    ['WXPAY_PUBLIC_KEY', () => '', (c) => c.payV3(), /not set but WXPAY_PUBLIC_KEY_ID is/],
    ['WXPAY_PUBLIC_KEY_ID', () => '', (c) => c.payV3(), /not set but WXPAY_PUBLIC_KEY is/],
    [
      'WXPAY_APIV2_KEY',
      () => 'v2keyv2keyv2keyv2key',
      (c) => c.payV2(),
      /exactly 32 printable ASCII characters \(it is 20 characters\).*API密钥/,
    ],
    ['WXPAY_V2_SIGN_TYPE', () => 'SHA1', (c) => c.payV2(), /"HMAC-SHA256" \(default\) or "MD5"/],
    ['WXPAY_BASE_URL', () => 'api.mch.weixin.qq.com', (c) => c.payV2(), /not an absolute URL/],
    ['WXPAY_NOTIFY_URL', () => 'https://example.com/pay/notify?x=1', (c) => c.notifyUrl(), /query string/],
    [
      'WXPAY_REFUND_NOTIFY_URL',
      () => 'https://user:pw@example.com/refund/notify',
      (c) => c.refundNotifyUrl(),
      /credentials/,
    ],
    [
      'ADMIN_OPENIDS',
      () => 'oGood_openid_1,bad openid!',
      (c) => c.adminOpenids(),
      /entry 2 is not an openid/,
    ],
    ['REFUND_WINDOW_HOURS', () => '-1', (c) => c.refundWindowHours(), /whole number of hours/],
    ['REFUND_WINDOW_HOURS', () => '9000', (c) => c.refundWindowHours(), /between 0 and 8760 hours/],
    [
      'WXPAY_MERCHANT_CERT',
      () => 'Y2VydGlmaWNhdGU=',
      (c) => c.v2ClientCertificate(),
      /could not be read as an X\.509 certificate.*apiclient_cert\.pem/,
    ],
    [
      'WXPAY_MERCHANT_CERT',
      () => local.keys.platformCertificate,
      (c) => c.v2ClientCertificate(),
      /does not match WXPAY_PRIVATE_KEY/,
    ],
    [
      'WXPAY_PRIVATE_KEY',
      () => '',
      (c) => c.v2ClientCertificate(),
      /not set but WXPAY_MERCHANT_CERT is/,
      { WXPAY_MERCHANT_CERT: 'MERCHANT_CERT_FROM_LOCAL' },
    ],
    [
      'WXPAY_MERCHANT_CERT',
      () => '',
      (c) => c.validateFor('refund'),
      /not set; v2 refunds.*over https/,
      { WXPAY_API_VERSION: 'v2', WXPAY_BASE_URL: 'https://api.mch.weixin.qq.com' },
    ],
  ];
  for (const [variable, value, read, pattern, extra] of cases) {
    test(`${variable}: ${pattern.source.slice(0, 50)}`, () => {
      const v = value();
      const env: Record<string, string> = { ...base, ...extra, [variable]: v };
      if (env.WXPAY_MERCHANT_CERT === 'MERCHANT_CERT_FROM_LOCAL')
        env.WXPAY_MERCHANT_CERT = local.keys.merchantCertificate;
      expectConfigError(
        () => read(createConfig(env)),
        variable,
        pattern,
        v === '' || !SECRET_VARIABLES.has(variable as VariableName) ? undefined : v,
      );
    });
  }

  test('missing values say "not set" and where to find them', () => {
    expectConfigError(() => createConfig({}).appid(), 'WX_APPID', /not set.*AppID/);
    expectConfigError(
      () => createConfig({ WX_APPID: base.WX_APPID }).jwt(),
      'JWT_SECRET',
      /not set.*openssl rand/,
    );
    expectConfigError(
      () =>
        createConfig({ WX_APPID: base.WX_APPID, WXPAY_MCHID: '1900000109', WXPAY_API_VERSION: 'v2' }).pay(),
      'WXPAY_APIV2_KEY',
      /not set.*v2 mode/,
    );
    expectConfigError(
      () => createConfig({ ...base, WXPAY_APIV3_KEY: '   ' }).payV3(),
      'WXPAY_APIV3_KEY',
      /not set.*APIv3密钥/,
    );
    expectConfigError(
      () => createConfig({ ...base, WXPAY_NOTIFY_URL: '' }).notifyUrl(),
      'WXPAY_NOTIFY_URL',
      /not set.*\/pay\/notify/,
    );
  });
});
