import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, createSign, createVerify } from 'node:crypto';
import { ensureLocalData, updateLocalEnv } from './local-data';

test('local data: keys, certificates and env are generated once, consistent, and checked by openssl', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-local-'));
  try {
    const first = await ensureLocalData(dir, { ports: { host: 4100, wechatSim: 4200, cloudbaseEmu: 4300 } });
    const merchantCert = new X509Certificate(first.keys.merchantCertificate);
    assert.equal(merchantCert.serialNumber.toUpperCase(), first.env.WXPAY_SERIAL_NO);
    assert.match(first.env.WXPAY_SERIAL_NO, /^[0-9A-F]{40}$/);
    const ca = new X509Certificate(first.keys.caCertificate);
    assert.ok(merchantCert.verify(ca.publicKey), 'merchant certificate is issued by the local CA');
    assert.ok(new X509Certificate(first.keys.platformCertificate).verify(ca.publicKey));
    assert.ok(merchantCert.checkPrivateKey(createPrivateKey(first.keys.merchantPrivateKey)));
    assert.match(first.env.WXPAY_PUBLIC_KEY_ID, /^PUB_KEY_ID_\d+$/);
    assert.equal(first.env.WXPAY_APIV3_KEY.length, 32);
    assert.equal(first.env.WXPAY_NOTIFY_URL, 'http://127.0.0.1:4100/pay/notify');
    assert.equal(first.env.WXPAY_BASE_URL, 'http://127.0.0.1:4200');
    // the env form of the key (literal \n) is the same key
    assert.equal(
      createPublicKey(first.env.WXPAY_PUBLIC_KEY.replace(/\\n/g, '\n')).export({
        format: 'pem',
        type: 'spki',
      }),
      createPublicKey(first.keys.publicKey).export({ format: 'pem', type: 'spki' }),
    );

    // openssl agrees: the certificate chain verifies and a signature made by openssl verifies with node
    const out = execFileSync('openssl', [
      'verify',
      '-CAfile',
      first.keyPaths.caCertificate,
      first.keyPaths.merchantCertificate,
    ]).toString();
    assert.match(out, /OK/);
    const msgPath = join(dir, 'msg');
    writeFileSync(msgPath, 'GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n');
    const sig = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-sign',
      first.keyPaths.merchantPrivateKey,
      msgPath,
    ]);
    assert.ok(createVerify('RSA-SHA256').update(readFileSync(msgPath)).verify(merchantCert.publicKey, sig));

    const second = await ensureLocalData(dir);
    assert.equal(second.env.WXPAY_SERIAL_NO, first.env.WXPAY_SERIAL_NO, 'a second start reuses the keys');
    assert.equal(
      second.env.WXPAY_NOTIFY_URL,
      'http://127.0.0.1:4100/pay/notify',
      'URLs persist until ports are given',
    );
    const signed = createSign('RSA-SHA256').update('x').sign(second.keys.platformPrivateKey);
    assert.ok(
      createVerify('RSA-SHA256')
        .update('x')
        .verify(new X509Certificate(second.keys.platformCertificate).publicKey, signed),
    );

    // rewriting one value keeps every other line byte for byte (PEMs included)
    const text = readFileSync(join(dir, 'env'), 'utf8');
    updateLocalEnv(dir, { WXPAY_NOTIFY_URL: 'http://127.0.0.1:4999/pay/notify' });
    const rewritten = readFileSync(join(dir, 'env'), 'utf8');
    assert.equal(
      rewritten,
      text.replace('http://127.0.0.1:4100/pay/notify', 'http://127.0.0.1:4999/pay/notify'),
    );
    const third = await ensureLocalData(dir);
    assert.equal(third.env.WXPAY_PRIVATE_KEY, second.env.WXPAY_PRIVATE_KEY);
    assert.equal(third.fileEnv.WXPAY_NOTIFY_URL, 'http://127.0.0.1:4999/pay/notify');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
