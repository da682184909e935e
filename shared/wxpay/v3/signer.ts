// SHA256-RSA2048 signing as WeChat Pay API v3 uses it: for merchant requests (Authorization header),
// for wx.requestPayment parameters and — in tests and the simulator's role — for WeChat's own signatures.
import { randomBytes, sign as rsaSign, type KeyObject } from 'node:crypto';
import { WxpayConfigError } from '../errors';

/** A private key and the serial that names its public half (merchant certificate serial or PUB_KEY_ID_…). */
export interface Signer {
  readonly serial: string;
  /** Base64 RSASSA-PKCS1-v1_5 / SHA-256 signature of the UTF-8 message. */
  sign(message: string | Buffer): string;
}

export class RsaSigner implements Signer {
  constructor(
    private readonly privateKey: KeyObject,
    readonly serial: string,
  ) {
    if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'rsa') {
      throw new WxpayConfigError(
        'the signing key must be an RSA private key (WXPAY_PRIVATE_KEY is apiclient_key.pem from the merchant platform)',
        'WXPAY_PRIVATE_KEY',
      );
    }
  }

  sign(message: string | Buffer): string {
    return rsaSign(
      'sha256',
      typeof message === 'string' ? Buffer.from(message) : message,
      this.privateKey,
    ).toString('base64');
  }
}

/** 32 upper-case hex characters from the CSPRNG (never Math.random: nonces guard against replay). */
export function newNonce(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

/** Unix seconds. */
export function unixSeconds(nowMs: number = Date.now()): number {
  return Math.floor(nowMs / 1000);
}

/** `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n` — the body is the exact bytes sent, '' for GET. */
export function requestMessage(
  method: string,
  pathWithQuery: string,
  timestamp: number | string,
  nonce: string,
  body: string,
): string {
  return `${method.toUpperCase()}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * `timestamp\nnonce\nbody\n` — what WeChat Pay signs on responses and notifications. A Buffer body
 * stays raw bytes (never re-decoded), so the signature is checked over exactly what was received.
 */
export function signedMessage(timestamp: string, nonce: string, body: string): string;
export function signedMessage(timestamp: string, nonce: string, body: string | Buffer): string | Buffer;
export function signedMessage(timestamp: string, nonce: string, body: string | Buffer): string | Buffer {
  if (typeof body === 'string') return `${timestamp}\n${nonce}\n${body}\n`;
  return Buffer.concat([Buffer.from(`${timestamp}\n${nonce}\n`), body, NEWLINE]);
}
const NEWLINE = Buffer.from('\n');

/** The one signature scheme of API v3: in the Authorization header and in Wechatpay-Signature-Type. */
export const SIGNATURE_TYPE = 'WECHATPAY2-SHA256-RSA2048';

export interface AuthorizationParts {
  mchid: string;
  nonce_str: string;
  signature: string;
  timestamp: string;
  serial_no: string;
}

export function formatAuthorization(p: AuthorizationParts): string {
  return `${SIGNATURE_TYPE} mchid="${p.mchid}",nonce_str="${p.nonce_str}",signature="${p.signature}",timestamp="${p.timestamp}",serial_no="${p.serial_no}"`;
}

/** Parses an Authorization header (any parameter order); undefined when it is not WeChat Pay v3's schema. */
export function parseAuthorization(header: string): AuthorizationParts | undefined {
  if (!header.startsWith(`${SIGNATURE_TYPE} `)) return undefined;
  const out: Record<string, string> = {};
  for (const m of header.slice(SIGNATURE_TYPE.length + 1).matchAll(/\s*([a-z_]+)="([^"]*)"\s*(?:,|$)/g))
    out[m[1]] = m[2]!;
  const { mchid, nonce_str, signature, timestamp, serial_no } = out;
  if (!mchid || !nonce_str || !signature || !timestamp || !serial_no) return undefined;
  return { mchid, nonce_str, signature, timestamp, serial_no };
}

export interface SignRequestInput {
  method: string;
  /** Path plus query exactly as sent, e.g. `/v3/pay/transactions/id/420…?mchid=190…`. */
  pathWithQuery: string;
  /** The exact request body; '' (or absent) for GET. */
  body?: string;
  /** Overrides for reproducible tests. */
  timestamp?: number;
  nonce?: string;
}

/** Signs merchant requests: builds the Authorization header value. */
export class RequestSigner {
  constructor(
    readonly mchid: string,
    private readonly signer: Signer,
    private readonly clock: () => number = Date.now,
  ) {
    if (!/^\d{8,12}$/.test(mchid))
      throw new WxpayConfigError(
        'WXPAY_MCHID must be the merchant id digits (商户号), e.g. 1900000109',
        'WXPAY_MCHID',
      );
  }

  get serial(): string {
    return this.signer.serial;
  }

  authorization(input: SignRequestInput): string {
    const timestamp = String(input.timestamp ?? unixSeconds(this.clock()));
    const nonce = input.nonce ?? newNonce();
    const signature = this.signer.sign(
      requestMessage(input.method, input.pathWithQuery, timestamp, nonce, input.body ?? ''),
    );
    return formatAuthorization({
      mchid: this.mchid,
      nonce_str: nonce,
      signature,
      timestamp,
      serial_no: this.signer.serial,
    });
  }
}
