// The simulator's own implementation of WeChat Pay's cryptography (v3 RSA-SHA256 + AEAD, v2 MD5 /
// HMAC-SHA256 + AES-256-ECB). Deliberately independent of shared/: it is the second implementation
// that the library is tested against. Pure functions over node:crypto.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSign,
  createVerify,
  randomBytes,
  timingSafeEqual,
  type KeyLike,
} from 'node:crypto';

/** The string a merchant signs for a v3 request: method, path with query, timestamp, nonce, body. */
export function v3RequestMessage(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** The string WeChat Pay signs for a response or a notification. */
export function v3ResponseMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/** What `wx.requestPayment` checks for v3 (signType RSA). */
export function v3PaySignMessage(appId: string, timeStamp: string, nonceStr: string, pkg: string): string {
  return `${appId}\n${timeStamp}\n${nonceStr}\n${pkg}\n`;
}

export function rsaSign(message: string, privateKey: KeyLike): string {
  return createSign('RSA-SHA256').update(message).sign(privateKey, 'base64');
}

export function rsaVerify(message: string, signatureBase64: string, publicKey: KeyLike): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signatureBase64)) return false;
  try {
    return createVerify('RSA-SHA256')
      .update(message)
      .verify(publicKey, Buffer.from(signatureBase64, 'base64'));
  } catch {
    return false;
  }
}

/** AEAD_AES_256_GCM as WeChat uses it: base64(ciphertext || 16-byte tag), nonce and AAD as UTF-8 text. */
export function aeadEncrypt(
  apiV3Key: string,
  nonce: string,
  associatedData: string,
  plaintext: string,
): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]).toString('base64');
}

export function aeadDecrypt(
  apiV3Key: string,
  nonce: string,
  associatedData: string,
  ciphertextBase64: string,
): string {
  const raw = Buffer.from(ciphertextBase64, 'base64');
  if (raw.length < 17) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  return Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]).toString(
    'utf8',
  );
}

export type V2SignType = 'MD5' | 'HMAC-SHA256';

/** v2 string to sign: non-empty fields except `sign`, ASCII order, `k=v` joined by `&`, then `&key=`. */
export function v2SignString(params: Record<string, string | number | undefined>, apiV2Key: string): string {
  const parts = Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`);
  return `${parts.join('&')}&key=${apiV2Key}`;
}

export function v2Sign(
  params: Record<string, string | number | undefined>,
  apiV2Key: string,
  signType: V2SignType,
): string {
  const text = v2SignString(params, apiV2Key);
  const digest =
    signType === 'MD5'
      ? createHash('md5').update(text, 'utf8')
      : createHmac('sha256', apiV2Key).update(text, 'utf8');
  return digest.digest('hex').toUpperCase();
}

export function v2SignValid(
  params: Record<string, string | undefined>,
  apiV2Key: string,
  signType: V2SignType,
): boolean {
  const given = params.sign ?? '';
  return safeEqual(given.toUpperCase(), v2Sign(params, apiV2Key, signType));
}

/** `req_info` of a v2 refund notification: AES-256-ECB (PKCS#7) keyed by lowercase hex MD5 of the v2 key. */
export function v2EncryptReqInfo(plainXml: string, apiV2Key: string): string {
  const key = Buffer.from(createHash('md5').update(apiV2Key, 'utf8').digest('hex').toLowerCase(), 'utf8');
  const cipher = createCipheriv('aes-256-ecb', key, null);
  return Buffer.concat([cipher.update(plainXml, 'utf8'), cipher.final()]).toString('base64');
}

export function v2DecryptReqInfo(reqInfoBase64: string, apiV2Key: string): string {
  const key = Buffer.from(createHash('md5').update(apiV2Key, 'utf8').digest('hex').toLowerCase(), 'utf8');
  const decipher = createDecipheriv('aes-256-ecb', key, null);
  return Buffer.concat([decipher.update(Buffer.from(reqInfoBase64, 'base64')), decipher.final()]).toString(
    'utf8',
  );
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlnum(length: number): string {
  let out = '';
  for (const b of randomBytes(length)) out += ALNUM[b % ALNUM.length];
  return out;
}

export function randomDigits(length: number): string {
  let out = '';
  for (const b of randomBytes(length)) out += String(b % 10);
  return out;
}
