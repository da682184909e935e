// What WeChat knows about the local merchant, from docs/local-stack.md#the-local-data-folder: the
// mini-program bound to the merchant id, the secrets, and the key material on "WeChat's side".
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { LocalData } from '../setup/local-data';

export interface MerchantAccount {
  mchid: string;
  /** Mini-program appids bound to this merchant (APPID_MCHID_NOT_MATCH otherwise). */
  appids: Set<string>;
  apiV3Key: string;
  apiV2Key: string;
  /** Serial of the merchant API certificate the merchant signs requests with. */
  merchantSerial: string;
  merchantPublicKey: KeyObject;
}

export interface PlatformKeys {
  certificateSerial: string;
  certificatePem: string;
  certificate: X509Certificate;
  certificatePrivateKey: KeyObject;
  publicKeyId: string | undefined;
  publicKeyPrivateKey: KeyObject;
  publicKey: KeyObject;
}

export interface AppRegistration {
  appid: string;
  secret: string;
  mchid: string;
}

export interface Registry {
  merchants: Map<string, MerchantAccount>;
  apps: Map<string, AppRegistration>;
  platform: PlatformKeys;
}

function required(env: Record<string, string>, name: string): string {
  const v = env[name];
  if (!v)
    throw new Error(
      `WeChat simulator: local data has no ${name}; delete the local data folder to regenerate it`,
    );
  return v;
}

export function registryFromLocalData(localData: Pick<LocalData, 'env' | 'keys'>): Registry {
  const { env, keys } = localData;
  const mchid = required(env, 'WXPAY_MCHID');
  const appid = required(env, 'WX_APPID');
  const merchantCert = new X509Certificate(keys.merchantCertificate);
  const platformCert = new X509Certificate(keys.platformCertificate);
  const merchant: MerchantAccount = {
    mchid,
    appids: new Set([appid]),
    apiV3Key: required(env, 'WXPAY_APIV3_KEY'),
    apiV2Key: env.WXPAY_APIV2_KEY ?? '',
    merchantSerial: merchantCert.serialNumber.toUpperCase(),
    merchantPublicKey: merchantCert.publicKey,
  };
  const declared = env.WXPAY_SERIAL_NO;
  if (declared && declared.toUpperCase() !== merchant.merchantSerial) {
    throw new Error(
      'WeChat simulator: WXPAY_SERIAL_NO does not match the merchant certificate in the local data',
    );
  }
  return {
    merchants: new Map([[mchid, merchant]]),
    apps: new Map([[appid, { appid, secret: required(env, 'WX_APPSECRET'), mchid }]]),
    platform: {
      certificateSerial: platformCert.serialNumber.toUpperCase(),
      certificatePem: keys.platformCertificate,
      certificate: platformCert,
      certificatePrivateKey: createPrivateKey(keys.platformPrivateKey),
      publicKeyId: env.WXPAY_PUBLIC_KEY_ID || undefined,
      publicKeyPrivateKey: createPrivateKey(keys.publicKeyPrivate),
      publicKey: createPublicKey(keys.publicKey),
    },
  };
}
