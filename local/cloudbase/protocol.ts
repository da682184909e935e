// The CloudBase database API as @cloudbase/node-sdk (and wx-server-sdk through it) sends it:
// POST <serviceUrl>?env=…&seqId=… with a JSON body { action, envName, collectionName, …params }.
// Success answers carry `requestId` and usually `data`; failures answer 200 with { code, message,
// requestId } because that is what the SDK parses into its errors.
// Over 250 lines because it maps every action the SDKs send, so the wire contract reads in one place.
import { decodeEjson, decodeObject, encodeEjson, type Doc } from './ejson';
import { invalidParam, PlatformError } from './errors';
import type { Faults } from './faults';
import { aggregate, clampLimit, count, find, insert, modify, remove, type DocView } from './operations';
import { checkCollectionName, type Store } from './store';
import type { TransactionManager } from './transactions';

export const ENV_ID = 'local';

/** Request body fields common to every action (the SDK adds tokens we ignore). */
export interface ActionRequest {
  action?: unknown;
  envName?: unknown;
  collectionName?: unknown;
  transactionId?: unknown;
  [param: string]: unknown;
}

export type ActionResponse = { requestId: string; [field: string]: unknown };

/** What one action produced, and whether a lostResponse fault says its answer must never be sent. */
export interface ActionOutcome {
  body: Record<string, unknown>;
  lostResponse: boolean;
}

export interface ProtocolDeps {
  store: Store;
  transactions: TransactionManager;
  faults: Faults;
  envId?: string;
}

type Handler = (req: ActionRequest, deps: ProtocolDeps, now: number) => Record<string, unknown>;

function committedView(store: Store): DocView {
  return {
    scan: (collection) => store.collection(collection).docs.values(),
    get: (collection, id) => store.get(collection, id),
    write: (collection, writes) => store.commit(collection, writes),
  };
}

/** The view an operation runs against: the transaction's overlay when it names one. */
function viewFor(req: ActionRequest, deps: ProtocolDeps): DocView {
  if (req.transactionId === undefined || req.transactionId === null || req.transactionId === '') {
    return committedView(deps.store);
  }
  return deps.transactions.view(deps.transactions.active(req.transactionId));
}

const collectionOf = (req: ActionRequest) => checkCollectionName(req.collectionName);

function queryOf(req: ActionRequest, now: number): Record<string, unknown> {
  if (req.query === undefined || req.query === null || req.query === '') return {};
  return decodeObject(req.query, 'query', now);
}

function optionalObject(value: unknown, what: string, now: number): Record<string, unknown> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  return decodeObject(value, what, now);
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function nonNegativeInt(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw invalidParam(`${what} must be a non-negative integer`);
  }
  return value;
}

/** `order` arrives as {field: ±1}; older clients sent [{field, direction}]. */
function orderOf(value: unknown, now: number): Record<string, 1 | -1> | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const decoded = decodeEjson(value, 'order', now);
  const out: Record<string, 1 | -1> = {};
  if (Array.isArray(decoded)) {
    for (const item of decoded as Array<{ field?: unknown; direction?: unknown }>) {
      if (typeof item?.field !== 'string') throw invalidParam('order items must be {field, direction}');
      out[item.field] = item.direction === 'desc' || item.direction === -1 ? -1 : 1;
    }
    return out;
  }
  if (decoded === null || typeof decoded !== 'object') throw invalidParam('order must encode an object');
  for (const [field, dir] of Object.entries(decoded)) {
    if (dir !== 1 && dir !== -1 && dir !== 'asc' && dir !== 'desc')
      throw invalidParam(`order of "${field}" must be 1 or -1`);
    out[field] = dir === -1 || dir === 'desc' ? -1 : 1;
  }
  return out;
}

function documentsOf(value: unknown, now: number): Doc[] {
  // The SDK sends an array of EJSON strings; one EJSON string of an array is accepted too.
  const decoded = typeof value === 'string' ? decodeEjson(value, 'data', now) : value;
  const items: unknown[] = Array.isArray(decoded) ? decoded : [decoded];
  return items.map((item, i) => {
    const doc = typeof item === 'string' ? decodeEjson(item, `data[${i}]`, now) : item;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      throw invalidParam(`data[${i}] must be a document object`);
    return doc as Doc;
  });
}

