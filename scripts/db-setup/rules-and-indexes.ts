// Applies the security rules and indexes of the plan through the Tencent Cloud API, idempotently:
// rules are set every time (ModifySafeRule overwrites), indexes only when DescribeTable lacks them.
import type { ApiCaller } from './tencentcloud';
import { createIndexesParam, ruleJson, type CollectionSpec } from './plan';

const TCB = { service: 'tcb', version: '2018-06-08' };
const FLEXDB = { service: 'flexdb', version: '2018-11-27' };

export interface ApplyReport {
  rules: string[];
  indexesCreated: string[];
  indexesExisting: string[];
}

/** The environment's document-database instance (what flexdb calls the Tag). */
export async function databaseTag(api: ApiCaller, envId: string): Promise<string> {
  const r = await api({ ...TCB, action: 'DescribeEnvs', payload: { EnvId: envId } });
  const env = (
    r.EnvList as Array<{ EnvId?: string; Databases?: Array<{ InstanceId?: string }> }> | undefined
  )?.find((e) => e.EnvId === envId);
  const tag = env?.Databases?.[0]?.InstanceId;
  if (!tag)
    throw new Error(
      `environment ${envId} has no database instance (DescribeEnvs); check TCB_ENV_ID and that the API key may read it`,
    );
  return tag;
}

export async function applyRulesAndIndexes(
  api: ApiCaller,
  envId: string,
  plan: CollectionSpec[],
): Promise<ApplyReport> {
  const report: ApplyReport = { rules: [], indexesCreated: [], indexesExisting: [] };
  for (const spec of plan) {
    await api({
      ...TCB,
      action: 'ModifySafeRule',
      payload: { EnvId: envId, CollectionName: spec.name, AclTag: 'CUSTOM', Rule: ruleJson(spec) },
    });
    report.rules.push(spec.name);
  }
  const withIndexes = plan.filter((s) => s.indexes.length > 0);
  if (withIndexes.length === 0) return report;
  const tag = await databaseTag(api, envId);
  for (const spec of withIndexes) {
    const described = await api({
      ...FLEXDB,
      action: 'DescribeTable',
      payload: { Tag: tag, TableName: spec.name },
    });
    const have = new Set(
      ((described.Indexes as Array<{ Name?: string }> | undefined) ?? []).map((i) => i.Name),
    );
    const missing = createIndexesParam(spec).filter((ix) => !have.has(ix.IndexName));
    for (const ix of spec.indexes)
      (have.has(ix.name) ? report.indexesExisting : report.indexesCreated).push(`${spec.name}.${ix.name}`);
    if (missing.length > 0)
      await api({
        ...FLEXDB,
        action: 'UpdateTable',
        payload: { Tag: tag, TableName: spec.name, CreateIndexes: missing },
      });
  }
  return report;
}
