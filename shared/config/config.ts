// Environment → typed configuration (SPEC §4). Nothing is read at import: each section is read,
// validated and parsed on first use and memoised for the life of the instance (keys are parsed once
// into KeyObjects). Each function validates only the sections it uses (`validateFor`).
import { createSecretKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { ConfigError } from './errors';
import { parseCertificate, parseRsaPrivateKey, parseRsaPublicKey } from './keys';
import { Secret } from './secret';
import type { FunctionName } from './variables';

export type Env = Readonly<Record<string, string | undefined>>;

export const JWT_ISSUER = 'wxcloud-pay';
export const DEFAULT_JWT_TTL_SECONDS = 7200;
export const DEFAULT_REFUND_WINDOW_HOURS = 168;
export const DEFAULT_WXPAY_BASE_URL = 'https://api.mch.weixin.qq.com';
export const DEFAULT_WECHAT_API_BASE_URL = 'https://api.weixin.qq.com';

export type WxpayApiVersion = 'v3' | 'v2';
export type V2SignType = 'MD5' | 'HMAC-SHA256';

/** What a callable needs to accept a Bearer token. */
export interface JwtVerifyConfig {
  /** HS256 key; a KeyObject so that it cannot be printed by accident. */
  secret: KeyObject;
  issuer: string;
  /** The mini-program's appid: a token minted for one app is refused by another. */
  audience: string;
}

/** What login needs to mint one. */
export interface JwtConfig extends JwtVerifyConfig {
  ttlSeconds: number;
}

export interface WechatApiConfig {
  appid: string;
  appSecret: Secret;
  /** Without trailing slash. */
  baseUrl: string;
}

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
 * What a notification endpoint needs in v3 mode (SPEC §4: notifications use the apiV3 key and the
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

const WHERE = {
  WX_APPID: '微信公众平台 → 开发管理 → 开发设置 → AppID',
  WX_APPSECRET: '微信公众平台 → 开发管理 → 开发设置 → AppSecret (reset it there if unknown)',
  WXPAY_MCHID: '商户平台 → 账户中心 → 商户信息 → 微信支付商户号',
  WXPAY_SERIAL_NO:
    '商户平台 → 账户中心 → API安全 → 商户API证书 → 证书序列号 (or `openssl x509 -in apiclient_cert.pem -noout -serial`)',
  WXPAY_APIV3_KEY: '商户平台 → 账户中心 → API安全 → APIv3密钥',
  WXPAY_APIV2_KEY: '商户平台 → 账户中心 → API安全 → API密钥 (v2)',
  WXPAY_PUBLIC_KEY: '商户平台 → 账户中心 → API安全 → 微信支付公钥',
} as const;

export class AppConfig {
  readonly #env: Env;
  readonly #memo = new Map<string, unknown>();

  constructor(env: Env) {
    this.#env = env;
  }

  #once<T>(section: string, read: () => T): T {
    if (this.#memo.has(section)) return this.#memo.get(section) as T;
    const value = read();
    this.#memo.set(section, value);
    return value;
  }

  /** The trimmed value, or undefined when unset or blank. */
  #optional(name: string): string | undefined {
    const raw = this.#env[name];
    if (raw === undefined) return undefined;
    const value = raw.trim();
    return value === '' ? undefined : value;
  }

  #required(name: string, hint: string): string {
    const value = this.#optional(name);
    if (value === undefined)
      throw new ConfigError(
        name,
        `${name} is not set; add it to this function's environment variables (${hint})`,
      );
    return value;
  }

  #integer(name: string, fallback: number, min: number, max: number, meaning: string): number {
    const raw = this.#optional(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw))
      throw new ConfigError(
        name,
        `${name} must be a whole number of ${meaning} between ${min} and ${max}; remove it to use the default ${fallback}`,
      );
    const n = Number(raw);
    if (n < min || n > max)
      throw new ConfigError(
        name,
        `${name} must be between ${min} and ${max} ${meaning} (it is ${n}); remove it to use the default ${fallback}`,
      );
    return n;
  }

  #url(name: string, fallback: string | undefined, example: string): string {
    const raw =
      fallback === undefined ? this.#required(name, `e.g. ${example}`) : (this.#optional(name) ?? fallback);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(name, `${name} is not an absolute URL; set it like ${example}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new ConfigError(
        name,
        `${name} must use https:// (or http:// for the local simulator); set it like ${example}`,
      );
    if (url.username || url.password)
      throw new ConfigError(name, `${name} must not contain credentials; set it like ${example}`);
    if (url.search || url.hash)
      throw new ConfigError(
        name,
        `${name} must not have a query string or fragment (WeChat rejects them); set it like ${example}`,
      );
    return url.toString().replace(/\/+$/, '');
  }

  appid(): string {
    return this.#once('appid', () => {
      const appid = this.#required('WX_APPID', `copy it from ${WHERE.WX_APPID}`);
      if (!/^wx[0-9a-f]{16}$/i.test(appid))
        throw new ConfigError(
          'WX_APPID',
          `WX_APPID must be "wx" followed by 16 hex characters; copy the mini-program's AppID from ${WHERE.WX_APPID}`,
        );
      return appid;
    });
  }

  /** Token verification (every callable). */
  jwtVerifier(): JwtVerifyConfig {
    return this.#once('jwtVerifier', () => {
      const raw = this.#required('JWT_SECRET', 'at least 32 random bytes, e.g. `openssl rand -base64 48`');
      const bytes = Buffer.byteLength(raw, 'utf8');
      if (bytes < 32)
        throw new ConfigError(
          'JWT_SECRET',
          `JWT_SECRET must be at least 32 bytes (it is ${bytes}); generate one with \`openssl rand -base64 48\``,
        );
      return {
        secret: createSecretKey(Buffer.from(raw, 'utf8')),
        issuer: JWT_ISSUER,
        audience: this.appid(),
      };
    });
  }

  /** Token issuing (login): the verifier plus the lifetime. */
  jwt(): JwtConfig {
    return this.#once('jwt', () => ({
      ...this.jwtVerifier(),
      ttlSeconds: this.#integer('JWT_TTL_SECONDS', DEFAULT_JWT_TTL_SECONDS, 60, 30 * 86_400, 'seconds'),
    }));
  }

  wechatApi(): WechatApiConfig {
    return this.#once('wechatApi', () => {
      const appid = this.appid();
      const secret = this.#required('WX_APPSECRET', `copy it from ${WHERE.WX_APPSECRET}`);
      if (!/^[0-9a-f]{32}$/i.test(secret)) {
        throw new ConfigError(
          'WX_APPSECRET',
          `WX_APPSECRET must be 32 hex characters (it is ${secret.length} characters); copy it from ${WHERE.WX_APPSECRET}`,
        );
      }
      return {
        appid,
        appSecret: new Secret(secret),
        baseUrl: this.#url('WECHAT_API_BASE_URL', DEFAULT_WECHAT_API_BASE_URL, DEFAULT_WECHAT_API_BASE_URL),
      };
    });
  }

  apiVersion(): WxpayApiVersion {
    return this.#once('apiVersion', () => {
      const raw = this.#optional('WXPAY_API_VERSION') ?? 'v3';
      if (raw !== 'v3' && raw !== 'v2')
        throw new ConfigError(
          'WXPAY_API_VERSION',
          'WXPAY_API_VERSION must be "v3" (default) or "v2"; remove it to use v3',
        );
      return raw;
    });
  }

  #mchid(): string {
    const mchid = this.#required('WXPAY_MCHID', `copy it from ${WHERE.WXPAY_MCHID}`);
    if (!/^\d{8,12}$/.test(mchid))
      throw new ConfigError(
        'WXPAY_MCHID',
        `WXPAY_MCHID must be the numeric merchant id (8–12 digits); copy it from ${WHERE.WXPAY_MCHID}`,
      );
    return mchid;
  }

  #common(): PayCommonConfig {
    return {
      appid: this.appid(),
      mchid: this.#mchid(),
      baseUrl: this.#url('WXPAY_BASE_URL', DEFAULT_WXPAY_BASE_URL, DEFAULT_WXPAY_BASE_URL),
    };
  }

  /** The merchant private key (`apiclient_key.pem`), parsed once. */
  merchantPrivateKey(): KeyObject {
    return this.#once('merchantPrivateKey', () =>
      parseRsaPrivateKey(
        'WXPAY_PRIVATE_KEY',
        this.#required(
          'WXPAY_PRIVATE_KEY',
          'the content of apiclient_key.pem from 商户平台 → API安全 → 申请API证书',
        ),
      ),
    );
  }

  #serialNo(): string {
    const serialNo = this.#required('WXPAY_SERIAL_NO', `copy it from ${WHERE.WXPAY_SERIAL_NO}`);
    if (!/^[0-9A-Fa-f]{8,64}$/.test(serialNo))
      throw new ConfigError(
        'WXPAY_SERIAL_NO',
        `WXPAY_SERIAL_NO must be the hex serial of the merchant API certificate; copy it from ${WHERE.WXPAY_SERIAL_NO}`,
      );
    return serialNo.toUpperCase();
  }

  #apiV3Key(): KeyObject {
    const v3Key = this.#required('WXPAY_APIV3_KEY', `copy it from ${WHERE.WXPAY_APIV3_KEY}`);
    const keyBytes = Buffer.byteLength(v3Key, 'utf8');
    if (keyBytes !== 32)
      throw new ConfigError(
        'WXPAY_APIV3_KEY',
        `WXPAY_APIV3_KEY must be exactly 32 bytes (it is ${keyBytes}); copy it from ${WHERE.WXPAY_APIV3_KEY}`,
      );
    return createSecretKey(Buffer.from(v3Key, 'utf8'));
  }

  payV3(): PayV3Config {
    return this.#once('payV3', () => {
      const common = this.#common();
      const serialNo = this.#serialNo();
      const apiV3Key = this.#apiV3Key();
      const config: PayV3Config = {
        apiVersion: 'v3',
        ...common,
        serialNo,
        privateKey: this.merchantPrivateKey(),
        apiV3Key,
      };
      const publicKey = this.#publicKey();
      if (publicKey) config.publicKey = publicKey;
      return config;
    });
  }

  /** The v3 notification endpoints' configuration (payNotify, refundNotify). */
  notifyV3(): NotifyV3Config {
    return this.#once('notifyV3', () => {
      const common = this.#common();
      const apiV3Key = this.#apiV3Key();
      const publicKey = this.#publicKey();
      const config: NotifyV3Config = { apiVersion: 'v3', ...common, apiV3Key };
      if (publicKey) config.publicKey = publicKey;
      const hasSerial = this.#optional('WXPAY_SERIAL_NO') !== undefined;
      const hasKey = this.#optional('WXPAY_PRIVATE_KEY') !== undefined;
      if (publicKey && hasSerial !== hasKey) {
        const [missing, present] = hasSerial
          ? ['WXPAY_PRIVATE_KEY', 'WXPAY_SERIAL_NO']
          : ['WXPAY_SERIAL_NO', 'WXPAY_PRIVATE_KEY'];
        throw new ConfigError(
          missing,
          `${missing} is not set but ${present} is; in public-key mode give this function both (to also verify notifications WeChat still signs with a platform certificate while it switches your merchant to the public key) or neither`,
        );
      }
      // Platform-certificate mode downloads the certificates with a signed request: the merchant key is required.
      if (!publicKey || hasSerial)
        config.merchant = { serialNo: this.#serialNo(), privateKey: this.merchantPrivateKey() };
      return config;
    });
  }

  #publicKey(): PayV3Config['publicKey'] {
    const id = this.#optional('WXPAY_PUBLIC_KEY_ID');
    const pem = this.#optional('WXPAY_PUBLIC_KEY');
    if (!id && !pem) return undefined;
    if (!id)
      throw new ConfigError(
        'WXPAY_PUBLIC_KEY_ID',
        `WXPAY_PUBLIC_KEY_ID is not set but WXPAY_PUBLIC_KEY is; set both (the id is shown beside the key in ${WHERE.WXPAY_PUBLIC_KEY}) or neither for platform-certificate mode`,
      );
    if (!pem)
      throw new ConfigError(
        'WXPAY_PUBLIC_KEY',
        `WXPAY_PUBLIC_KEY is not set but WXPAY_PUBLIC_KEY_ID is; set it to pub_key.pem from ${WHERE.WXPAY_PUBLIC_KEY}, or remove both for platform-certificate mode`,
      );
    if (!/^PUB_KEY_ID_[0-9A-Za-z]+$/.test(id))
      throw new ConfigError(
        'WXPAY_PUBLIC_KEY_ID',
        `WXPAY_PUBLIC_KEY_ID must start with PUB_KEY_ID_ followed by letters or digits; copy it from ${WHERE.WXPAY_PUBLIC_KEY}`,
      );
    return { id, key: parseRsaPublicKey('WXPAY_PUBLIC_KEY', pem) };
  }

  payV2(): PayV2Config {
    return this.#once('payV2', () => {
      const common = this.#common();
      const key = this.#required(
        'WXPAY_APIV2_KEY',
        `copy it from ${WHERE.WXPAY_APIV2_KEY}; v2 mode (WXPAY_API_VERSION=v2) needs it`,
      );
      if (key.length !== 32 || !/^[\x21-\x7e]+$/.test(key)) {
        throw new ConfigError(
          'WXPAY_APIV2_KEY',
          `WXPAY_APIV2_KEY must be exactly 32 printable ASCII characters (it is ${key.length} characters); copy it from ${WHERE.WXPAY_APIV2_KEY}`,
        );
      }
      const rawSignType = this.#optional('WXPAY_V2_SIGN_TYPE') ?? 'HMAC-SHA256';
      if (rawSignType !== 'HMAC-SHA256' && rawSignType !== 'MD5')
        throw new ConfigError(
          'WXPAY_V2_SIGN_TYPE',
          'WXPAY_V2_SIGN_TYPE must be "HMAC-SHA256" (default) or "MD5"; remove it to use HMAC-SHA256',
        );
      return {
        apiVersion: 'v2',
        ...common,
        apiV2Key: new Secret(key),
        signType: rawSignType,
      } satisfies PayV2Config;
    });
  }

  /**
   * WXPAY_MERCHANT_CERT (apiclient_cert.pem) with its key WXPAY_PRIVATE_KEY, when configured: the
   * client certificate of v2 refunds (/secapi/pay/refund) over https. Only the refund function reads it.
   */
  v2ClientCertificate(): V2ClientCertificate | undefined {
    return this.#once('v2ClientCertificate', () => {
      const pem = this.#optional('WXPAY_MERCHANT_CERT');
      if (!pem) return undefined;
      const certificate = parseCertificate('WXPAY_MERCHANT_CERT', pem);
      if (this.#optional('WXPAY_PRIVATE_KEY') === undefined) {
        throw new ConfigError(
          'WXPAY_PRIVATE_KEY',
          'WXPAY_PRIVATE_KEY is not set but WXPAY_MERCHANT_CERT is; v2 refunds over https need both: set WXPAY_PRIVATE_KEY to apiclient_key.pem from the same certificate download',
        );
      }
      const privateKey = this.merchantPrivateKey();
      if (!certificate.checkPrivateKey(privateKey)) {
        throw new ConfigError(
          'WXPAY_MERCHANT_CERT',
          'WXPAY_MERCHANT_CERT does not match WXPAY_PRIVATE_KEY; both must come from the same 商户API证书 download (apiclient_cert.pem and apiclient_key.pem)',
        );
      }
      return { privateKey, certificate };
    });
  }

  /** The pay configuration of the mode WXPAY_API_VERSION selects. */
  pay(): PayConfig {
    return this.apiVersion() === 'v2' ? this.payV2() : this.payV3();
  }

  notifyUrl(): string {
    return this.#once('notifyUrl', () =>
      this.#url(
        'WXPAY_NOTIFY_URL',
        undefined,
        'https://<env-id>.service.tcloudbase.com/pay/notify (the payNotify HTTP access path)',
      ),
    );
  }

  refundNotifyUrl(): string {
    return this.#once('refundNotifyUrl', () =>
      this.#url(
        'WXPAY_REFUND_NOTIFY_URL',
        undefined,
        'https://<env-id>.service.tcloudbase.com/refund/notify (the refundNotify HTTP access path)',
      ),
    );
  }

  adminOpenids(): ReadonlySet<string> {
    return this.#once('adminOpenids', () => {
      const list = (this.#optional('ADMIN_OPENIDS') ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      list.forEach((openid, i) => {
        if (!/^[A-Za-z0-9_-]{6,64}$/.test(openid))
          throw new ConfigError(
            'ADMIN_OPENIDS',
            `ADMIN_OPENIDS entry ${i + 1} is not an openid (6–64 characters of A-Z a-z 0-9 _ -); list openids separated by commas`,
          );
      });
      return new Set(list);
    });
  }

  refundWindowHours(): number {
    return this.#once('refundWindowHours', () =>
      this.#integer('REFUND_WINDOW_HOURS', DEFAULT_REFUND_WINDOW_HOURS, 0, 8760, 'hours'),
    );
  }

  /**
   * Reads and validates everything function `name` uses (SPEC §4), so a deployment mistake surfaces
   * at the first invocation with one actionable error instead of half-way through a payment.
   */
  validateFor(name: FunctionName): void {
    const pay = () => {
      const config = this.pay();
      if (name !== 'refund' || config.apiVersion !== 'v2') return;
      if (!this.v2ClientCertificate() && config.baseUrl.startsWith('https:')) {
        throw new ConfigError(
          'WXPAY_MERCHANT_CERT',
          'WXPAY_MERCHANT_CERT is not set; v2 refunds (/secapi/pay/refund) over https need the merchant API certificate: set it to apiclient_cert.pem and WXPAY_PRIVATE_KEY to apiclient_key.pem',
        );
      }
    };
    switch (name) {
      case 'login':
        this.wechatApi();
        this.jwt();
        return;
      case 'createPayment':
        this.jwtVerifier();
        pay();
        this.notifyUrl();
        return;
      case 'orders':
        this.jwtVerifier();
        pay();
        this.adminOpenids();
        return;
      case 'refund':
        this.jwtVerifier();
        pay();
        this.refundNotifyUrl();
        this.adminOpenids();
        this.refundWindowHours();
        return;
      case 'payNotify':
      case 'refundNotify':
        if (this.apiVersion() === 'v3') this.notifyV3();
        else pay();
        return;
      case 'reconcile':
        pay();
        return;
      case 'billReconcile':
        pay();
        this.adminOpenids();
        return;
    }
  }
}

export function createConfig(env: Env = process.env): AppConfig {
  return new AppConfig(env);
}

let processConfig: AppConfig | undefined;

/** The process-wide configuration over `process.env`, created on first call (never at import). */
export function getConfig(): AppConfig {
  processConfig ??= new AppConfig(process.env);
  return processConfig;
}
