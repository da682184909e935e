// Collection names of docs/data-model.md#collections. `products` is the only one clients may read.
export const COLLECTIONS = {
  users: 'users',
  products: 'products',
  orders: 'orders',
  refunds: 'refunds',
  notifications: 'notifications',
  /** WeChat Pay platform certificates shared by all instances (public data; see platform-certificates.ts). */
  platformCertificates: 'platformCertificates',
  /** One document per China-time day: the ledger compared with WeChat Pay's bill (billReconcile). */
  reconciliations: 'reconciliations',
  /** The stable_token shared by all instances in WECHAT_OPENAPI_MODE=https (a secret: functions only). */
  wechatTokens: 'wechatTokens',
  /** Per-user call counters (shared/db/rate-limits.ts): one document per action and openid. */
  rateLimits: 'rateLimits',
  /** Where reconcile's last run stopped paging (one document per list it pages through). */
  reconcileCursors: 'reconcileCursors',
  /** One document per order and event: the subscription message sent, or why not (functions only). */
  messages: 'messages',
} as const;

export type CollectionName = (typeof COLLECTIONS)[keyof typeof COLLECTIONS];
