// The database administration db-setup needs, through @cloudbase/manager-node (the library the tcb
// CLI is built on; it signs Tencent Cloud API 3.0 requests and reports typed errors). Thin adapter:
// the decisions live in rules-and-indexes.ts. manager-node sends every call here to the tcb service
// endpoint, https://tcb.tencentcloudapi.com, or to TCB_BASE_URL when that is set (the offline test
// points it at a loopback server).
import CloudBase from '@cloudbase/manager-node';
import type { CreateIndex } from '@cloudbase/manager-node/types/interfaces';

export type { CreateIndex };

export interface ApiKey {
  secretId: string;
  secretKey: string;
}

/** What db-setup does to an environment's document database beyond creating collections. */
export interface DatabaseAdmin {
  /** Overwrites the collection's security rule with a custom rule (安全规则, JSON text). */
  setSecurityRule(collection: string, rule: string): Promise<void>;
  /** The names of the collection's indexes. */
  indexNames(collection: string): Promise<Set<string>>;
  createIndexes(collection: string, indexes: CreateIndex[]): Promise<void>;
}

export function cloudbaseDatabaseAdmin(envId: string, key: ApiKey): DatabaseAdmin {
  // `new`, not CloudBase.init: init keeps one process-wide instance, whatever the later arguments.
  const manager = new CloudBase({ envId, secretId: key.secretId, secretKey: key.secretKey });
  return {
    async setSecurityRule(collection, rule) {
      // The call the console's 自定义安全规则 editor makes (and CloudBase's own MCP tools in the tcb CLI).
      await manager.commonService().call({
        Action: 'ModifySafeRule',
        Param: { EnvId: envId, CollectionName: collection, AclTag: 'CUSTOM', Rule: rule },
      });
    },
    async indexNames(collection) {
      const table = await manager.database.describeCollection(collection);
      return new Set((table.Indexes ?? []).map((ix) => ix.Name));
    },
    async createIndexes(collection, indexes) {
      await manager.database.updateCollection(collection, { CreateIndexes: indexes });
    },
  };
}

/**
 * One line for a failed call: manager-node's CloudBaseError carries the action, the Tencent Cloud
 * error code and the RequestId to quote to support. It never carries the key.
 */
export function describeApiError(err: unknown): string {
  const e = err as { action?: unknown; code?: unknown; requestId?: unknown; message?: unknown };
  const message = String(e?.message ?? err).replace(/^\[[^\]]*\]\s*/, '');
  const action = typeof e?.action === 'string' && e.action ? `${e.action} failed: ` : '';
  const code = typeof e?.code === 'string' && e.code ? `${e.code} ` : '';
  const requestId = typeof e?.requestId === 'string' && e.requestId ? ` (RequestId ${e.requestId})` : '';
  return `${action}${code}${message}${requestId}`;
}
