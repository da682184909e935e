// Helpers for developers' own tests (like stripe-node's generateTestHeaderString): sign a body as
// WeChat Pay would, and build a complete encrypted notification. Never used on a production path.
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { aeadEncrypt } from '../aead';
import { RsaSigner, SIGNATURE_TYPE, newNonce, signedMessage, unixSeconds, type Signer } from '../signer';
import { eventTypeOf } from '../notification';
import { rfc3339China } from '../time';
import type {
  NotificationEnvelope,
  NotificationEventType,
  RefundResource,
  TransactionResource,
} from '../types';

export interface TestHeaderInput {
  /** WeChat's side of the key pair (platform-certificate key or public-key-mode key), or a Signer. */
  privateKey: KeyObject | string | Signer;
  /** The serial the headers announce: a platform certificate serial or PUB_KEY_ID_…. */
  serial?: string;
  body: string | Buffer;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  nonce?: string;
}

export type WechatpayHeaders = {
  'Wechatpay-Timestamp': string;
  'Wechatpay-Nonce': string;
  'Wechatpay-Signature': string;
  'Wechatpay-Serial': string;
  'Wechatpay-Signature-Type': typeof SIGNATURE_TYPE;
};

function toSigner(key: TestHeaderInput['privateKey'], serial: string | undefined): Signer {
  if (typeof key === 'object' && 'sign' in key && typeof key.sign === 'function') return key;
  if (!serial) throw new Error('generateTestHeaders: pass the serial the headers should announce');
  return new RsaSigner(typeof key === 'string' ? createPrivateKey(key) : (key as KeyObject), serial);
}

/** The Wechatpay-* headers WeChat Pay would send with `body`. */
export function generateTestHeaders(input: TestHeaderInput): WechatpayHeaders {
  const signer = toSigner(input.privateKey, input.serial);
  const timestamp = String(input.timestamp ?? unixSeconds());
  const nonce = input.nonce ?? newNonce();
  const body = typeof input.body === 'string' ? input.body : input.body.toString('utf8');
  return {
    'Wechatpay-Timestamp': timestamp,
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': signer.sign(signedMessage(timestamp, nonce, body)),
    'Wechatpay-Serial': signer.serial,
    'Wechatpay-Signature-Type': SIGNATURE_TYPE,
  };
}

export interface TestNotificationInput<E extends NotificationEventType> extends Omit<
  TestHeaderInput,
  'body'
> {
  apiV3Key: KeyObject;
  eventType: E;
  resource: E extends 'TRANSACTION.SUCCESS' ? TransactionResource : RefundResource;
  id?: string;
  createTime?: string;
  summary?: string;
  associatedData?: string;
}

/** A signed, encrypted notification exactly as WeChat Pay POSTs it: the raw body and its headers. */
export function buildTestNotification<E extends NotificationEventType>(
  input: TestNotificationInput<E>,
): { body: string; headers: WechatpayHeaders } {
  const type = eventTypeOf(input.eventType) ?? 'transaction';
  const associatedData = input.associatedData ?? type;
  const enc = aeadEncrypt(input.apiV3Key, JSON.stringify(input.resource), associatedData);
  const envelope: NotificationEnvelope<E> = {
    id: input.id ?? randomUUID(),
    create_time: input.createTime ?? rfc3339China(Date.now()),
    event_type: input.eventType,
    resource_type: 'encrypt-resource',
    resource: {
      original_type: type,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: enc.ciphertext,
      associated_data: associatedData,
      nonce: enc.nonce,
    },
    summary: input.summary ?? (type === 'transaction' ? '支付成功' : '退款状态变更'),
  };
  const body = JSON.stringify(envelope);
  const { privateKey, serial, timestamp, nonce } = input;
  return { body, headers: generateTestHeaders({ privateKey, serial, body, timestamp, nonce }) };
}

export { rfc3339China };
