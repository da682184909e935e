// What the use cases are given: the repositories, the gateway to WeChat Pay and a logger. A deployed
// function passes the CloudBase database and the configured gateway (shared/http/deps.ts); a unit
// test passes the local emulator and a fake WeChat. Each use case names the part it needs.
import type { NotificationRepository } from '../db/notifications';
import type { OrderRepository } from '../db/orders';
import type { ProductRepository } from '../db/products';
import type { RefundRepository } from '../db/refunds';
import type { PayGateway } from '../gateways/gateway';
import type { Logger } from '../log';

export interface UseCaseDeps {
  orders: OrderRepository;
  refunds: RefundRepository;
  notifications: NotificationRepository;
  products: ProductRepository;
  gateway: PayGateway;
  log: Logger;
}
