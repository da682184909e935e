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
    return privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(ciphertextBase64, 'base64'),
    ).toString('utf8');
  } catch {
    throw new WxpayConfigError(
      'a sensitive field does not decrypt with WXPAY_PRIVATE_KEY (RSA-OAEP/SHA-1): it was encrypted for another key, or altered',
      'WXPAY_PRIVATE_KEY',
    );
  }
}

/** Decrypts sensitive fields WeChat Pay encrypted for the merchant (wechatpay-go's Decryptor). */
export interface Decryptor {
  decrypt(ciphertextBase64: string): string;
}

/** Encrypts sensitive request fields for WeChat Pay; send `serial` as the Wechatpay-Serial header. */
export interface Encryptor {
  encrypt(plaintext: string): Promise<SensitiveCiphertext>;
}

export class OaepDecryptor implements Decryptor {
  constructor(private readonly privateKey: KeyObject) {}
  decrypt(ciphertextBase64: string): string {
    return oaepDecrypt(ciphertextBase64, this.privateKey);
  }
}

export class OaepEncryptor implements Encryptor {
  /** `key` resolves the current key: the public key, or the store's newest valid certificate. */
  constructor(private readonly key: () => EncryptionKey | Promise<EncryptionKey>) {}
  async encrypt(plaintext: string): Promise<SensitiveCiphertext> {
    return oaepEncrypt(plaintext, await this.key());
  }
}
