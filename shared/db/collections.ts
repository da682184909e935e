// Collection names of docs/data-model.md#collections. `products` is the only one clients may read.
export const COLLECTIONS = {
  users: 'users',
  products: 'products',
  orders: 'orders',
  refunds: 'refunds',
  notifications: 'notifications',
} as const;

export type CollectionName = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];
