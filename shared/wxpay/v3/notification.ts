// Payment and refund notifications: verified over the raw body first, then parsed, decrypted
// (AEAD_AES_256_GCM with the APIv3 key) and shape-checked into WeChat's documented types. Every
// failure is a WxpayVerificationError subclass whose `httpStatus` is the answer to send WeChat.
import type { KeyObject } from 'node:crypto';
import { AEAD_ALGORITHM, aeadDecrypt } from './aead';
import {
  WxpayEmptyBodyError,
  WxpayMalformedJsonError,
  WxpayMalformedResourceError,
  WxpayUnexpectedEventError,
  WxpayUnknownSerialError,
  WxpayUnsupportedAlgorithmError,
} from './errors';
import type { HeaderBag } from './headers';
import type {
  NotificationEnvelope,
  RefundEventType,
  RefundResource,
  TransactionEventType,
  TransactionResource,
} from './types';
import type { Validator } from './validator';

export interface TransactionNotification {
  type: 'transaction';
  envelope: NotificationEnvelope<TransactionEventType>;
  resource: TransactionResource;
  /** Wechatpay-Serial of the key that signed it. */
  serial: string;
}

export interface RefundNotification {
  type: 'refund';
  envelope: NotificationEnvelope<RefundEventType>;
  resource: RefundResource;
  serial: string;
}

export type ParsedNotification = TransactionNotification | RefundNotification;
export type NotificationType = ParsedNotification['type'];

export const TRANSACTION_EVENTS: readonly TransactionEventType[] = ['TRANSACTION.SUCCESS'];
export const REFUND_EVENTS: readonly RefundEventType[] = [
  'REFUND.SUCCESS',
  'REFUND.ABNORMAL',
  'REFUND.CLOSED',
];

export interface NotificationParserOptions {
  validator: Validator;
  /** From parseApiV3Key(WXPAY_APIV3_KEY). */
  apiV3Key: KeyObject;
}

const S = 'notification' as const;

export class NotificationParser {
  private readonly validator: Validator;
  private readonly apiV3Key: KeyObject;

  constructor(opts: NotificationParserOptions) {
    this.validator = opts.validator;
    this.apiV3Key = opts.apiV3Key;
  }

  /**
   * Verifies (refreshing platform certificates once for an unknown serial), decrypts and types a
   * notification. The common case stays synchronous inside; only a refresh awaits.
   */
  parse(
    headers: HeaderBag,
    rawBody: string | Buffer,
    expect?: NotificationType,
  ): Promise<ParsedNotification> {
    try {
      return Promise.resolve(this.parseSync(headers, rawBody, expect));
    } catch (err) {
      if (err instanceof WxpayUnknownSerialError && this.validator.verifier.refresh)
        return this.parseAfterRefresh(headers, rawBody, expect);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what parseSync threw (typed WxpayErrors), unchanged
      return Promise.reject(err);
    }
  }

  private async parseAfterRefresh(
    headers: HeaderBag,
    rawBody: string | Buffer,
    expect?: NotificationType,
  ): Promise<ParsedNotification> {
    const { serial } = await this.validator.validate(S, headers, rawBody);
    return this.decode(rawBody, serial, expect);
  }

  /** The same without certificate refresh: an unknown serial fails at once. */
  parseSync(headers: HeaderBag, rawBody: string | Buffer, expect?: NotificationType): ParsedNotification {
    if (rawBody.length === 0) throw new WxpayEmptyBodyError(S);
    const { serial } = this.validator.validateSync(S, headers, rawBody);
    return this.decode(rawBody, serial, expect);
  }

  async parseTransaction(headers: HeaderBag, rawBody: string | Buffer): Promise<TransactionNotification> {
    return (await this.parse(headers, rawBody, 'transaction')) as TransactionNotification;
  }

  async parseRefund(headers: HeaderBag, rawBody: string | Buffer): Promise<RefundNotification> {
    return (await this.parse(headers, rawBody, 'refund')) as RefundNotification;
  }

