// WeChat Pay API v3. `createWxpayV3` wires the pieces from plain options (shared/config feeds it);
// the modules are also importable one by one — notification.ts, validator.ts, verifier.ts, aead.ts,
// signer.ts and payment.ts do not pull in axios.
import type { KeyObject } from 'node:crypto';
import { CertificateStore, type SharedCertificateStore } from './certificate-store';
import { WxpayV3Client } from './client';
import { NotificationParser } from './notification';
import { oaepEncrypt, type EncryptionKey, type SensitiveCiphertext } from './oaep';
import { buildPaymentParams, type RequestPaymentParams } from './payment';
import { RequestSigner, RsaSigner } from './signer';
import { Validator } from './validator';
import { CompositeVerifier, PublicKeyVerifier } from './verifier';

export * from './aead';
export * from './certificate-store';
export * from './client';
export * from './errors';
export * from './headers';
export * from './http-errors';
export * from './notification';
export * from './oaep';
export * from './payment';
export * from './signer';
export * from './time';
export * from './types';
export * from './validator';
export * from './verifier';

export interface WxpayV3Options {
  /** WXPAY_MCHID */
  mchid: string;
  /** WXPAY_SERIAL_NO: serial of the merchant certificate. */
  serialNo: string;
  /** WXPAY_PRIVATE_KEY, parsed once. */
  privateKey: KeyObject;
  /** WXPAY_APIV3_KEY via parseApiV3Key: needed for notifications and platform-certificate mode. */
  apiV3Key?: KeyObject;
  /** WXPAY_PUBLIC_KEY_ID + WXPAY_PUBLIC_KEY: public-key mode (both modes together = migration). */
  publicKey?: { id: string; key: KeyObject };
  /** WXPAY_BASE_URL */
  baseURL?: string;
  timeoutMs?: number;
  clock?: () => number;
  /** Certificate refresh rate limit; default 60 s. */
  minCertificateRefreshMs?: number;
  /** Platform certificates shared by all instances (e.g. DatabaseCertificateStore), so the limit is deployment-wide. */
  sharedCertificates?: SharedCertificateStore;
  /** Where a failing shared certificate store is reported; default console.warn. */
  warn?: (message: string) => void;
}

export interface WxpayV3 {
  client: WxpayV3Client;
  requestSigner: RequestSigner;
  /** Verifier for every WeChat signature: public key by PUB_KEY_ID_…, otherwise platform certificates. */
  verifier: CompositeVerifier;
  validator: Validator;
  /** Present when apiV3Key is given (platform-certificate mode is possible). */
  certificates: CertificateStore | undefined;
  /** Present when apiV3Key is given. */
  notifications: NotificationParser | undefined;
  paymentParams(appId: string, prepayId: string): RequestPaymentParams;
  /** The key sensitive request fields are encrypted for: the public key when configured, else the newest platform certificate. */
  encryptionKey(): Promise<EncryptionKey>;
  encryptSensitive(plaintext: string): Promise<SensitiveCiphertext>;
}

export function createWxpayV3(opts: WxpayV3Options): WxpayV3 {
  const clock = opts.clock ?? Date.now;
  const signer = new RsaSigner(opts.privateKey, opts.serialNo);
  const requestSigner = new RequestSigner(opts.mchid, signer, clock);
  const publicKey = opts.publicKey ? new PublicKeyVerifier(opts.publicKey.id, opts.publicKey.key) : undefined;
  const certificates: CertificateStore | undefined = opts.apiV3Key
    ? new CertificateStore({
        apiV3Key: opts.apiV3Key,
        // `client` is assigned below; downloads only happen after construction.
        download: (): ReturnType<WxpayV3Client['downloadCertificates']> => client.downloadCertificates(),
        clock,
        publicKey,
        shared: opts.sharedCertificates,
        warn: opts.warn,
        minRefreshIntervalMs: opts.minCertificateRefreshMs,
      })
    : undefined;
  const verifier = new CompositeVerifier({ publicKey, certificates });
  const client = new WxpayV3Client({
    signer: requestSigner,
    verifier,
    clock,
    // An empty base URL or a zero timeout means "the default", as the client reads its options.
    baseURL: opts.baseURL || undefined,
    timeoutMs: opts.timeoutMs || undefined,
  });
  const validator = client.validator;
  const notifications = opts.apiV3Key
    ? new NotificationParser({ validator, apiV3Key: opts.apiV3Key })
    : undefined;
  const encryptionKey = async (): Promise<EncryptionKey> => {
    if (publicKey) return { serial: publicKey.keyId, publicKey: publicKey.publicKey };
    return certificates!.encryptionKey();
  };
  return {
    client,
    requestSigner,
    verifier,
    validator,
    certificates,
    notifications,
    paymentParams: (appId, prepayId) => buildPaymentParams(signer, { appId, prepayId, now: clock() }),
    encryptionKey,
    encryptSensitive: async (plaintext) => oaepEncrypt(plaintext, await encryptionKey()),
  };
}
