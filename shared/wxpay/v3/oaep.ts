// RSAES-OAEP with SHA-1 (and MGF1-SHA-1), which WeChat Pay uses for sensitive request fields and
// response fields: encrypt with WeChat's key and send its serial in Wechatpay-Serial.
import { constants, privateDecrypt, publicEncrypt, type KeyObject } from 'node:crypto';
import { WxpayConfigError } from '../errors';

/** The public key sensitive fields are encrypted for, and the serial that names it. */
export interface EncryptionKey {
  serial: string;
  publicKey: KeyObject;
}

export interface SensitiveCiphertext {
  /** Base64 ciphertext to put in the field. */
  ciphertext: string;
  /** Send as the Wechatpay-Serial request header. */
  serial: string;
}

export function oaepEncrypt(plaintext: string, key: EncryptionKey): SensitiveCiphertext {
  const ciphertext = publicEncrypt(
    { key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(plaintext, 'utf8'),
  ).toString('base64');
  return { ciphertext, serial: key.serial };
}

export function oaepDecrypt(ciphertextBase64: string, privateKey: KeyObject): string {
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(ciphertextBase64, 'base64')).toString('utf8');
  } catch {
    throw new WxpayConfigError(
      'a sensitive field does not decrypt with WXPAY_PRIVATE_KEY (RSA-OAEP/SHA-1): it was encrypted for another key, or altered',
      'WXPAY_PRIVATE_KEY',
    );
  }
}
