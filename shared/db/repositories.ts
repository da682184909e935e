// The repositories of one database handle: what the use cases are given instead of reaching for a
// module-level connection. In a function this is the CloudBase database (`getDatabase()`); in a test,
// the local emulator opened with `openLocalDatabase`.
import { getDatabase, type Database } from './database';
import { notificationRepository, type NotificationRepository } from './notifications';
import { orderRepository, type OrderRepository } from './orders';
import { productRepository, type ProductRepository } from './products';
import { rateLimitRepository, type RateLimitRepository } from './rate-limits';
import { reconcileCursorRepository, type ReconcileCursorRepository } from './reconcile-cursors';
import { refundRepository, type RefundRepository } from './refunds';
import { userRepository, type UserRepository } from './users';

export interface Repositories {
  orders: OrderRepository;
  refunds: RefundRepository;
  notifications: NotificationRepository;
  products: ProductRepository;
  users: UserRepository;
  rateLimits: RateLimitRepository;
  reconcileCursors: ReconcileCursorRepository;
}

export function repositoriesOf(db: Database): Repositories {
  return {
    orders: orderRepository(db),
    refunds: refundRepository(db),
    notifications: notificationRepository(db),
    products: productRepository(db),
    users: userRepository(db),
    rateLimits: rateLimitRepository(db),
    reconcileCursors: reconcileCursorRepository(db),
  };
}

let cached: { db: Database; repositories: Repositories } | undefined;

/** The repositories over this function instance's database handle, created on first use. */
export function getRepositories(): Repositories {
  const db = getDatabase();
  if (cached?.db !== db) cached = { db, repositories: repositoriesOf(db) };
  return cached.repositories;
}
