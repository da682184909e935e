// What a developer reads in the function log when something goes wrong, from the deployed (minified)
// bundles: the error class by its real name, the code, the fix, and never a secret.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CART, startE2E, type E2E } from './support/e2e';

let e: E2E;
const lines: string[] = [];

before(async () => {
  e = await startE2E({ host: { functionOutput: (name, line) => void lines.push(`[${name}] ${line}`) } });
});
after(async () => {
  await e?.close();
});

const SECRETS = ['WXPAY_APIV3_KEY', 'WX_APPSECRET', 'JWT_SECRET', 'WXPAY_APIV2_KEY'] as const;

function assertNoSecrets(text: string): void {
  for (const k of SECRETS) assert.ok(!text.includes(e.baseEnv[k]), `${k} appears in the log`);
  const keyBody = e.baseEnv.WXPAY_PRIVATE_KEY.replace(/\\n/g, '\n').split('\n')[3];
  assert.ok(!text.includes(keyBody), 'a piece of the merchant private key appears in the log');
}

describe('function logs from the minified bundles', () => {
  it('name the error class, its code and the fix: a forged notification, WeChat unavailable', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const forged = await e.http(
      'POST',
      '/pay/notify',
      JSON.stringify({ id: 'EV-forged', event_type: 'TRANSACTION.SUCCESS', resource: {} }),
      {
        'content-type': 'application/json',
        'wechatpay-timestamp': ts,
        'wechatpay-nonce': 'n0nce',
        'wechatpay-serial': e.baseEnv.WXPAY_PUBLIC_KEY_ID,
        'wechatpay-signature': Buffer.alloc(256, 7).toString('base64'),
      },
    );
    assert.equal(forged.status, 401);
    const refused = await e.waitFor(
      async () => lines.find((l) => l.startsWith('[payNotify]') && l.includes('refused (401)')),
      Boolean,
      'the refusal is logged',
      10_000,
    );
    assert.match(refused!, /WxpayBadSignatureError \[WXPAY_VERIFICATION\]: notification signature/);

    const user = await e.newUser();
    await e.sim('POST', '/sim/faults', { target: 'jsapi', kind: '5xx', count: 1 });
    const r = await e.call(
      'createPayment',
      { items: CART, idempotencyKey: `logs-${Date.now()}` },
      { openid: user.openid },
    );
    assert.equal(!r.ok && r.error.code, 'UPSTREAM_UNAVAILABLE');
    const unavailable = await e.waitFor(
      async () => lines.find((l) => l.startsWith('[createPayment]') && /Wxpay\w+Error/.test(l)),
      Boolean,
      'the upstream failure is logged',
      10_000,
    );
    assert.match(unavailable!, /WxpayUnavailableError \[WXPAY_UNAVAILABLE\]/);

    // no one-letter class names anywhere, and no secret
    for (const l of lines)
      assert.doesNotMatch(l, /(^|\s)[A-Za-z$_]{1,2} \[[A-Z_]+\]:/, `minified name in: ${l}`);
    assertNoSecrets(lines.join('\n'));
  });
});
