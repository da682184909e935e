// `products`: the catalog every price comes from.
import type { Product } from '../domain/catalog';
import { COLLECTIONS } from './collections';
import { run, type Database } from './database';

export interface ProductRepository {
  /** The catalog entries of `ids` that exist, by id. */
  getMany(ids: readonly string[]): Promise<Map<string, Product>>;
}

export function productRepository(db: Database): ProductRepository {
  return {
    async getMany(ids) {
      const map = new Map<string, Product>();
      if (ids.length === 0) return map;
      const _ = db.command;
      const res = await run('get products', () =>
        db
          .collection(COLLECTIONS.products)
          .where({ _id: _.in([...ids]) })
          .limit(ids.length)
          .get(),
      );
      for (const doc of res.data as Product[]) map.set(doc._id, doc);
      return map;
    },
  };
}
