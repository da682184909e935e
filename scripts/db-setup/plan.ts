// docs/data-model.md as it must exist in a CloudBase environment: collections, their security
// rules, and the indexes the queries of shared/db need. Pure data plus renderers.
import type { CreateIndex } from '@cloudbase/manager-node/types/interfaces';
import { COLLECTIONS, type CollectionName } from '../../shared/db/collections';

export interface IndexKey {
  field: string;
  direction: 1 | -1;
}

export interface IndexSpec {
  name: string;
  keys: IndexKey[];
  unique: boolean;
  /** The query in shared/db this index serves. */
  serves: string;
}

export interface CollectionSpec {
  name: CollectionName;
  /** CloudBase security rule (安全规则) for client SDKs; functions (admin) are not subject to it. */
  rule: { read: boolean; write: boolean };
  indexes: IndexSpec[];
}

const ADMIN_ONLY = { read: false, write: false };

export const DATABASE_PLAN: CollectionSpec[] = [
  { name: COLLECTIONS.users, rule: ADMIN_ONLY, indexes: [] },
  // The catalog is the only thing the mini-program may read directly; nobody writes it from a client.
  { name: COLLECTIONS.products, rule: { read: true, write: false }, indexes: [] },
  {
    name: COLLECTIONS.orders,
    rule: ADMIN_ONLY,
    indexes: [
      {
        name: 'openid_createdAt_desc',
        keys: [
          { field: 'openid', direction: 1 },
          { field: 'createdAt', direction: -1 },
          { field: '_id', direction: -1 },
        ],
        unique: false,
        serves: 'orders list: own orders, newest first, tie-safe cursor on (createdAt, _id)',
      },
      {
        name: 'status_createdAt',
        keys: [
          { field: 'status', direction: 1 },
          { field: 'createdAt', direction: 1 },
        ],
        unique: false,
        serves: 'reconcile: NOTPAY orders older than 5 minutes, paged on (createdAt, _id)',
      },
      {
        name: 'refundingFen_updatedAt',
        keys: [
          { field: 'refundingFen', direction: 1 },
          { field: 'updatedAt', direction: 1 },
        ],
        unique: false,
        serves: 'reconcile: orders holding fen for refunds in flight (abandoned ones are released)',
      },
      {
        name: 'paidAt__id',
        keys: [
          { field: 'paidAt', direction: 1 },
          { field: '_id', direction: 1 },
        ],
        unique: false,
        serves: 'billReconcile: the payments of one day, paged by _id',
      },
    ],
  },
  {
    name: COLLECTIONS.refunds,
    rule: ADMIN_ONLY,
    indexes: [
      {
        name: 'outTradeNo_createdAt',
        keys: [
          { field: 'outTradeNo', direction: 1 },
          { field: 'createdAt', direction: 1 },
        ],
        unique: false,
        serves: 'refunds of an order',
      },
      {
        name: 'status_createdAt',
        keys: [
          { field: 'status', direction: 1 },
          { field: 'createdAt', direction: 1 },
        ],
        unique: false,
        serves: 'reconcile: PROCESSING refunds, paged on (createdAt, _id)',
      },
      {
        name: 'appliedToOrder_status_updatedAt',
        keys: [
          { field: 'appliedToOrder', direction: 1 },
          { field: 'status', direction: 1 },
          { field: 'updatedAt', direction: 1 },
        ],
        unique: false,
        serves: 'reconcile: final refunds whose order update did not land',
      },
      {
        name: 'successAt__id',
        keys: [
          { field: 'successAt', direction: 1 },
          { field: '_id', direction: 1 },
        ],
        unique: false,
        serves: 'billReconcile: the successful refunds of one day, paged by _id',
      },
    ],
  },
  {
    name: COLLECTIONS.notifications,
    rule: ADMIN_ONLY,
    indexes: [
      {
        name: 'eventType_outcome_outTradeNo',
        keys: [
          { field: 'eventType', direction: 1 },
          { field: 'outcome', direction: 1 },
          { field: 'outTradeNo', direction: 1 },
        ],
        unique: false,
        serves: 'payNotify: was this payment event already applied',
      },
      {
        name: 'eventType_outcome_outRefundNo',
        keys: [
          { field: 'eventType', direction: 1 },
          { field: 'outcome', direction: 1 },
          { field: 'outRefundNo', direction: 1 },
        ],
        unique: false,
        serves: 'refundNotify: was this refund event already applied',
      },
    ],
  },
  // Platform certificates are public, but only functions read and write them (read by _id).
  { name: COLLECTIONS.platformCertificates, rule: ADMIN_ONLY, indexes: [] },
  { name: COLLECTIONS.reconciliations, rule: ADMIN_ONLY, indexes: [] },
  { name: COLLECTIONS.wechatTokens, rule: ADMIN_ONLY, indexes: [] },
  // Counters and paging positions are read and written by _id only: no index beyond _id.
  { name: COLLECTIONS.rateLimits, rule: ADMIN_ONLY, indexes: [] },
  { name: COLLECTIONS.reconcileCursors, rule: ADMIN_ONLY, indexes: [] },
  {
    name: COLLECTIONS.messages,
    rule: ADMIN_ONLY,
    indexes: [
      {
        name: 'status_updatedAt',
        keys: [
          { field: 'status', direction: 1 },
          { field: 'updatedAt', direction: 1 },
        ],
        unique: false,
        serves: 'reconcile: subscription messages to send again, oldest first',
      },
    ],
  },
];

/** The rule as the console's 安全规则 editor and the ModifySafeRule API take it. */
export function ruleJson(spec: CollectionSpec): string {
  return JSON.stringify(spec.rule);
}

/** The `UpdateTable` CreateIndexes parameter for a collection (manager-node's `database.updateCollection`). */
export function createIndexesParam(spec: CollectionSpec): CreateIndex[] {
  return spec.indexes.map((ix) => ({
    IndexName: ix.name,
    MgoKeySchema: {
      MgoIsUnique: ix.unique,
      MgoIndexKeys: ix.keys.map((k) => ({ Name: k.field, Direction: String(k.direction) })),
    },
  }));
}

/** Exact console steps for what the server SDK cannot do (rules and indexes). */
export function consoleSteps(plan: CollectionSpec[], envId: string, includeCreate = false): string[] {
  const lines: string[] = [];
  lines.push(
    `In the CloudBase console (https://tcb.cloud.tencent.com/dev?envId=${envId || '<TCB_ENV_ID>'}#/db/doc), for each collection:`,
  );
  for (const spec of plan) {
    lines.push(``);
    lines.push(`  ${spec.name}`);
    if (includeCreate) lines.push(`    文档型数据库 → 新建集合 → name ${spec.name} → 确定`);
    lines.push(`    数据权限 → 自定义安全规则 → paste: ${ruleJson(spec)} → 保存`);
    for (const ix of spec.indexes) {
      const fields = ix.keys.map((k) => `${k.field} ${k.direction === 1 ? '升序' : '降序'}`).join(', ');
      lines.push(
        `    索引管理 → 新建索引: name ${ix.name}; ${ix.unique ? '唯一' : '非唯一'}; fields ${fields}   (${ix.serves})`,
      );
    }
  }
  return lines;
}
