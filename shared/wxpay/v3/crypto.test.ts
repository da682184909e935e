// Cross-checks of the v3 primitives against independent implementations: the openssl command line,
// WebCrypto, python's `cryptography` (when present) and the wechatpay-axios-plugin SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { makeTestKeys, type TestKeys } from './testing/keys';
import { RsaSigner, RequestSigner, requestMessage, parseAuthorization, signedMessage } from './signer';
import { buildPaymentParams, paymentMessage } from './payment';
import { CertificateVerifier, PublicKeyVerifier, fromX509 } from './verifier';
import { Validator } from './validator';
import { aeadDecrypt, aeadEncrypt, parseApiV3Key } from './aead';
import { OaepDecryptor, OaepEncryptor, oaepDecrypt, oaepEncrypt } from './oaep';
import { WxpayConfigError } from '../errors';

const requireCjs = createRequire(__filename);
// The third-party SDK is plain CommonJS without our types; only its static helpers are used.
const plugin = requireCjs('wechatpay-axios-plugin') as {
  Rsa: {
    sign(m: string, k: unknown): string;
    verify(m: string, s: string, k: unknown): boolean;
    encrypt(p: string, k: unknown): string;
    decrypt(c: string, k: unknown): string;
  };
  Aes: {
    AesGcm: {
      encrypt(p: string, k: string, iv: string, aad?: string): string;
      decrypt(c: string, k: string, iv: string, aad?: string): string;
    };
  };
  Formatter: {
    request(m: string, u: string, t: number | string, n: string, b?: string): string;
    response(t: number | string, n: string, b?: string): string;
    authorization(...a: string[]): string;
    joinedByLineFeed(...a: string[]): string;
  };
};

let k: TestKeys;
before(async () => {
  k = await makeTestKeys();
});
after(() => k.cleanup());

