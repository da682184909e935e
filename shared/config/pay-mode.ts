// The WeChat Pay configuration of the mode WXPAY_API_VERSION selects: v3 (signed requests, or only
// notifications), or v2. The key material comes from merchant-keys.ts through the memoising
// AppConfig, so that each key is parsed once per instance.
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { EnvReader } from './env-reader';
import { ConfigError } from './errors';
import type { Secret } from './secret';

export type WxpayApiVersion = 'v3' | 'v2';
export type V2SignType = 'MD5' | 'HMAC-SHA256';

export interface PayCommonConfig {
  appid: string;
  mchid: string;
  /** Without trailing slash. */
  baseUrl: string;
}

export interface PayV3Config extends PayCommonConfig {
  apiVersion: 'v3';
  serialNo: string;
  privateKey: KeyObject;
  /** AES-256-GCM key (32 bytes) as a secret KeyObject; `createDecipheriv` accepts it as is. */
  apiV3Key: KeyObject;
  /** Public-key mode (`PUB_KEY_ID_…`); absent = platform-certificate mode. */
  publicKey?: { id: string; key: KeyObject };
}

/**
 * What a notification endpoint needs in v3 mode (notifications use the apiV3 key and the
 * verification keys, not the merchant's signing key). The merchant credentials are present in
 * platform-certificate mode (certificates are downloaded with a signed request) and, optionally, in
 * public-key mode, where they let the endpoint also verify certificate-signed notifications during
 * WeChat's switch from certificates to the public key.
 */
export interface NotifyV3Config extends PayCommonConfig {
  apiVersion: 'v3';
  apiV3Key: KeyObject;
  publicKey?: { id: string; key: KeyObject };
  merchant?: { serialNo: string; privateKey: KeyObject };
}

export interface V2ClientCertificate {
  privateKey: KeyObject;
  certificate: X509Certificate;
}

export interface PayV2Config extends PayCommonConfig {
  apiVersion: 'v2';
  apiV2Key: Secret;
  signType: V2SignType;
}

export type PayConfig = PayV3Config | PayV2Config;

/** The memoised pieces the pay configurations are built from. */
export interface PayParts {
  appid(): string;
  merchantPrivateKey(): KeyObject;
  serialNo(): string;
  apiV3Key(): KeyObject;
  publicKey(): PayV3Config['publicKey'];
  apiV2Key(): Secret;
}

export function readApiVersion(env: EnvReader): WxpayApiVersion {
  return env.choice<WxpayApiVersion>('WXPAY_API_VERSION');
}

function common(env: EnvReader, parts: PayParts): PayCommonConfig {
  return { appid: parts.appid(), mchid: env.matching('WXPAY_MCHID'), baseUrl: env.url('WXPAY_BASE_URL') };
}

export function readPayV3(env: EnvReader, parts: PayParts): PayV3Config {
  const config: PayV3Config = {
    apiVersion: 'v3',
    ...common(env, parts),
    serialNo: parts.serialNo(),
    privateKey: parts.merchantPrivateKey(),
    apiV3Key: parts.apiV3Key(),
  };
  const publicKey = parts.publicKey();
  if (publicKey) config.publicKey = publicKey;
  return config;
}

export function readNotifyV3(env: EnvReader, parts: PayParts): NotifyV3Config {
  const config: NotifyV3Config = { apiVersion: 'v3', ...common(env, parts), apiV3Key: parts.apiV3Key() };
  const publicKey = parts.publicKey();
  if (publicKey) config.publicKey = publicKey;
  const hasSerial = env.isSet('WXPAY_SERIAL_NO');
  const hasKey = env.isSet('WXPAY_PRIVATE_KEY');
  if (publicKey && hasSerial !== hasKey) {
    const [missing, present] = hasSerial
      ? (['WXPAY_PRIVATE_KEY', 'WXPAY_SERIAL_NO'] as const)
      : (['WXPAY_SERIAL_NO', 'WXPAY_PRIVATE_KEY'] as const);
    throw new ConfigError(
      missing,
      `${missing} is not set but ${present} is; in public-key mode give this function both (to also verify notifications WeChat still signs with a platform certificate while it switches your merchant to the public key) or neither`,
    );
  }
  // Platform-certificate mode downloads the certificates with a signed request: the merchant key is required.
  if (!publicKey || hasSerial)
    config.merchant = { serialNo: parts.serialNo(), privateKey: parts.merchantPrivateKey() };
  return config;
}

export function readPayV2(env: EnvReader, parts: PayParts): PayV2Config {
  return {
    apiVersion: 'v2',
    ...common(env, parts),
    apiV2Key: parts.apiV2Key(),
    signType: env.choice<V2SignType>('WXPAY_V2_SIGN_TYPE'),
  };
}
