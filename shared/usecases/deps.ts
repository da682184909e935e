// What the use cases are given: the repositories, the gateway to WeChat Pay, a logger and, where an
// order can become paid, WeChat's shipping API. A deployed
// function passes the CloudBase database and the configured gateway (shared/http/deps.ts); a unit
// test passes the local emulator and a fake WeChat. Each use case names the part it needs.
import type { NotificationRepository } from '../db/notifications';
import type { OrderRepository } from '../db/orders';
import type { ProductRepository } from '../db/products';
import type { RateLimitRepository } from '../db/rate-limits';
import type { ReconcileCursorRepository } from '../db/reconcile-cursors';
import type { RefundRepository } from '../db/refunds';
import type { PayGateway } from '../gateways/gateway';
import type { Logger } from '../log';
import type { FulfilmentDeps } from './fulfilment';
import type { OrderMessenger } from './messages';

export interface UseCaseDeps {
  orders: OrderRepository;
  refunds: RefundRepository;
  notifications: NotificationRepository;
  products: ProductRepository;
  /** Per-user call counters shared by all instances (shared/usecases/rate-limit.ts). */
  rateLimits: RateLimitRepository;
  /** Where reconcile stopped paging. */
  reconcileCursors: ReconcileCursorRepository;
  gateway: PayGateway;
  log: Logger;
  /**
   * WeChat's shipping API, for the functions that make orders SUCCESS (payNotify, orders, reconcile):
   * virtual goods are uploaded in the invocation that applied their payment. Absent: no upload.
   */
  fulfilment?: FulfilmentDeps;
  /**
   * Subscription messages (WX_SUBSCRIBE_TEMPLATES), for the functions that apply payments, refunds
   * and shipping: sent after the change is applied. Absent: no message.
   */
  messages?: OrderMessenger | undefined;
}
