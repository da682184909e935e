// `products`: the catalog every price comes from.
import type { Product } from '../domain/catalog';
import { COLLECTIONS } from './collections';
import { getDatabase, run } from './database';

export async function getProducts(ids: readonly string[]): Promise<Map<string, Product>> {
  const map = new Map<string, Product>();
  if (ids.length === 0) return map;
  const _ = getDatabase().command;
  const res = await run('get products', () =>
    getDatabase()
      .collection(COLLECTIONS.products)
      .where({ _id: _.in([...ids]) })
      .limit(ids.length)
      .get(),
  );
  for (const doc of res.data as Product[]) map.set(doc._id, doc);
  return map;
}
