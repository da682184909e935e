// Input validation for callable events. Every reader returns a value of exactly the declared
// primitive type or throws INVALID_ARGUMENT naming the field: an object where a scalar is expected
// (e.g. `{ orderId: { $ne: null } }` or `{ orderId: { _bsontype: ... } }`) never reaches a query.
import { invalidArgument } from './errors';

export type Fields = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A plain JSON object (not null, not an array, no prototype tricks). */
export function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export function readObject(value: unknown, what: string): Fields {
  if (!isPlainObject(value)) throw invalidArgument(`${what} must be an object, got ${describe(value)}`);
  return value;
}

export interface StringRule {
  min?: number;
  max: number;
  pattern?: RegExp;
  /** Shown in the error when the pattern does not match, e.g. "6–32 characters of [A-Za-z0-9_-]". */
  patternHint?: string;
}

function checkString(value: unknown, field: string, rule: StringRule): string {
  if (typeof value !== 'string') throw invalidArgument(`${field} must be a string, got ${describe(value)}`);
  const min = rule.min ?? 1;
  if (value.length < min || value.length > rule.max) {
    throw invalidArgument(`${field} must be ${min}–${rule.max} characters long, got ${value.length}`);
  }
  if (rule.pattern && !rule.pattern.test(value)) {
    throw invalidArgument(
      `${field} has an invalid format${rule.patternHint ? `: expected ${rule.patternHint}` : ''}`,
    );
  }
  return value;
}

export function requireString(obj: Fields, field: string, rule: StringRule): string {
  if (!(field in obj) || obj[field] === undefined) throw invalidArgument(`${field} is required`);
  return checkString(obj[field], field, rule);
}

export function optionalString(obj: Fields, field: string, rule: StringRule): string | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  return checkString(value, field, rule);
}

export interface IntRule {
  min: number;
  max: number;
}

function checkInt(value: unknown, field: string, rule: IntRule): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidArgument(
      `${field} must be an integer, got ${typeof value === 'number' ? String(value) : describe(value)}`,
    );
  }
  if (value < rule.min || value > rule.max)
    throw invalidArgument(`${field} must be between ${rule.min} and ${rule.max}, got ${value}`);
  return value;
}

export function requireInt(obj: Fields, field: string, rule: IntRule): number {
  if (obj[field] === undefined) throw invalidArgument(`${field} is required`);
  return checkInt(obj[field], field, rule);
}

export function optionalInt(obj: Fields, field: string, rule: IntRule): number | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  return checkInt(value, field, rule);
}

export function requireArray(obj: Fields, field: string, rule: IntRule): unknown[] {
  const value = obj[field];
  if (!Array.isArray(value)) throw invalidArgument(`${field} must be an array, got ${describe(value)}`);
  if (value.length < rule.min || value.length > rule.max) {
    throw invalidArgument(`${field} must have ${rule.min}–${rule.max} entries, got ${value.length}`);
  }
  return value;
}

export function requireOneOf<T extends string>(obj: Fields, field: string, allowed: readonly T[]): T {
  const value = obj[field];
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgument(`${field} must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Printable text without control characters (names, reasons, profile fields). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const TEXT_PATTERN = /^[^\u0000-\u001f\u007f]*$/u;
