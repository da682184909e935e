// The database operations over a view of the data (committed store, or a transaction's overlay).
// Matching, sorting, projection and update operators are mingo's (MongoDB semantics); this module
// only adds what the platform defines around them: limits, _id rules, upsert and replace.
// Over 250 lines because every database operation of the protocol shares the one view it reads and writes;
// one place keeps that view's invariants together.
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Aggregator, Query } from 'mingo';
import { Context } from 'mingo/core';
import * as queryOperators from 'mingo/operators/query';
import { Query as BareQuery } from 'mingo/query';
// The updater entry point without the index's full operator context, which it copies on every call.
import { update as applyUpdate } from 'mingo/updater';
import type { Doc } from './ejson';
import { duplicateWrite, invalidParam, PlatformError } from './errors';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

/** A staged write with the document the operation saw, so a view can check for conflicts. */
export interface ViewWrite {
  id: unknown;
  after: Doc | null;
}

export interface DocView {
  /** Throws DATABASE_COLLECTION_NOT_EXIST when the collection is missing. */
  scan(collection: string): Iterable<Doc>;
  get(collection: string, id: unknown): Doc | undefined;
  /** Applies (or stages) the writes of one operation atomically. */
  write(collection: string, writes: ViewWrite[]): void;
}

type Filter = Record<string, unknown>;

export function newDocumentId(): string {
  return randomBytes(16).toString('hex');
}

function isScalarId(v: unknown): v is string | number {
  return typeof v === 'string' || typeof v === 'number';
}

/**
 * Query operators only: mingo copies the whole operator context on every compile, and the full one
 * (with ~140 expression operators) costs more than the match itself on the conditional-update path.
 */
const QUERY_CONTEXT = Context.init({ query: queryOperators });

interface Matcher {
  test(doc: Doc): boolean;
}

const NEEDS_EXPRESSIONS = new Set(['$expr', '$where', '$function', '$jsonSchema']);

function needsExpressions(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof RegExp)
    return false;
  if (Array.isArray(value)) return value.some(needsExpressions);
  for (const [key, inner] of Object.entries(value)) {
    if (NEEDS_EXPRESSIONS.has(key) || needsExpressions(inner)) return true;
  }
  return false;
}

function compile(query: Filter): Matcher {
  try {
    // $expr and friends evaluate expression operators: those get mingo's full context.
    return needsExpressions(query) ? new Query(query) : new BareQuery(query, { context: QUERY_CONTEXT });
  } catch (err) {
    throw invalidParam(`invalid query: ${(err as Error).message}`);
  }
}

function test(q: Matcher, doc: Doc): boolean {
  try {
    return q.test(doc);
  } catch (err) {
    throw invalidParam(`invalid query: ${(err as Error).message}`);
  }
}

/** Documents matching `query` in natural order; `_id` equality is answered from the index. */
function matching(view: DocView, collection: string, query: Filter, max = Infinity): Doc[] {
  const q = compile(query);
  const out: Doc[] = [];
  if (isScalarId(query._id)) {
    view.scan(collection); // existence check, lazily iterated so it costs nothing
    const doc = view.get(collection, query._id);
    if (doc && test(q, doc)) out.push(doc);
    return out;
  }
  for (const doc of view.scan(collection)) {
    if (out.length >= max) break;
    if (test(q, doc)) out.push(doc);
  }
  return out;
}

export interface FindOptions {
  query: Filter;
  order?: Record<string, 1 | -1>;
  offset?: number;
  limit?: number;
  projection?: Record<string, unknown>;
}

