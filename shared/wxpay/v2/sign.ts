// WeChat Pay v2 signatures (商户平台 "签名算法"): the non-empty fields except `sign`, sorted by ASCII
// key, joined `k=v&…`, then `&key=<API v2 key>`; MD5 of that, or HMAC-SHA256 of it keyed with the
// API v2 key; upper-case hex. Pure functions; the key is taken as a Secret or a plain string.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../../config/secret';

export type V2SignType = 'MD5' | 'HMAC-SHA256';
export type V2FieldValue = string | number | null | undefined;
export type V2Fields = Readonly<Record<string, V2FieldValue>>;
export type V2Key = Secret | string;

const reveal = (key: V2Key) => (typeof key === 'string' ? key : key.reveal());

/** `stringA` of the documentation: what is signed, before `&key=` is appended. */
export function v2SignString(fields: V2Fields): string {
  return Object.keys(fields)
    .filter((k) => k !== 'sign' && fields[k] !== undefined && fields[k] !== null && fields[k] !== '')
    .sort()
    .map((k) => `${k}=${fields[k]}`)
    .join('&');
}

export function signV2(fields: V2Fields, key: V2Key, signType: V2SignType): string {
  const secret = reveal(key);
  const text = `${v2SignString(fields)}&key=${secret}`;
  const digest =
    signType === 'MD5'
      ? createHash('md5').update(text, 'utf8')
      : createHmac('sha256', secret).update(text, 'utf8');
  return digest.digest('hex').toUpperCase();
}

/** Constant-time check of `fields.sign`; false (never a throw) for a missing or mis-sized sign. */
export function verifyV2Sign(fields: V2Fields, key: V2Key, signType: V2SignType): boolean {
  const given = fields.sign;
  if (typeof given !== 'string' || given === '') return false;
  const expected = Buffer.from(signV2(fields, key, signType), 'utf8');
  const actual = Buffer.from(given, 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
