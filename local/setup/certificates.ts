// Local stand-ins for the keys WeChat Pay hands a merchant: an RSA key pair per role and X.509
// certificates issued by a local "Tenpay" CA, so certificate-mode verification has a real chain.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto, randomBytes, createPrivateKey } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

export interface IssuedPair {
  privateKeyPem: string;
  publicKeyPem: string;
  certificatePem?: string;
  /** Upper-case hex, 40 characters, as WeChat prints certificate serials. */
  serialNo?: string;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
}

async function exportPems(keys: CryptoKeyPair): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const privateKeyPem = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const publicKeyPem = `-----BEGIN PUBLIC KEY-----\n${spki
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END PUBLIC KEY-----\n`;
  return { privateKeyPem, publicKeyPem };
}

/** 40 upper-case hex digits with a non-zero, positive leading byte (DER integers must stay 20 bytes). */
export function newSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = (bytes[0] & 0x3f) | 0x10;
  return bytes.toString('hex').toUpperCase();
}

export interface LocalCa {
  keys: CryptoKeyPair;
  certificate: x509.X509Certificate;
  certificatePem: string;
}

export async function createCa(now = new Date()): Promise<LocalCa> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: 'C=CN, O=Tenpay.com, OU=Tenpay.com CA Center, CN=Tenpay.com Root CA (local simulator)',
    notBefore: new Date(now.getTime() - 86_400_000),
    notAfter: new Date(now.getTime() + 10 * 365 * 86_400_000),
    keys,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { keys, certificate, certificatePem: certificate.toString('pem') + '\n' };
}

export interface IssueOptions {
  subject: string;
  notBefore?: Date;
  notAfter?: Date;
  serialNo?: string;
}

export async function issueCertificate(ca: LocalCa, opts: IssueOptions): Promise<Required<IssuedPair>> {
  const keys = await generateKeys();
  const serialNo = opts.serialNo ?? newSerial();
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNo,
    subject: opts.subject,
    issuer: ca.certificate.subject,
    notBefore: opts.notBefore ?? new Date(now - 86_400_000),
    notAfter: opts.notAfter ?? new Date(now + 5 * 365 * 86_400_000),
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
    ],
  });
  return { ...(await exportPems(keys)), certificatePem: certificate.toString('pem') + '\n', serialNo };
}

export async function generateKeyPair(): Promise<IssuedPair> {
  return exportPems(await generateKeys());
}
