// The merchant's key material: the API certificate's key and serial, the apiV3 and v2 keys, the
// WeChat Pay public key, and the v2 client certificate. Keys become KeyObjects (keys.ts).
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { EnvReader } from './env-reader';
import { ConfigError } from './errors';
import { parseCertificate, parseRsaPrivateKey, parseRsaPublicKey } from './keys';
import type { V2ClientCertificate } from './pay-mode';
import { Secret } from './secret';

/** The merchant private key (`apiclient_key.pem`). */
export function readMerchantPrivateKey(env: EnvReader): KeyObject {
  return parseRsaPrivateKey('WXPAY_PRIVATE_KEY', env.required('WXPAY_PRIVATE_KEY'));
}

export function readSerialNo(env: EnvReader): string {
  return env.matching('WXPAY_SERIAL_NO');
}

/** AES-256-GCM key (32 bytes) as a secret KeyObject; `createDecipheriv` accepts it as is. */
export function readApiV3Key(env: EnvReader): KeyObject {
  return createSecretKey(Buffer.from(env.bytes('WXPAY_APIV3_KEY'), 'utf8'));
}

export function readApiV2Key(env: EnvReader): Secret {
  return new Secret(env.matching('WXPAY_APIV2_KEY'));
}

/** Public-key mode (`PUB_KEY_ID_…` + pub_key.pem) when both are set; undefined when neither is. */
export function readPublicKey(env: EnvReader): { id: string; key: KeyObject } | undefined {
  const hasId = env.isSet('WXPAY_PUBLIC_KEY_ID');
  const hasKey = env.isSet('WXPAY_PUBLIC_KEY');
  if (!hasId && !hasKey) return undefined;
  const where = '商户平台 → 账户中心 → API安全 → 微信支付公钥';
  if (!hasId)
    throw new ConfigError(
      'WXPAY_PUBLIC_KEY_ID',
      `WXPAY_PUBLIC_KEY_ID is not set but WXPAY_PUBLIC_KEY is; set both (the id is shown beside the key in ${where}) or neither for platform-certificate mode`,
    );
  if (!hasKey)
    throw new ConfigError(
      'WXPAY_PUBLIC_KEY',
      `WXPAY_PUBLIC_KEY is not set but WXPAY_PUBLIC_KEY_ID is; set it to pub_key.pem from ${where}, or remove both for platform-certificate mode`,
    );
  const id = env.matching('WXPAY_PUBLIC_KEY_ID');
  return { id, key: parseRsaPublicKey('WXPAY_PUBLIC_KEY', env.required('WXPAY_PUBLIC_KEY')) };
}

/**
 * WXPAY_MERCHANT_CERT (apiclient_cert.pem) with its key WXPAY_PRIVATE_KEY, when configured: the
 * client certificate of v2 refunds (/secapi/pay/refund) over https. Whether it is required is the
 * declaration's business (the v2RefundCertificate need); here it is only read and matched to the key.
 */
export function readV2ClientCertificate(
  env: EnvReader,
  privateKey: () => KeyObject,
): V2ClientCertificate | undefined {
  const pem = env.optional('WXPAY_MERCHANT_CERT');
  if (!pem) return undefined;
  const certificate = parseCertificate('WXPAY_MERCHANT_CERT', pem);
  if (!env.isSet('WXPAY_PRIVATE_KEY'))
    throw new ConfigError(
      'WXPAY_PRIVATE_KEY',
      'WXPAY_PRIVATE_KEY is not set but WXPAY_MERCHANT_CERT is; v2 refunds over https need both: set WXPAY_PRIVATE_KEY to apiclient_key.pem from the same certificate download',
    );
  const key = privateKey();
  if (!certificate.checkPrivateKey(key))
    throw new ConfigError(
      'WXPAY_MERCHANT_CERT',
      'WXPAY_MERCHANT_CERT does not match WXPAY_PRIVATE_KEY; both must come from the same 商户API证书 download (apiclient_cert.pem and apiclient_key.pem)',
    );
  return { privateKey: key, certificate };
}
