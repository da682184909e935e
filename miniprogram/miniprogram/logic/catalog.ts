// The catalog comes straight from the `products` collection (readable by every user); prices shown
// here are informative only — createPayment prices the order on the server.
import type { DatabasePort } from '../lib/wx-port';

export interface Product {
  id: string;
  name: string;
  priceFen: number;
  description?: string;
}

/** Documents that do not look like a sellable product are skipped rather than shown broken. */
export function toProduct(doc: unknown): Product | null {
  if (typeof doc !== 'object' || doc === null) return null;
  const d = doc as Record<string, unknown>;
  if (typeof d._id !== 'string' || typeof d.name !== 'string') return null;
  if (typeof d.priceFen !== 'number' || !Number.isSafeInteger(d.priceFen) || d.priceFen <= 0) return null;
  const product: Product = { id: d._id, name: d.name, priceFen: d.priceFen };
  if (typeof d.description === 'string') product.description = d.description;
  return product;
}

export async function loadCatalog(db: DatabasePort, max = 50): Promise<Product[]> {
  const { data } = await db.collection('products').where({ active: true }).limit(max).get();
  return data
    .map(toProduct)
    .filter((p): p is Product => p !== null)
    .sort((a, b) => a.priceFen - b.priceFen || a.name.localeCompare(b.name));
}
