// Known-answer tests for the simulator's own cryptography against independent sources: WeChat's
// documented v2 signature example, the openssl command line, and Python's `cryptography`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  aeadDecrypt,
  aeadEncrypt,
  rsaSign,
  rsaVerify,
  v2DecryptReqInfo,
  v2EncryptReqInfo,
  v2Sign,
  v2SignString,
  v3PaySignMessage,
  v3RequestMessage,
} from './crypto';
import { buildFlatXml, parseFlatXml, XmlFormatError } from './xml';
import { testLocalData } from './testing';

const DOC_PARAMS = {
  appid: 'wxd930ea5d5a258f4f',
  mch_id: '10000100',
  device_info: '1000',
  body: 'test',
  nonce_str: 'ibuaiVcKdpRxkhJA',
};
const DOC_KEY = '192006250b4c09247ec02edce69f6a2d';

function withTmp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'wechat-sim-kat-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('v2 MD5 signature matches WeChat documented example', () => {
  assert.equal(
    v2SignString(DOC_PARAMS, DOC_KEY),
    'appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d',
  );
  assert.equal(v2Sign(DOC_PARAMS, DOC_KEY, 'MD5'), '9A0A8659F005D6984697E2CA0A9CF3B7');
  // empty values and `sign` itself are left out
  assert.equal(
    v2Sign({ ...DOC_PARAMS, attach: '', sign: 'XYZ' }, DOC_KEY, 'MD5'),
    '9A0A8659F005D6984697E2CA0A9CF3B7',
  );
});

test('v2 HMAC-SHA256 signature matches the documented example and openssl dgst -hmac', () => {
  const ours = v2Sign(DOC_PARAMS, DOC_KEY, 'HMAC-SHA256');
  assert.equal(ours, '6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6');
  const out = execFileSync('openssl', ['dgst', '-sha256', '-hmac', DOC_KEY], {
    input: v2SignString(DOC_PARAMS, DOC_KEY),
  }).toString();
  assert.equal(out.trim().split(/\s+/).pop()!.toUpperCase(), ours);
});

test('RSA-SHA256 signatures interoperate with openssl dgst both ways', async () => {
  const { data } = await testLocalData();
  withTmp((dir) => {
    const message = v3RequestMessage(
      'POST',
      '/v3/pay/transactions/jsapi?x=1',
      '1554208460',
      '593BEC0C930BF1AFEB40B4A08C8FB242',
      '{"a":"中文"}',
    );
    const msgPath = join(dir, 'msg');
    writeFileSync(msgPath, message);
    // openssl signs with the platform key → the simulator's verifier accepts, and a byte change fails
    const sig = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-sign',
      data.keyPaths.platformPrivateKey,
      msgPath,
    ]).toString('base64');
    const pubPath = join(dir, 'pub.pem');
    execFileSync('openssl', [
      'x509',
      '-in',
      data.keyPaths.platformCertificate,
      '-pubkey',
      '-noout',
      '-out',
      pubPath,
    ]);
    assert.ok(rsaVerify(message, sig, readFileSync(pubPath, 'utf8')));
    assert.ok(!rsaVerify(message.replace('1554208460', '1554208461'), sig, readFileSync(pubPath, 'utf8')));
    // the simulator signs → openssl verifies
    const ours = rsaSign(message, data.keys.platformPrivateKey);
    const sigPath = join(dir, 'sig');
    writeFileSync(sigPath, Buffer.from(ours, 'base64'));
    const verified = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      pubPath,
      '-signature',
      sigPath,
      msgPath,
    ]).toString();
    assert.match(verified, /Verified OK/);
  });
  assert.equal(v3PaySignMessage('wx1', '1', 'n', 'prepay_id=p'), 'wx1\n1\nn\nprepay_id=p\n');
});

test('AEAD_AES_256_GCM agrees with Python cryptography (AESGCM)', () => {
  const key = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  const nonce = 'abcdefghijkl';
  const aad = 'transaction';
  const plaintext = JSON.stringify({ out_trade_no: 'T123456', amount: { total: 1 }, desc: '中文' });
  const ct = aeadEncrypt(key, nonce, aad, plaintext);
  const py = `
import base64, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
k, n, a, pt, ct = sys.argv[1:6]
g = AESGCM(k.encode())
assert g.decrypt(n.encode(), base64.b64decode(ct), a.encode()).decode() == pt
print(base64.b64encode(g.encrypt(n.encode(), pt.encode(), a.encode())).decode())
`;
  const pyCt = execFileSync('python3', ['-c', py, key, nonce, aad, plaintext, ct]).toString().trim();
  assert.equal(pyCt, ct, 'same key, nonce and AAD give the same ciphertext and tag');
  assert.equal(aeadDecrypt(key, nonce, aad, pyCt), plaintext);
  assert.throws(() => aeadDecrypt(key, nonce, 'certificate', ct), 'a wrong AAD fails the tag check');
});

test('v2 req_info: AES-256-ECB keyed by md5(key) agrees with openssl enc', () => {
  const xml =
    '<root><out_refund_no><![CDATA[R1]]></out_refund_no><refund_status><![CDATA[SUCCESS]]></refund_status></root>';
  const ours = v2EncryptReqInfo(xml, DOC_KEY);
  const keyHex = Buffer.from(createHash('md5').update(DOC_KEY).digest('hex').toLowerCase(), 'utf8').toString(
    'hex',
  );
  const viaOpenssl = execFileSync('openssl', ['enc', '-aes-256-ecb', '-K', keyHex, '-base64', '-A'], {
    input: xml,
  })
    .toString()
    .trim();
  assert.equal(ours, viaOpenssl);
  const back = execFileSync('openssl', ['enc', '-d', '-aes-256-ecb', '-K', keyHex, '-base64', '-A'], {
    input: ours,
  }).toString();
  assert.equal(back, xml);
  assert.equal(v2DecryptReqInfo(ours, DOC_KEY), xml);
});

test('v2 XML codec: CDATA and entities, rejects DOCTYPE and nesting', () => {
  const xml = buildFlatXml({ a: 'x<y>&z', b: 12, c: undefined, d: 'a]]>b' });
  assert.deepEqual(parseFlatXml(xml), { a: 'x<y>&z', b: '12', d: 'a]]>b' });
  assert.deepEqual(parseFlatXml('<?xml version="1.0"?>\n<xml>\n  <k>a&amp;b</k>\n</xml>'), { k: 'a&b' });
  assert.throws(
    () => parseFlatXml('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><k>&e;</k></xml>'),
    XmlFormatError,
  );
  assert.throws(() => parseFlatXml('<xml><k><n>1</n></k></xml>'), XmlFormatError);
  assert.throws(() => parseFlatXml('not xml'), XmlFormatError);
});
