// Test-only: key material made by the openssl command line (an implementation independent of ours),
// in a temp dir that `cleanup()` removes. Imported by *.test.ts files and the crypto benchmark only.
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPair {
  keyPath: string;
  publicKeyPath: string;
  privateKeyPem: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface TestCertificate extends TestPair {
  certPath: string;
  certPem: string;
  certificate: X509Certificate;
  serial: string;
}

export interface TestKeys {
  dir: string;
  merchant: TestCertificate;
  platform: TestCertificate;
  /** Public-key mode: a bare key pair and its id. */
  wechatPublic: TestPair & { keyId: string };
  mchid: string;
  appid: string;
  apiV3KeyText: string;
  openssl(args: string[], input?: Buffer | string): Buffer;
  cleanup(): void;
}

function serialHex(): string {
  const b = randomBytes(20);
  b[0] = (b[0]! & 0x3f) | 0x10;
  return b.toString('hex').toUpperCase();
}

export function makeTestKeys(): TestKeys {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-v3-keys-'));
  const openssl = (args: string[], input?: Buffer | string): Buffer =>
    execFileSync('openssl', args, { cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'] });

  const pair = (name: string): TestPair => {
    const keyPath = join(dir, `${name}_key.pem`);
    const publicKeyPath = join(dir, `${name}_pub.pem`);
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]);
    openssl(['pkey', '-in', keyPath, '-pubout', '-out', publicKeyPath]);
    const privateKeyPem = readFileSync(keyPath, 'utf8');
    return { keyPath, publicKeyPath, privateKeyPem, privateKey: createPrivateKey(privateKeyPem), publicKey: createPublicKey(readFileSync(publicKeyPath)) };
  };

  const certified = (name: string, subject: string): TestCertificate => {
    const keyPath = join(dir, `${name}_key.pem`);
    const certPath = join(dir, `${name}_cert.pem`);
    const publicKeyPath = join(dir, `${name}_pub.pem`);
    const serial = serialHex();
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '30', '-subj', subject, '-set_serial', `0x${serial}`]);
    openssl(['pkey', '-in', keyPath, '-pubout', '-out', publicKeyPath]);
    const privateKeyPem = readFileSync(keyPath, 'utf8');
    const certPem = readFileSync(certPath, 'utf8');
    const certificate = new X509Certificate(certPem);
    return { keyPath, certPath, publicKeyPath, privateKeyPem, certPem, certificate, serial, privateKey: createPrivateKey(privateKeyPem), publicKey: certificate.publicKey };
  };

  const mchid = '1900000109';
  return {
    dir,
    mchid,
    appid: 'wxd678efh567hg6787',
    merchant: certified('merchant', `/CN=${mchid}/O=merchant test`),
    platform: certified('platform', '/CN=Tenpay.com platform test/O=Tenpay.com'),
    wechatPublic: { ...pair('wechatpay_public'), keyId: `PUB_KEY_ID_0119000001092026112500${randomBytes(2).readUInt16BE() % 1000}` },
    apiV3KeyText: randomBytes(24).toString('base64'),
    openssl,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