describe('RSA-SHA256 signatures', () => {
  test('openssl-made keys and X.509 certificates load, serial and validity read', () => {
    const cert = fromX509(k.platform.certificate);
    assert.equal(cert.serial, k.platform.serial);
    assert.ok(cert.notAfter > Date.now() && cert.notBefore <= Date.now());
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  });

  test('a signature by `openssl dgst -sha256 -sign` verifies with our certificate verifier, and is byte-identical to ours', () => {
    const body = '{"id":"EV-2018022511223320873","summary":"支付成功"}';
    const message = signedMessage('1554208460', '593BEC0C930BF1AFEB40B4A08C8FB242', body);
    writeFileSync(join(k.dir, 'msg.txt'), message);
    const sig = k.openssl(['dgst', '-sha256', '-sign', k.platform.keyPath, 'msg.txt']).toString('base64');
    const verifier = new CertificateVerifier([fromX509(k.platform.certificate)]);
    assert.deepEqual(verifier.verify(k.platform.serial, message, sig), { ok: true });
    // PKCS#1 v1.5 is deterministic: same key + same message must give the same bytes.
    assert.equal(new RsaSigner(k.platform.privateKey, k.platform.serial).sign(message), sig);
    assert.deepEqual(verifier.verify(k.platform.serial, message.replace('支付成功', '支付失败'), sig), {
      ok: false,
      reason: 'bad-signature',
    });
  });

  test('our request signature verifies with `openssl dgst -sha256 -verify`', () => {
    const signer = new RequestSigner(k.mchid, new RsaSigner(k.merchant.privateKey, k.merchant.serial));
    const body = JSON.stringify({ mchid: k.mchid });
    const auth = signer.authorization({
      method: 'POST',
      pathWithQuery: '/v3/pay/transactions/out-trade-no/T123/close',
      body,
    });
    const parts = parseAuthorization(auth);
    assert.ok(parts, auth);
    assert.equal(parts.mchid, k.mchid);
    assert.equal(parts.serial_no, k.merchant.serial);
    assert.match(parts.nonce_str, /^[0-9A-F]{32}$/);
    assert.ok(Math.abs(Number(parts.timestamp) - Date.now() / 1000) < 5);
    writeFileSync(
      join(k.dir, 'req.txt'),
      requestMessage(
        'POST',
        '/v3/pay/transactions/out-trade-no/T123/close',
        parts.timestamp,
        parts.nonce_str,
        body,
      ),
    );
    writeFileSync(join(k.dir, 'req.sig'), Buffer.from(parts.signature, 'base64'));
    const out = k
      .openssl(['dgst', '-sha256', '-verify', k.merchant.publicKeyPath, '-signature', 'req.sig', 'req.txt'])
      .toString();
    assert.match(out, /Verified OK/);
    writeFileSync(
      join(k.dir, 'req.txt'),
      requestMessage(
        'POST',
        '/v3/pay/transactions/out-trade-no/T124/close',
        parts.timestamp,
        parts.nonce_str,
        body,
      ),
    );
    assert.throws(() =>
      k.openssl(['dgst', '-sha256', '-verify', k.merchant.publicKeyPath, '-signature', 'req.sig', 'req.txt']),
    );
  });

  test('nonces are 32 upper-case hex from the CSPRNG and never repeat', () => {
    const signer = new RequestSigner(k.mchid, new RsaSigner(k.merchant.privateKey, k.merchant.serial));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++)
      seen.add(
        parseAuthorization(signer.authorization({ method: 'GET', pathWithQuery: '/v3/certificates' }))!
          .nonce_str,
      );
    assert.equal(seen.size, 20);
  });

  test('wechatpay-axios-plugin: its request signature equals ours, and its Formatter message equals ours', () => {
    const ts = 1554208460;
    const nonce = '593BEC0C930BF1AFEB40B4A08C8FB242';
    const path = '/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109';
    assert.equal(
      requestMessage('GET', path, ts, nonce, ''),
      plugin.Formatter.request('GET', path, ts, nonce, ''),
    );
    const ours = parseAuthorization(
      new RequestSigner(k.mchid, new RsaSigner(k.merchant.privateKey, k.merchant.serial)).authorization({
        method: 'GET',
        pathWithQuery: path,
        timestamp: ts,
        nonce,
      }),
    )!;
    const theirs = plugin.Rsa.sign(
      plugin.Formatter.request('GET', path, ts, nonce, ''),
      k.merchant.privateKeyPem,
    );
    assert.equal(ours.signature, theirs);
    assert.ok(
      plugin.Rsa.verify(
        plugin.Formatter.request('GET', path, ts, nonce),
        ours.signature,
        k.merchant.publicKey,
      ),
    );
    // Its Authorization header (other parameter order) parses with ours.
    const header = plugin.Formatter.authorization(k.mchid, nonce, theirs, String(ts), k.merchant.serial);
    assert.deepEqual(parseAuthorization(header), {
      mchid: k.mchid,
      nonce_str: nonce,
      signature: theirs,
      timestamp: String(ts),
      serial_no: k.merchant.serial,
    });
  });

  test('wechatpay-axios-plugin: its response signature verifies with our Validator (public-key mode)', () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = 'c5ac7061fccab6bf3e254dcf98995b8c';
    const body = '{"prepay_id":"wx201410272009395522657a690389285100"}';
    const sig = plugin.Rsa.sign(plugin.Formatter.response(ts, nonce, body), k.wechatPublic.privateKeyPem);
    const validator = new Validator({
      verifier: new PublicKeyVerifier(k.wechatPublic.keyId, k.wechatPublic.publicKey),
    });
    const headers = {
      'wechatpay-timestamp': ts,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': sig,
      'wechatpay-serial': k.wechatPublic.keyId,
    };
    assert.equal(validator.validateSync('response', headers, body).serial, k.wechatPublic.keyId);
    assert.equal(validator.validateSync('response', headers, Buffer.from(body)).serial, k.wechatPublic.keyId);
  });

  test('wx.requestPayment paySign equals the plugin/openssl signature over appId\\ntimeStamp\\nnonceStr\\npackage\\n', () => {
    const signer = new RsaSigner(k.merchant.privateKey, k.merchant.serial);
    const p = buildPaymentParams(signer, {
      appId: k.appid,
      prepayId: 'wx201410272009395522657a690389285100',
      now: 1_700_000_000_123,
    });
    assert.equal(p.timeStamp, '1700000000');
    assert.equal(p.package, 'prepay_id=wx201410272009395522657a690389285100');
    assert.equal(p.signType, 'RSA');
    assert.match(p.nonceStr, /^[0-9A-F]{32}$/);
    const msg = plugin.Formatter.joinedByLineFeed(k.appid, p.timeStamp, p.nonceStr, p.package);
    assert.equal(paymentMessage(k.appid, p.timeStamp, p.nonceStr, p.package), msg);
    assert.equal(p.paySign, plugin.Rsa.sign(msg, k.merchant.privateKeyPem));
    writeFileSync(join(k.dir, 'pay.txt'), msg);
    writeFileSync(join(k.dir, 'pay.sig'), Buffer.from(p.paySign, 'base64'));
    assert.match(
      k
        .openssl(['dgst', '-sha256', '-verify', k.merchant.publicKeyPath, '-signature', 'pay.sig', 'pay.txt'])
        .toString(),
      /Verified OK/,
    );
  });

  test('signers refuse keys that cannot sign', () => {
    assert.throws(
      () => new RsaSigner(k.merchant.publicKey, k.merchant.serial),
      (e: unknown) => e instanceof WxpayConfigError && /WXPAY_PRIVATE_KEY/.test(e.message),
    );
    assert.throws(
      () => new RequestSigner('not-a-mchid', new RsaSigner(k.merchant.privateKey, k.merchant.serial)),
      /WXPAY_MCHID/,
    );
    assert.throws(() => new PublicKeyVerifier('1234', k.wechatPublic.publicKey), /PUB_KEY_ID_/);
  });
});

