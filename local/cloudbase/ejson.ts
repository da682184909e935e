// EJSON codec of the database protocol: queries, updates and documents travel as EJSON strings
// (bson's canonical form from the SDK). Decoding yields plain JS values that mingo understands:
// BSON regular expressions become RegExp, and `{$tcb_server_date: {offset}}` (db.serverDate) becomes
// the server's time plus offset — resolved once per request so every field gets the same instant.
import { BSONRegExp, EJSON } from 'bson';
import { invalidParam } from './errors';

export type Doc = Record<string, unknown> & { _id?: unknown };

const JS_FLAGS = new Set(['i', 'm', 's', 'u']);

function toRegExp(re: BSONRegExp): RegExp {
  // MongoDB's `x` (extended) flag has no JS equivalent; dropping it only loosens whitespace rules.
  const flags = [...re.options].filter((f) => JS_FLAGS.has(f)).join('');
  return new RegExp(re.pattern, flags);
}

function normalize(value: unknown, now: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date || value instanceof RegExp) return value;
  if (value instanceof BSONRegExp) return toRegExp(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = normalize(value[i], now);
    return value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value; // other BSON types (ObjectId, Decimal128) as is
  const obj = value as Record<string, unknown>;
  const serverDate = obj.$tcb_server_date as { offset?: unknown } | undefined;
  if (serverDate !== undefined && Object.keys(obj).length === 1) {
    const offset = typeof serverDate?.offset === 'number' ? serverDate.offset : 0;
    return new Date(now + offset);
  }
  for (const key of Object.keys(obj)) obj[key] = normalize(obj[key], now);
  return obj;
}

/** Parses one EJSON string from a request; `what` names the field in the error the caller sees. */
export function decodeEjson(text: unknown, what: string, now = Date.now()): unknown {
  if (typeof text !== 'string') throw invalidParam(`${what} must be an EJSON string, got ${typeof text}`);
  let parsed: unknown;
  try {
    parsed = EJSON.parse(text, { relaxed: true });
  } catch (err) {
    throw invalidParam(`${what} is not valid EJSON: ${(err as Error).message}`);
  }
  return normalize(parsed, now);
}

export function decodeObject(text: unknown, what: string, now = Date.now()): Record<string, unknown> {
  const value = decodeEjson(text, what, now);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidParam(`${what} must encode an object`);
  }
  return value as Record<string, unknown>;
}

/** Re-types values read from storage (relaxed EJSON on disk) the same way as request values. */
export function reviveStored(value: unknown): unknown {
  return normalize(value, Date.now());
}

function ejsonReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Date)
    return { $date: { $numberLong: String(Number.isNaN(raw.getTime()) ? 0 : raw.getTime()) } };
  if (raw instanceof RegExp) return { $regularExpression: { pattern: raw.source, options: raw.flags } };
  if (typeof raw === 'number' && !Number.isFinite(raw)) return { $numberDouble: String(raw) };
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const proto: unknown = Object.getPrototypeOf(raw);
    // Other BSON values (ObjectId, Decimal128…) in their EJSON form.
    if (proto !== Object.prototype && proto !== null) return EJSON.serialize(raw, { relaxed: true });
  }
  return value;
}

/**
 * Relaxed EJSON as bson's EJSON.parse reads it, produced with JSON.stringify and a replacer: about
 * twice as fast as EJSON.stringify, which matters for large pages and collection files.
 */
export function encodeEjson(value: unknown): string {
  return JSON.stringify(value, ejsonReplacer);
}
