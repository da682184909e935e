// Creates once, then reads docs/local-stack.md#the-local-data-folder: the functions' env file pointing at the
// simulator, and every key and certificate the merchant and "WeChat Pay" sides need.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { createCa, generateKeyPair, issueCertificate } from './certificates';

export const KEY_FILES = {
  merchantPrivateKey: 'merchant_private_key.pem',
  merchantCertificate: 'merchant_certificate.pem',
  platformPrivateKey: 'wechatpay_platform_private_key.pem',
  platformCertificate: 'wechatpay_platform_certificate.pem',
  publicKeyPrivate: 'wechatpay_public_key_private.pem',
  publicKey: 'wechatpay_public_key.pem',
  caCertificate: 'tenpay_local_ca_certificate.pem',
} as const;

export type KeyName = keyof typeof KEY_FILES;

export interface LocalPorts {
  host: number;
  wechatSim: number;
  cloudbaseEmu: number;
}

export const DEFAULT_PORTS: LocalPorts = { host: 3000, wechatSim: 3100, cloudbaseEmu: 3200 };

export interface LocalData {
  dir: string;
  /** The functions' configuration (docs/configuration.md): `<dir>/env`, URLs of the requested ports. */
  env: Record<string, string>;
  /** `<dir>/env` as read. */
  fileEnv: Readonly<Record<string, string>>;
  keys: Record<KeyName, string>;
  keyPaths: Record<KeyName, string>;
}

/** One line of PEM with literal `\n`: the form a dotenv file and CloudBase's variable editor accept. */
export function pemToEnvValue(pem: string): string {
  return pem.trim().replace(/\r?\n/g, '\\n');
}

function alnum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** The URL variables that depend on where the local servers listen. */
export function urlEnv(ports: LocalPorts, hostAddress = '127.0.0.1'): Record<string, string> {
  return {
    WXPAY_BASE_URL: `http://${hostAddress}:${ports.wechatSim}`,
    WECHAT_API_BASE_URL: `http://${hostAddress}:${ports.wechatSim}`,
    WXPAY_NOTIFY_URL: `http://${hostAddress}:${ports.host}/pay/notify`,
    WXPAY_REFUND_NOTIFY_URL: `http://${hostAddress}:${ports.host}/refund/notify`,
  };
}

export function serializeEnv(env: Record<string, string>): string {
  const lines = [
    '# Local function configuration (docs/configuration.md), made by wxcloud-pay. Never commit this file.',
  ];
  for (const [k, v] of Object.entries(env)) {
    // In double quotes dotenv turns \n back into a newline: a PEM read from this file writes back as it was.
    lines.push(
      /^[A-Za-z0-9_./:,@+-]*$/.test(v)
        ? `${k}=${v}`
        : `${k}="${v.replace(/"/g, '\\"').replace(/\r?\n/g, '\\n')}"`,
    );
  }
  return lines.join('\n') + '\n';
}

function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

export interface EnsureOptions {
  ports?: Partial<LocalPorts>;
}

/**
 * Creates `dir` with keys and env on first use; afterwards only reads it. URL variables are rewritten
 * to the given ports so that a stack on other ports (tests) still points the functions at itself.
 */
export async function ensureLocalData(dirInput: string, opts: EnsureOptions = {}): Promise<LocalData> {
  const dir = resolve(dirInput);
  const keysDir = join(dir, 'keys');
  const envPath = join(dir, 'env');
  mkdirSync(keysDir, { recursive: true });
  const keyPaths = Object.fromEntries(
    Object.entries(KEY_FILES).map(([k, f]) => [k, join(keysDir, f)]),
  ) as Record<KeyName, string>;

  if (!existsSync(envPath) || !Object.values(keyPaths).every((p) => existsSync(p))) {
    const mchid = `19${String(randomBytes(4).readUInt32BE() % 1e8).padStart(8, '0')}`;
    const ca = await createCa();
    const merchant = await issueCertificate(ca, {
      subject: `CN=${mchid}, O=微信商户系统, OU=local merchant, C=CN`,
    });
    const platform = await issueCertificate(ca, {
      subject: 'CN=Tenpay.com Platform Certificate (local), O=Tenpay.com, C=CN',
    });
    const publicKeyPair = await generateKeyPair();
    const files: Record<KeyName, string> = {
      merchantPrivateKey: merchant.privateKeyPem,
      merchantCertificate: merchant.certificatePem,
      platformPrivateKey: platform.privateKeyPem,
      platformCertificate: platform.certificatePem,
      publicKeyPrivate: publicKeyPair.privateKeyPem,
      publicKey: publicKeyPair.publicKeyPem,
      caCertificate: ca.certificatePem,
    };
    for (const [k, content] of Object.entries(files)) writeAtomic(keyPaths[k as KeyName], content);
    const env: Record<string, string> = {
      WX_APPID: `wx${randomBytes(8).toString('hex')}`,
      WX_APPSECRET: randomBytes(16).toString('hex'),
      WX_MESSAGE_TOKEN: randomBytes(12).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('base64url'),
      JWT_TTL_SECONDS: '7200',
      WXPAY_MCHID: mchid,
      WXPAY_SERIAL_NO: merchant.serialNo,
      WXPAY_PRIVATE_KEY: pemToEnvValue(merchant.privateKeyPem),
      WXPAY_APIV3_KEY: alnum(32),
      WXPAY_PUBLIC_KEY_ID: `PUB_KEY_ID_01${mchid}${new Date().toISOString().slice(0, 10).replace(/-/g, '')}${String(randomBytes(2).readUInt16BE() % 1e4).padStart(4, '0')}`,
      WXPAY_PUBLIC_KEY: pemToEnvValue(publicKeyPair.publicKeyPem),
      WXPAY_API_VERSION: 'v3',
      WXPAY_APIV2_KEY: alnum(32),
      WXPAY_V2_SIGN_TYPE: 'HMAC-SHA256',
      ADMIN_OPENIDS: '',
      REFUND_WINDOW_HOURS: '168',
      ...urlEnv({ ...DEFAULT_PORTS, ...opts.ports }),
    };
    writeAtomic(envPath, serializeEnv(env));
  }

  const fileEnv = parseDotenv(readFileSync(envPath));
  const env = { ...fileEnv };
  if (opts.ports) Object.assign(env, urlEnv({ ...DEFAULT_PORTS, ...opts.ports }));
  const keys = Object.fromEntries(
    Object.entries(keyPaths).map(([k, p]) => [k, readFileSync(p, 'utf8')]),
  ) as Record<KeyName, string>;
  return { dir, env, fileEnv, keys, keyPaths };
}

/** Rewrites `<dir>/env` (atomically) with changed values, keeping the rest. */
export function updateLocalEnv(dir: string, changes: Record<string, string>): Record<string, string> {
  const envPath = join(resolve(dir), 'env');
  const env = { ...parseDotenv(readFileSync(envPath)), ...changes };
  writeAtomic(envPath, serializeEnv(env));
  return env;
}