describe('AEAD_AES_256_GCM', () => {
  const resource = JSON.stringify({
    out_trade_no: '1217752501201407033233368018',
    amount: { total: 100 },
    note: '中文',
  });

  test('ciphertext from WebCrypto subtle.encrypt decrypts with ours', async () => {
    const keyText = k.apiV3KeyText;
    const nonce = 'fdasflkja484';
    const key = await webcrypto.subtle.importKey('raw', Buffer.from(keyText), 'AES-GCM', false, ['encrypt']);
    const ct = Buffer.from(
      await webcrypto.subtle.encrypt(
        {
          name: 'AES-GCM',
          iv: Buffer.from(nonce),
          additionalData: Buffer.from('transaction'),
          tagLength: 128,
        },
        key,
        Buffer.from(resource),
      ),
    );
    const out = aeadDecrypt(parseApiV3Key(keyText), {
      ciphertext: ct.toString('base64'),
      nonce,
      associated_data: 'transaction',
    });
    assert.equal(out.toString('utf8'), resource);
  });

  test('ciphertext from python cryptography AESGCM decrypts with ours', (t) => {
    const nonce = 'a1b2c3d4e5f6';
    // One interpreter start: exit code 3 means the module is absent (skip), anything else must work.
    const py = `import sys,base64\ntry:\n from cryptography.hazmat.primitives.ciphers.aead import AESGCM\nexcept ImportError:\n sys.exit(3)\nk,n,a,p=sys.argv[1:5]\nsys.stdout.write(base64.b64encode(AESGCM(k.encode()).encrypt(n.encode(),p.encode(),a.encode())).decode())`;
    let ct: string;
    try {
      ct = execFileSync('python3', ['-c', py, k.apiV3KeyText, nonce, 'certificate', resource], {
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString();
    } catch (e) {
      const status = (e as { status?: number; code?: string }).status;
      if (status === 3 || (e as { code?: string }).code === 'ENOENT')
        return t.skip('python3 with the cryptography module is not installed');
      throw e;
    }
    assert.equal(
      aeadDecrypt(parseApiV3Key(k.apiV3KeyText), {
        ciphertext: ct,
        nonce,
        associated_data: 'certificate',
      }).toString(),
      resource,
    );
  });

  test('wechatpay-axios-plugin AesGcm output decrypts with ours, and ours with it', () => {
    const nonce = 'zyxwvutsrqpo';
    const theirs = plugin.Aes.AesGcm.encrypt(resource, k.apiV3KeyText, nonce, 'refund');
    assert.equal(
      aeadDecrypt(parseApiV3Key(k.apiV3KeyText), {
        ciphertext: theirs,
        nonce,
        associated_data: 'refund',
      }).toString(),
      resource,
    );
    const ours = aeadEncrypt(parseApiV3Key(k.apiV3KeyText), resource, 'refund');
    assert.equal(plugin.Aes.AesGcm.decrypt(ours.ciphertext, k.apiV3KeyText, ours.nonce, 'refund'), resource);
    assert.equal(ours.ciphertext, plugin.Aes.AesGcm.encrypt(resource, k.apiV3KeyText, ours.nonce, 'refund'));
  });

  test('tampered ciphertext, tag, nonce or associated data and a wrong key all fail with a fix-naming error', () => {
    const key = parseApiV3Key(k.apiV3KeyText);
    const good = aeadEncrypt(key, resource, 'transaction');
    const raw = Buffer.from(good.ciphertext, 'base64');
    const flip = (i: number) => {
      const b = Buffer.from(raw);
      b[i] ^= 1;
      return b.toString('base64');
    };
    const cases: Array<[string, () => unknown]> = [
      ['ciphertext byte', () => aeadDecrypt(key, { ...good, ciphertext: flip(0) })],
      ['tag byte', () => aeadDecrypt(key, { ...good, ciphertext: flip(raw.length - 1) })],
      ['associated data', () => aeadDecrypt(key, { ...good, associated_data: 'refund' })],
      ['nonce', () => aeadDecrypt(key, { ...good, nonce: 'AAAAAAAAAAAA' })],
      ['wrong key', () => aeadDecrypt(parseApiV3Key('x'.repeat(32)), good)],
      ['truncated', () => aeadDecrypt(key, { ...good, ciphertext: raw.subarray(0, 10).toString('base64') })],
      ['short nonce', () => aeadDecrypt(key, { ...good, nonce: 'abc' })],
    ];
    for (const [name, fn] of cases) {
      assert.throws(
        fn,
        (e: any) =>
          e.kind === 'decryption-failed' && e.httpStatus === 400 && /WXPAY_APIV3_KEY/.test(e.message),
        name,
      );
    }
    assert.equal(aeadDecrypt(key, good).toString(), resource);
  });

  test('a key that is not exactly 32 bytes is refused with the variable name and its length, never its value', () => {
    for (const bad of ['short-key', k.apiV3KeyText + ' ', '密'.repeat(11)]) {
      assert.throws(
        () => parseApiV3Key(bad),
        (e: unknown) =>
          e instanceof WxpayConfigError &&
          e.variable === 'WXPAY_APIV3_KEY' &&
          /must be exactly 32 bytes/.test(e.message) &&
          e.message.includes(`${Buffer.byteLength(bad)} bytes`) &&
          !e.message.includes(bad),
      );
    }
  });
});

describe('RSA-OAEP (SHA-1)', () => {
  test('ciphertext from `openssl pkeyutl -encrypt -pkeyopt rsa_padding_mode:oaep` decrypts with ours', () => {
    writeFileSync(join(k.dir, 'name.txt'), '张三');
    const ct = k.openssl([
      'pkeyutl',
      '-encrypt',
      '-pubin',
      '-inkey',
      k.merchant.publicKeyPath,
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-in',
      'name.txt',
    ]);
    assert.equal(oaepDecrypt(ct.toString('base64'), k.merchant.privateKey), '张三');
  });

  test('ours decrypts with openssl and the plugin, and carries the serial for Wechatpay-Serial', () => {
    const enc = oaepEncrypt('13800138000', { serial: k.platform.serial, publicKey: k.platform.publicKey });
    assert.equal(enc.serial, k.platform.serial);
    writeFileSync(join(k.dir, 'ct.bin'), Buffer.from(enc.ciphertext, 'base64'));
    const pt = k.openssl([
      'pkeyutl',
      '-decrypt',
      '-inkey',
      k.platform.keyPath,
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-in',
      'ct.bin',
    ]);
    assert.equal(pt.toString(), '13800138000');
    assert.equal(plugin.Rsa.decrypt(enc.ciphertext, k.platform.privateKey), '13800138000');
    assert.equal(
      oaepDecrypt(plugin.Rsa.encrypt('13800138000', k.platform.publicKey), k.platform.privateKey),
      '13800138000',
    );
    assert.throws(() => oaepDecrypt(enc.ciphertext, k.merchant.privateKey), /WXPAY_PRIVATE_KEY/);
  });

  test('Encryptor / Decryptor interfaces: openssl decrypts the encryptor output, the decryptor reads openssl output', async () => {
    const enc = await new OaepEncryptor(() => ({
      serial: k.merchant.serial,
      publicKey: k.merchant.publicKey,
    })).encrypt('6222020000000000000');
    assert.equal(enc.serial, k.merchant.serial);
    writeFileSync(join(k.dir, 'card.bin'), Buffer.from(enc.ciphertext, 'base64'));
    assert.equal(
      k
        .openssl([
          'pkeyutl',
          '-decrypt',
          '-inkey',
          k.merchant.keyPath,
          '-pkeyopt',
          'rsa_padding_mode:oaep',
          '-in',
          'card.bin',
        ])
        .toString(),
      '6222020000000000000',
    );
    writeFileSync(join(k.dir, 'card.txt'), '6222020000000000000');
    const ct = k.openssl([
      'pkeyutl',
      '-encrypt',
      '-pubin',
      '-inkey',
      k.merchant.publicKeyPath,
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-in',
      'card.txt',
    ]);
    assert.equal(
      new OaepDecryptor(k.merchant.privateKey).decrypt(ct.toString('base64')),
      '6222020000000000000',
    );
  });
});
