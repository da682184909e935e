// AEAD_AES_256_GCM as WeChat Pay API v3 uses it for notification resources and downloaded
// certificates: key = the 32-byte APIv3 key, nonce = 12 bytes (sent as a 12-character string),
// associated_data as given, ciphertext = base64(encrypted || 16-byte tag).
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { WxpayConfigError } from '../errors';
import { WxpayDecryptionError, type VerificationSubject } from './errors';

export const AEAD_ALGORITHM = 'AEAD_AES_256_GCM';
const TAG_BYTES = 16;
const NONCE_BYTES = 12;

/** The encrypted object as it appears in notifications (`resource`) and certificate downloads. */
export interface AeadCiphertext {
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

/**
 * Turns WXPAY_APIV3_KEY into a KeyObject once. The key is 32 characters of text in the merchant
 * platform and is used as its UTF-8 bytes; anything else is a configuration mistake.
 */
export function parseApiV3Key(value: string | Buffer, variable = 'WXPAY_APIV3_KEY'): KeyObject {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (bytes.length !== 32) {
    throw new WxpayConfigError(
      `${variable} must be exactly 32 bytes (the APIv3 key from 账户中心 → API安全 → 设置APIv3密钥), but it is ${bytes.length} bytes; ` +
        'check for a missing character or surrounding whitespace or quotes',
      variable,
    );
  }
  return createSecretKey(bytes);
}

/** Keys already checked: the check reads the key's size through the native handle, once per key is enough. */
const checkedKeys = new WeakSet<KeyObject>();

function requireAeadKey(key: KeyObject): void {
  if (checkedKeys.has(key)) return;
  if (key.type !== 'secret' || key.symmetricKeySize !== 32) {
    throw new WxpayConfigError(
      `WXPAY_APIV3_KEY must be exactly 32 bytes, but the key given is ${key.type === 'secret' ? `${key.symmetricKeySize} bytes` : `a ${key.type} key`}; create it with parseApiV3Key`,
      'WXPAY_APIV3_KEY',
    );
  }
  checkedKeys.add(key);
}

/** Decrypts and authenticates; throws WxpayDecryptionError on any tag, nonce or length problem. */
export function aeadDecrypt(
  key: KeyObject,
  input: AeadCiphertext,
  subject: VerificationSubject = 'notification',
): Buffer {
  requireAeadKey(key);
  const nonce = Buffer.from(input.nonce, 'utf8');
  if (nonce.length !== NONCE_BYTES)
    throw new WxpayDecryptionError(subject, `nonce must be ${NONCE_BYTES} bytes, got ${nonce.length}`);
  const data = Buffer.from(input.ciphertext, 'base64');
  if (data.length < TAG_BYTES)
    throw new WxpayDecryptionError(
      subject,
      `ciphertext is ${data.length} bytes, shorter than the ${TAG_BYTES}-byte tag`,
    );
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  if (input.associated_data) decipher.setAAD(Buffer.from(input.associated_data, 'utf8'));
  const head = decipher.update(data.subarray(0, data.length - TAG_BYTES));
  try {
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    throw new WxpayDecryptionError(subject, 'tag mismatch');
  }
}

/** The inverse, for tests, the local simulator role and fixtures. A random 12-character nonce by default. */
export function aeadEncrypt(
  key: KeyObject,
  plaintext: string | Buffer,
  associatedData = '',
  nonce = randomNonce12(),
): Required<AeadCiphertext> {
  requireAeadKey(key);
  const nonceBytes = Buffer.from(nonce, 'utf8');
  if (nonceBytes.length !== NONCE_BYTES)
    throw new WxpayConfigError(`an AEAD_AES_256_GCM nonce must be ${NONCE_BYTES} bytes`);
  const cipher = createCipheriv('aes-256-gcm', key, nonceBytes, { authTagLength: TAG_BYTES });
  if (associatedData) cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { ciphertext: body.toString('base64'), nonce, associated_data: associatedData };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomNonce12(): string {
  // 248 = 4 × 62: rejecting bytes above it keeps the characters uniform.
  let out = '';
  while (out.length < NONCE_BYTES)
    for (const b of randomBytes(16)) if (b < 248 && out.length < NONCE_BYTES) out += ALNUM[b % 62];
  return out;
}