const handlers: Record<string, Handler> = {
  'database.addCollection': (req, { store }) => {
    store.create(collectionOf(req));
    return {};
  },

  'database.insertDocument': (req, deps, now) => {
    const collection = collectionOf(req);
    if (req.data === undefined) throw invalidParam('data is required');
    const insertedIds = insert(viewFor(req, deps), collection, documentsOf(req.data, now));
    return { data: { insertedIds } };
  },

  'database.getDocument': (req, deps, now) => {
    const collection = collectionOf(req);
    const offset = nonNegativeInt(req.offset, 'offset') ?? 0;
    const limit = clampLimit(nonNegativeInt(req.limit, 'limit'));
    const docs = find(viewFor(req, deps), collection, {
      query: queryOf(req, now),
      order: orderOf(req.order, now),
      offset,
      limit,
      projection: optionalObject(req.projection, 'projection', now),
    });
    return { data: { list: docs.map(encodeEjson), offset, limit } };
  },

  'database.calculateDocument': (req, deps, now) => {
    const collection = collectionOf(req);
    return { data: { total: count(viewFor(req, deps), collection, queryOf(req, now)) } };
  },

  'database.modifyDocument': (req, deps, now) => {
    const collection = collectionOf(req);
    const result = modify(viewFor(req, deps), collection, {
      query: queryOf(req, now),
      data: decodeObject(req.data, 'data', now),
      multi: bool(req.multi, false),
      merge: bool(req.merge, true),
      upsert: bool(req.upsert, false),
    });
    return { data: { updated: result.updated, matched: result.matched, upsert_id: result.upsertId ?? null } };
  },

  'database.modifyAndReturnDoc': (req, deps, now) => {
    const collection = collectionOf(req);
    const result = modify(viewFor(req, deps), collection, {
      query: queryOf(req, now),
      data: decodeObject(req.data, 'data', now),
      multi: false,
      merge: true,
      upsert: false,
    });
    return { data: { updated: result.updated, doc: result.doc ? encodeEjson(result.doc) : null } };
  },

  'database.removeDocument': (req, deps, now) => {
    const collection = collectionOf(req);
    return {
      data: { deleted: remove(viewFor(req, deps), collection, queryOf(req, now), bool(req.multi, false)) },
    };
  },

  'database.aggregateDocuments': (req, deps, now) => {
    const collection = collectionOf(req);
    if (!Array.isArray(req.stages)) throw invalidParam('stages must be an array of {stageKey, stageValue}');
    const pipeline = (req.stages as Array<{ stageKey?: unknown; stageValue?: unknown }>).map((stage, i) => {
      if (typeof stage?.stageKey !== 'string' || !stage.stageKey.startsWith('$'))
        throw invalidParam(`stages[${i}].stageKey must be like "$match"`);
      return { [stage.stageKey]: decodeEjson(stage.stageValue, `stages[${i}].stageValue`, now) };
    });
    return { data: { list: aggregate(viewFor(req, deps), collection, pipeline).map(encodeEjson) } };
  },

  'database.startTransaction': (_req, { transactions }) => ({ transactionId: transactions.start().id }),

  'database.commitTransaction': (req, { transactions }) => {
    transactions.commit(transactions.active(req.transactionId));
    return {};
  },

  'database.abortTransaction': (req, { transactions }) => {
    try {
      transactions.abort(transactions.active(req.transactionId));
    } catch (err) {
      // Rolling back a transaction that already ended (e.g. aborted by a conflict) is not an error.
      if (!(err instanceof PlatformError)) throw err;
    }
    return {};
  },

  // The legacy doc-level transaction API (@cloudbase/database src/transaction.ts).
  'database.getInTransaction': (req, deps) => {
    const collection = collectionOf(req);
    const doc = deps.transactions.view(deps.transactions.active(req.transactionId)).get(collection, req._id);
    return { data: encodeEjson(doc ?? null) };
  },

  'database.updateDocInTransaction': (req, deps, now) => {
    const collection = collectionOf(req);
    const view = deps.transactions.view(deps.transactions.active(req.transactionId));
    const data = decodeObject(req.data, 'data', now);
    const merge = Object.keys(data).some((k) => k.startsWith('$'));
    const result = modify(view, collection, {
      query: { _id: req._id },
      data,
      multi: false,
      merge,
      upsert: bool(req.upsert, false),
    });
    return {
      updated: JSON.stringify(result.updated),
      upserted: result.upsertId === undefined ? null : JSON.stringify([{ _id: result.upsertId }]),
    };
  },

  'database.deleteDocInTransaction': (req, deps) => {
    const collection = collectionOf(req);
    const view = deps.transactions.view(deps.transactions.active(req.transactionId));
    return { deleted: JSON.stringify(remove(view, collection, { _id: req._id }, false)) };
  },
};

export const SUPPORTED_ACTIONS = Object.keys(handlers);

let requestCounter = 0;
export function newRequestId(): string {
  return `local-${Date.now().toString(36)}-${(++requestCounter).toString(36)}`;
}

/** The collections a fault's `collection` is matched against: the one named, or a commit's writes. */
function collectionsOf(req: ActionRequest, action: string, deps: ProtocolDeps): string[] {
  if (typeof req.collectionName === 'string') return [req.collectionName];
  if (action !== 'database.commitTransaction') return [];
  try {
    return [...deps.transactions.active(req.transactionId).staged.keys()];
  } catch {
    return []; // the commit itself reports the unusable transaction
  }
}

/**
 * Validates the envelope and runs one action. Throws PlatformError for anything the caller did
 * wrong; the server turns it into the platform's error body.
 */
export async function handleAction(req: ActionRequest, deps: ProtocolDeps): Promise<ActionOutcome> {
  if (req === null || typeof req !== 'object' || Array.isArray(req))
    throw invalidParam('request body must be a JSON object');
  const action = req.action;
  if (typeof action !== 'string') throw invalidParam('action is required');
  const handler = handlers[action];
  if (!handler) {
    throw invalidParam(
      `action "${action}" is not supported by the local CloudBase emulator (supported: ${SUPPORTED_ACTIONS.join(', ')})`,
    );
  }
  const envId = deps.envId ?? ENV_ID;
  // An empty envName is the SDK's "default environment" (init without env, or SYMBOL_DEFAULT_ENV).
  if (req.envName !== envId && req.envName !== '' && req.envName !== undefined) {
    throw new PlatformError(
      'INVALID_ENV',
      `environment ${JSON.stringify(req.envName ?? '')} is unknown here; the local emulator serves env "${envId}" (init with env: cloud.DYNAMIC_CURRENT_ENV and TCB_ENV=${envId}, or env: '${envId}')`,
    );
  }
  const fault = deps.faults.take(action, collectionsOf(req, action, deps));
  if (fault) {
    if (fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.error) throw fault.error;
  }
  // Everything below is synchronous: one operation never interleaves with another.
  try {
    return { body: handler(req, deps, Date.now()), lostResponse: fault?.lostResponse ?? false };
  } catch (err) {
    // A lost answer is lost whatever it says: the caller sees the network failure, not this error.
    if (fault?.lostResponse) return { body: {}, lostResponse: true };
    throw err;
  }
}
