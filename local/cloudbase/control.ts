// Control API under /emu/ (JSON over HTTP) for tests, the console and the CLI:
//   POST   /emu/reset            {collection?, drop?}  empty one collection or all (collections stay
//                                        unless drop: true); also rolls back open transactions and clears faults
//   GET    /emu/collections                     [{name, count}]
//   GET    /emu/dump/<collection>               [documents] (relaxed EJSON: dates as {"$date": …})
//   POST   /emu/collections      {name}         create a collection
//   GET    /emu/faults                          active faults
//   POST   /emu/faults           {action, collection?, count, error?: {code, message}, delayMs?,
//                                  lostResponse?}  lostResponse: apply the operation, drop the answer
//   DELETE /emu/faults                          clear faults
import { EJSON } from 'bson';
import { invalidParam, PlatformError } from './errors';
import type { Faults } from './faults';
import type { Store } from './store';
import type { TransactionManager } from './transactions';

export interface ControlDeps {
  store: Store;
  faults: Faults;
  transactions: TransactionManager;
}

export interface ControlAnswer {
  status: number;
  body: string;
}

const json = (status: number, value: unknown): ControlAnswer => ({ status, body: JSON.stringify(value) });

function notFound(method: string, path: string): ControlAnswer {
  return json(404, {
    code: 'NOT_FOUND',
    message: `${method} ${path} is not part of the emulator control API (see local/cloudbase/control.ts)`,
  });
}

export function handleControl(method: string, path: string, body: unknown, deps: ControlDeps): ControlAnswer {
  const { store, faults, transactions } = deps;
  const input = (body ?? {}) as Record<string, unknown>;
  if (method === 'POST' && path === '/emu/reset') {
    const collection = input.collection;
    if (collection !== undefined && typeof collection !== 'string')
      throw invalidParam('collection must be a string');
    if (input.drop !== undefined && typeof input.drop !== 'boolean')
      throw invalidParam('drop must be a boolean');
    transactions.abortAll();
    faults.clear();
    store.reset(collection, input.drop === true);
    return json(200, { ok: true, collections: store.names() });
  }
  if (path === '/emu/collections') {
    if (method === 'GET') {
      return json(
        200,
        store.names().map((name) => ({ name, count: store.collection(name).docs.size })),
      );
    }
    if (method === 'POST') {
      store.create(input.name as string);
      return json(200, { ok: true });
    }
  }
  const dump = /^\/emu\/dump\/([^/]+)$/.exec(path);
  if (method === 'GET' && dump) {
    const name = decodeURIComponent(dump[1]);
    const docs = [...store.collection(name).docs.values()];
    return { status: 200, body: EJSON.stringify(docs, { relaxed: true }) };
  }
  if (path === '/emu/faults') {
    if (method === 'GET') return json(200, faults.active());
    if (method === 'POST') return json(200, faults.add(body));
    if (method === 'DELETE') {
      faults.clear();
      return json(200, { ok: true });
    }
  }
  return notFound(method, path);
}

export function controlErrorStatus(err: PlatformError): number {
  return err.code === 'DATABASE_COLLECTION_NOT_EXIST'
    ? 404
    : err.code === 'DATABASE_COLLECTION_ALREADY_EXIST'
      ? 409
      : 400;
}
