// Collection names of SPEC §5. `products` is the only one clients may read.
export const COLLECTIONS = {
  users: 'users',
  products: 'products',
  orders: 'orders',
  refunds: 'refunds',
  notifications: 'notifications',
  /** One document per China-time day: the ledger compared with WeChat Pay's bill (billReconcile). */
  reconciliations: 'reconciliations',
} as const;

export type CollectionName = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];
