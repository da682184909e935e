// Test-only: key material made by the openssl command line (an implementation independent of ours),
// in a temp dir that `cleanup()` removes. Imported by *.test.ts files and the crypto benchmark only.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
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
  b[0] = (b[0] & 0x3f) | 0x10;
  return b.toString('hex').toUpperCase();
}

const execFileAsync = promisify(execFile);

/** Generates the keys in parallel (RSA key generation dominates a test file's setup). */
export async function makeTestKeys(): Promise<TestKeys> {
  const dir = mkdtempSync(join(tmpdir(), 'wxpay-v3-keys-'));
  const openssl = (args: string[], input?: Buffer | string): Buffer =>
    execFileSync('openssl', args, { cwd: dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
  const opensslAsync = async (args: string[]): Promise<void> => {
    await execFileAsync('openssl', args, { cwd: dir });
  };

  const pair = async (name: string): Promise<TestPair> => {
    const keyPath = join(dir, `${name}_key.pem`);
    const publicKeyPath = join(dir, `${name}_pub.pem`);
    await opensslAsync(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]);
    await opensslAsync(['pkey', '-in', keyPath, '-pubout', '-out', publicKeyPath]);
    const privateKeyPem = readFileSync(keyPath, 'utf8');
    return {
      keyPath,
      publicKeyPath,
      privateKeyPem,
      privateKey: createPrivateKey(privateKeyPem),
      publicKey: createPublicKey(readFileSync(publicKeyPath)),
    };
  };

  const certified = async (name: string, subject: string): Promise<TestCertificate> => {
    const keyPath = join(dir, `${name}_key.pem`);
    const certPath = join(dir, `${name}_cert.pem`);
    const publicKeyPath = join(dir, `${name}_pub.pem`);
    const serial = serialHex();
    await opensslAsync([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '30',
      '-subj',
      subject,
      '-set_serial',
      `0x${serial}`,
    ]);
    await opensslAsync(['pkey', '-in', keyPath, '-pubout', '-out', publicKeyPath]);
    const privateKeyPem = readFileSync(keyPath, 'utf8');
    const certPem = readFileSync(certPath, 'utf8');
    const certificate = new X509Certificate(certPem);
    return {
      keyPath,
      certPath,
      publicKeyPath,
      privateKeyPem,
      certPem,
      certificate,
      serial,
      privateKey: createPrivateKey(privateKeyPem),
      publicKey: certificate.publicKey,
    };
  };

  const mchid = '1900000109';
  const [merchant, platform, wechatPublic] = await Promise.all([
    certified('merchant', `/CN=${mchid}/O=merchant test`),
    certified('platform', '/CN=Tenpay.com platform test/O=Tenpay.com'),
    pair('wechatpay_public'),
  ]);
  return {
    dir,
    mchid,
    appid: 'wxd678efh567hg6787',
    merchant,
    platform,
    wechatPublic: {
      ...wechatPublic,
      keyId: `PUB_KEY_ID_0119000001092026112500${randomBytes(2).readUInt16BE() % 1000}`,
    },
    apiV3KeyText: randomBytes(24).toString('base64'),
    openssl,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