export function clampLimit(limit: unknown): number {
  if (limit === undefined || limit === null || limit === 0) return DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw invalidParam(`limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
  }
  return Math.min(limit, MAX_LIMIT);
}

export function find(view: DocView, collection: string, opts: FindOptions): Doc[] {
  const offset = opts.offset ?? 0;
  const limit = clampLimit(opts.limit);
  const hasOrder = opts.order !== undefined && Object.keys(opts.order).length > 0;
  const hasProjection = opts.projection !== undefined && Object.keys(opts.projection).length > 0;
  // Without sorting we can stop scanning once the page is full.
  const docs = matching(view, collection, opts.query, hasOrder ? Infinity : offset + limit);
  if (!hasOrder && !hasProjection) return docs.slice(offset, offset + limit);
  try {
    let cursor = new Query({}).find<Doc>(docs, hasProjection ? opts.projection : undefined);
    if (hasOrder) cursor = cursor.sort(opts.order as never);
    return cursor.skip(offset).limit(limit).all();
  } catch (err) {
    throw invalidParam(`invalid order or projection: ${(err as Error).message}`);
  }
}

export function count(view: DocView, collection: string, query: Filter): number {
  return matching(view, collection, query).length;
}

export function insert(view: DocView, collection: string, docs: Doc[]): unknown[] {
  const seen = new Set<unknown>();
  const writes: ViewWrite[] = [];
  for (const input of docs) {
    const id = input._id === undefined ? newDocumentId() : input._id;
    if (!isScalarId(id)) throw invalidParam('_id must be a string or a number');
    if (seen.has(id) || view.get(collection, id)) throw duplicateWrite(collection, id);
    seen.add(id);
    writes.push({ id, after: { ...input, _id: id } });
  }
  if (writes.length === 0) throw invalidParam('data must hold at least one document');
  view.scan(collection);
  view.write(collection, writes);
  return writes.map((w) => w.id);
}

export interface ModifyOptions {
  query: Filter;
  data: Filter;
  multi: boolean;
  /** true: `data` holds update operators (plain fields are $set); false: `data` replaces the document. */
  merge: boolean;
  upsert: boolean;
}

export interface ModifyResult {
  updated: number;
  matched: number;
  upsertId: unknown;
  /** The last document written, for modifyAndReturnDoc. */
  doc: Doc | undefined;
}

function toModifier(data: Filter): Record<string, Record<string, unknown>> {
  const modifier: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(data)) {
    if (key.startsWith('$')) {
      if (value === null || typeof value !== 'object')
        throw invalidParam(`${key} expects an object of fields`);
      modifier[key] = { ...modifier[key], ...(value as Record<string, unknown>) };
    } else {
      modifier.$set = { ...modifier.$set, [key]: value };
    }
  }
  if (Object.keys(modifier).length === 0) throw invalidParam('update data must not be empty');
  for (const fields of Object.values(modifier)) {
    if ('_id' in fields) throw invalidParam('_id cannot be updated');
  }
  return modifier;
}

/** The positional operator `field.$` needs the query that matched; anything else does not. */
function usesPositional(modifier: Record<string, Record<string, unknown>>): boolean {
  for (const fields of Object.values(modifier))
    for (const path of Object.keys(fields)) if (path.includes('$')) return true;
  return false;
}

function applyModifier(before: Doc, modifier: Record<string, Record<string, unknown>>, query: Filter): Doc {
  // Stored documents are never mutated in place: work on a copy, keep the original for comparison.
  const after = structuredClone(before);
  try {
    applyUpdate(after, modifier as never, undefined, usesPositional(modifier) ? query : undefined);
  } catch (err) {
    throw new PlatformError('DATABASE_REQUEST_FAILED', `update failed: ${(err as Error).message}`);
  }
  return after;
}

function replacement(data: Filter, id: unknown): Doc {
  for (const key of Object.keys(data)) {
    if (key.startsWith('$'))
      throw invalidParam(`set() replaces the document and cannot contain ${key}; use update()`);
  }
  const { _id: _ignored, ...rest } = structuredClone(data);
  return { _id: id, ...rest };
}

export function modify(view: DocView, collection: string, opts: ModifyOptions): ModifyResult {
  const modifier = opts.merge ? toModifier(opts.data) : undefined;
  const targets = matching(view, collection, opts.query, opts.multi ? Infinity : 1);
  const writes: ViewWrite[] = [];
  let upsertId: unknown = undefined;
  let last: Doc | undefined;
  if (targets.length === 0 && opts.upsert) {
    const id = isScalarId(opts.query._id) ? opts.query._id : newDocumentId();
    const doc = modifier ? applyModifier({ _id: id }, modifier, {}) : replacement(opts.data, id);
    writes.push({ id, after: doc });
    upsertId = id;
    last = doc;
  }
  for (const before of targets) {
    const after = modifier ? applyModifier(before, modifier, opts.query) : replacement(opts.data, before._id);
    last = after;
    if (!isDeepStrictEqual(before, after)) writes.push({ id: before._id, after });
  }
  view.write(collection, writes);
  return {
    updated: upsertId === undefined ? writes.length : 0,
    matched: targets.length,
    upsertId,
    doc: last,
  };
}

export function remove(view: DocView, collection: string, query: Filter, multi: boolean): number {
  const targets = matching(view, collection, query, multi ? Infinity : 1);
  view.write(
    collection,
    targets.map((doc) => ({ id: doc._id, after: null })),
  );
  return targets.length;
}

/** Runs an aggregation pipeline (collection.aggregate()…end()) over the view. */
export function aggregate(
  view: DocView,
  collection: string,
  pipeline: Array<Record<string, unknown>>,
): Doc[] {
  const docs = [...view.scan(collection)];
  try {
    return new Aggregator(pipeline).run<Doc>(docs);
  } catch (err) {
    throw invalidParam(`invalid aggregation pipeline: ${(err as Error).message}`);
  }
}
