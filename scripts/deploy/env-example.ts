// .env.example and the envVariables templates of cloudbaserc.json, rendered from the declaration
// (shared/config/declaration.ts). Pure; sync-config-files.ts writes them, deploy.test.ts fails on drift.
import {
  FUNCTION_VARIABLES,
  GROUPS,
  VARIABLES,
  variableSpec,
  type Group,
  type VariableName,
} from '../../shared/config';
import type { Cloudbaserc } from './cloudbaserc';
import { isKnownFunction } from './variables';

const HEADER = [
  '# wxcloud-pay — deployment configuration. Copy to .env (never commit .env), fill in, then:',
  '#   npm run deploy -- --dry-run     # checks everything and prints the plan; changes nothing',
  '#   npm run deploy                  # builds, checks, deploys with tcb',
  '# Each function is deployed with only the variables it reads (shared/config/declaration.ts), because',
  '# CloudBase allows 4 KB of variables per function. Keys may be written as PEM with literal \\n on one',
  '# line, or as the bare base64 body (no BEGIN/END lines) — the shortest form.',
  '# The local stack does not read this file: it generates its own configuration in .local/env.',
  '# Generated from shared/config/declaration.ts by `npx tsx scripts/deploy/sync-config-files.ts`.',
];

const RULE_WIDTH = 96;

export function renderEnvExample(): string {
  const lines = [...HEADER];
  const names = Object.keys(VARIABLES) as VariableName[];
  for (const group of Object.keys(GROUPS) as Group[]) {
    const members = names.filter((name) => variableSpec(name).group === group);
    if (members.length === 0) continue;
    const title = `# --- ${GROUPS[group]} `;
    lines.push('', title + '-'.repeat(Math.max(3, RULE_WIDTH - title.length)));
    for (const name of members) {
      const spec = variableSpec(name);
      for (const doc of spec.doc) lines.push(`# ${doc.replace('{default}', spec.default ?? '')}`);
      lines.push(`${name}=${spec.example ?? spec.default ?? ''}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `rc` with each declared function's envVariables set to a "{{env.NAME}}" template per variable. */
export function withDeclaredTemplates(rc: Cloudbaserc): Cloudbaserc {
  return {
    ...rc,
    functions: rc.functions.map((f) => {
      if (!isKnownFunction(f.name)) return f;
      const { required, optional } = FUNCTION_VARIABLES[f.name];
      const envVariables = Object.fromEntries([...required, ...optional].map((k) => [k, `{{env.${k}}}`]));
      return { ...f, envVariables };
    }),
  };
}
