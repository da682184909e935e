// Prepares the local database: the collections the functions use (the platform never creates them on
// first write) and the seed catalog. Idempotent: existing collections and products are left as they are,
// so edits made through the console survive a restart.
import { openLocalDatabase } from '../cloudbase/sdk-env';
import { SEED_PRODUCTS, type SeedProduct } from './products';

// wechatTokens: the access_token shared by all instances in WECHAT_OPENAPI_MODE=https (admin-only).
// rateLimits and reconcileCursors: per-user call counters and reconcile's paging position (admin-only).
// messages: the subscription message of each order and event, sent once (admin-only).
export const COLLECTIONS = [
  'users',
  'products',
  'orders',
  'refunds',
  'notifications',
  'platformCertificates',
  'reconciliations',
  'wechatTokens',
  'rateLimits',
  'reconcileCursors',
  'messages',
] as const;

export interface SeedReport {
  collectionsCreated: string[];
  productsCreated: string[];
}

export async function seedDatabase(
  emulatorUrl: string,
  products: readonly SeedProduct[] = SEED_PRODUCTS,
): Promise<SeedReport> {
  const db = openLocalDatabase(emulatorUrl);
  const collectionsCreated: string[] = [];
  for (const name of COLLECTIONS) {
    const res = (await (db.createCollection(name) as Promise<unknown>).catch((err: unknown) => ({
      code: errorCode(err),
    }))) as {
      code?: string;
    };
    if (res.code && !/EXIST/i.test(res.code))
      throw new Error(
        `cannot create collection ${name} in the emulator at ${emulatorUrl} (${res.code}); is it running?`,
      );
    if (!res.code) collectionsCreated.push(name);
  }
  const productsCreated: string[] = [];
  const coll = db.collection('products');
  for (const p of products) {
    const got = (await coll.doc(p._id).get()) as { data?: unknown[]; code?: string };
    if (got.code) throw new Error(`cannot read products/${p._id} from the emulator (${got.code})`);
    if (got.data && got.data.length > 0) continue;
    const added = (await coll.add({ ...p })) as { id?: string; code?: string; message?: string };
    if (added.code) throw new Error(`cannot seed products/${p._id} (${added.code}: ${added.message ?? ''})`);
    productsCreated.push(p._id);
  }
  return { collectionsCreated, productsCreated };
}

function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) return String(err.code);
  return err instanceof Error ? err.message : String(err);
}