  /** Everything after the signature check; the body is authentic from here on. */
  private decode(
    rawBody: string | Buffer,
    serial: string,
    expect: NotificationType | undefined,
  ): ParsedNotification {
    const envelope = parseJson(
      typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'),
      'body',
    ) as NotificationEnvelope<string>;
    if (!isObject(envelope)) throw new WxpayMalformedResourceError(S, 'body', 'a JSON object');
    requireString(envelope.id, 'id');
    requireString(envelope.event_type, 'event_type');
    const type = eventTypeOf(envelope.event_type);
    if (!type || (expect && type !== expect)) {
      const allowed =
        expect === 'transaction'
          ? TRANSACTION_EVENTS
          : expect === 'refund'
            ? REFUND_EVENTS
            : [...TRANSACTION_EVENTS, ...REFUND_EVENTS];
      throw new WxpayUnexpectedEventError(S, envelope.event_type, allowed);
    }
    const r = envelope.resource;
    if (!isObject(r))
      throw new WxpayMalformedResourceError(S, 'resource', 'an object with algorithm, ciphertext, nonce');
    if (r.algorithm !== AEAD_ALGORITHM) throw new WxpayUnsupportedAlgorithmError(S, String(r.algorithm));
    requireString(r.ciphertext, 'resource.ciphertext');
    requireString(r.nonce, 'resource.nonce');
    if (r.associated_data !== undefined && typeof r.associated_data !== 'string')
      throw new WxpayMalformedResourceError(S, 'resource.associated_data', 'a string');
    if (r.original_type !== type)
      throw new WxpayMalformedResourceError(
        S,
        'resource.original_type',
        `"${type}" for ${envelope.event_type}`,
      );
    const plaintext = aeadDecrypt(this.apiV3Key, r, S).toString('utf8');
    const resource = parseJson(plaintext, 'decrypted resource');
    if (type === 'transaction') {
      checkTransaction(resource);
      return { type, envelope: envelope as NotificationEnvelope<TransactionEventType>, resource, serial };
    }
    checkRefund(resource);
    return { type, envelope: envelope as NotificationEnvelope<RefundEventType>, resource, serial };
  }
}

export function eventTypeOf(eventType: string): NotificationType | undefined {
  if ((TRANSACTION_EVENTS as readonly string[]).includes(eventType)) return 'transaction';
  if ((REFUND_EVENTS as readonly string[]).includes(eventType)) return 'refund';
  return undefined;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WxpayMalformedJsonError(S, what, cause);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requireString(v: unknown, field: string): asserts v is string {
  if (typeof v !== 'string' || v.length === 0)
    throw new WxpayMalformedResourceError(S, field, 'a non-empty string');
}

function requireFen(v: unknown, field: string): asserts v is number {
  if (!Number.isSafeInteger(v) || (v as number) < 0)
    throw new WxpayMalformedResourceError(S, field, 'a non-negative integer amount in fen');
}

function checkTransaction(t: unknown): asserts t is TransactionResource {
  if (!isObject(t)) throw new WxpayMalformedResourceError(S, 'resource', 'a transaction object');
  for (const f of ['appid', 'mchid', 'out_trade_no', 'transaction_id', 'trade_state'] as const)
    requireString(t[f], `resource.${f}`);
  if (!isObject(t.payer)) throw new WxpayMalformedResourceError(S, 'resource.payer', 'an object with openid');
  requireString(t.payer.openid, 'resource.payer.openid');
  if (!isObject(t.amount))
    throw new WxpayMalformedResourceError(S, 'resource.amount', 'an object with total and payer_total');
  requireFen(t.amount.total, 'resource.amount.total');
  requireFen(t.amount.payer_total, 'resource.amount.payer_total');
}

function checkRefund(r: unknown): asserts r is RefundResource {
  if (!isObject(r)) throw new WxpayMalformedResourceError(S, 'resource', 'a refund object');
  for (const f of ['mchid', 'out_trade_no', 'transaction_id', 'out_refund_no', 'refund_id'] as const)
    requireString(r[f], `resource.${f}`);
  if (typeof r.refund_status !== 'string' || !['SUCCESS', 'CLOSED', 'ABNORMAL'].includes(r.refund_status))
    throw new WxpayMalformedResourceError(S, 'resource.refund_status', 'SUCCESS, CLOSED or ABNORMAL');
  if (!isObject(r.amount))
    throw new WxpayMalformedResourceError(
      S,
      'resource.amount',
      'an object with total, refund, payer_total, payer_refund',
    );
  for (const f of ['total', 'refund', 'payer_total', 'payer_refund'] as const)
    requireFen(r.amount[f], `resource.amount.${f}`);
}
