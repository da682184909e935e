// Applies the security rules and indexes of the plan, idempotently: rules are set every time
// (ModifySafeRule overwrites), indexes only when the collection lacks them.
import type { DatabaseAdmin } from './cloudbase-manager';
import { createIndexesParam, ruleJson, type CollectionSpec } from './plan';

export interface ApplyReport {
  rules: string[];
  indexesCreated: string[];
  indexesExisting: string[];
}

export async function applyRulesAndIndexes(
  admin: DatabaseAdmin,
  plan: CollectionSpec[],
): Promise<ApplyReport> {
  const report: ApplyReport = { rules: [], indexesCreated: [], indexesExisting: [] };
  for (const spec of plan) {
    await admin.setSecurityRule(spec.name, ruleJson(spec));
    report.rules.push(spec.name);
  }
  for (const spec of plan.filter((s) => s.indexes.length > 0)) {
    const have = await admin.indexNames(spec.name);
    const missing = createIndexesParam(spec).filter((ix) => !have.has(ix.IndexName));
    for (const ix of spec.indexes)
      (have.has(ix.name) ? report.indexesExisting : report.indexesCreated).push(`${spec.name}.${ix.name}`);
    if (missing.length > 0) await admin.createIndexes(spec.name, missing);
  }
  return report;
}
