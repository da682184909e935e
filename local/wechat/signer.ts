// Signs responses and notifications as WeChat Pay does, with the platform certificate's key, the
// WeChat Pay public key's key, or — during a migration — alternating between the two.
import { randomBytes } from 'node:crypto';
import { randomAlnum, rsaSign, v3ResponseMessage } from './crypto';
import type { PlatformKeys } from './merchant';

export type SigningMode = 'certificate' | 'publicKey' | 'migration';
export const SIGNING_MODES: readonly SigningMode[] = ['certificate', 'publicKey', 'migration'];

export type SignChannel = 'response' | 'notification';

export interface SignatureHeaders {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Signature': string;
  'Wechatpay-Serial': string;
}

export class ResponseSigner {
  /** Separate alternation per channel, so neither responses nor notifications stick to one key. */
  private counters = { response: 0, notification: 0 };

  constructor(
    private readonly keys: PlatformKeys,
    private mode: SigningMode,
  ) {
    this.setMode(mode);
  }

  get signingMode(): SigningMode {
    return this.mode;
  }

  setMode(mode: SigningMode): void {
    if (!SIGNING_MODES.includes(mode))
      throw new Error(`signingMode must be one of ${SIGNING_MODES.join(', ')}`);
    if (mode !== 'certificate' && !this.keys.publicKeyId)
      throw new Error(`signingMode ${mode} needs WXPAY_PUBLIC_KEY_ID in the local data`);
    this.mode = mode;
  }

  /** Which key signs the next message: in migration mode every other one uses the public key. */
  private nextKey(channel: SignChannel): 'certificate' | 'publicKey' {
    if (this.mode !== 'migration') return this.mode;
    return this.counters[channel]++ % 2 === 0 ? 'publicKey' : 'certificate';
  }

  /** Wall-clock timestamp: the receiver checks it against its own clock (±5 min). */
  sign(body: string, channel: SignChannel = 'response', nowMs = Date.now()): SignatureHeaders {
    const which = this.nextKey(channel);
    const timestamp = String(Math.floor(nowMs / 1000));
    const nonce = randomAlnum(32);
    const key = which === 'certificate' ? this.keys.certificatePrivateKey : this.keys.publicKeyPrivateKey;
    const serial = which === 'certificate' ? this.keys.certificateSerial : this.keys.publicKeyId!;
    return {
      'Wechatpay-Timestamp': timestamp,
      'Wechatpay-Nonce': nonce,
      'Wechatpay-Signature': rsaSign(v3ResponseMessage(timestamp, nonce, body), key),
      'Wechatpay-Serial': serial,
    };
  }
}

export function requestId(): string {
  return randomBytes(20).toString('hex').toUpperCase();
}
