// The deployment plan: what `npm run deploy` will send, per function, and the tcb commands that do it.
// Pure: built from the description, the selected variables and the bundle sizes; printed by name only.
import type { Cloudbaserc, TriggerSpec } from './cloudbaserc';
import { routeFor } from './cloudbaserc';
import { VARIABLE_LIMIT_BYTES, variableBytes } from './variables';

export interface FunctionPlan {
  name: string;
  runtime: string;
  handler: string;
  timeout: number;
  memorySize: number;
  bytes: number;
  /** Variable names only; the values stay in the deployer's environment. */
  variables: string[];
  variableBytes: number;
  route?: string;
  trigger?: TriggerSpec;
}

export interface DeployPlan {
  envId: string;
  functions: FunctionPlan[];
  routes: Array<{ path: string; name: string; url: string }>;
  /** argv of each tcb invocation (after `tcb`), in order. */
  commands: string[][];
  derivedConfigPath: string;
}

export interface PlanInput {
  rc: Cloudbaserc;
  envId: string;
  variables: Record<string, Record<string, string>>;
  bytes: Record<string, number>;
  derivedConfigPath: string;
  only?: string[];
}

export function buildPlan(input: PlanInput): DeployPlan {
  const { rc, envId } = input;
  const selected = rc.functions.filter((f) => !input.only?.length || input.only.includes(f.name));
  const functions: FunctionPlan[] = selected.map((f) => {
    const vars = input.variables[f.name] ?? {};
    const plan: FunctionPlan = {
      name: f.name,
      runtime: f.runtime ?? '',
      handler: f.handler ?? '',
      timeout: f.timeout ?? 0,
      memorySize: f.memorySize ?? 0,
      bytes: input.bytes[f.name] ?? 0,
      variables: Object.keys(vars),
      variableBytes: variableBytes(vars),
    };
    const route = routeFor(rc, f.name);
    if (route) plan.route = route;
    if (f.triggers?.[0]) plan.trigger = f.triggers[0];
    return plan;
  });
  const routes = functions
    .filter((f) => f.route)
    .map((f) => ({ path: f.route!, name: f.name, url: `https://${envId}.service.tcloudbase.com${f.route}` }));
  const commands = functions.map((f) => [
    'fn',
    'deploy',
    f.name,
    '--force',
    '--yes',
    '-e',
    envId,
    '--config-file',
    input.derivedConfigPath,
    ...(f.route ? ['--path', f.route] : []),
  ]);
  return { envId, functions, routes, commands, derivedConfigPath: input.derivedConfigPath };
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function formatPlan(plan: DeployPlan, dryRun: boolean): string {
  const lines: string[] = [];
  lines.push(
    `${dryRun ? 'Dry run — nothing will be changed. ' : ''}Deploy plan for CloudBase environment ${plan.envId}`,
  );
  lines.push('');
  lines.push('Functions:');
  for (const f of plan.functions) {
    lines.push(
      `  ${f.name.padEnd(13)} ${kib(f.bytes).padStart(10)}  ${f.runtime} ${f.handler} timeout ${f.timeout}s memory ${f.memorySize} MB${f.route ? `  http ${f.route}` : ''}${f.trigger ? `  timer ${f.trigger.name} "${f.trigger.config}"` : ''}`,
    );
    lines.push(
      `    variables (${f.variables.length}, ${f.variableBytes} of ${VARIABLE_LIMIT_BYTES} bytes): ${f.variables.join(', ') || '(none)'}`,
    );
  }
  lines.push('');
  lines.push('HTTP access routes:');
  if (plan.routes.length === 0) lines.push('  (none)');
  for (const r of plan.routes) lines.push(`  ${r.path.padEnd(16)} → ${r.name.padEnd(13)} ${r.url}`);
  lines.push('');
  lines.push('Triggers:');
  const timers = plan.functions.filter((f) => f.trigger);
  if (timers.length === 0) lines.push('  (none)');
  for (const f of timers)
    lines.push(`  ${f.name}: ${f.trigger!.type} ${f.trigger!.name} "${f.trigger!.config}"`);
  lines.push('');
  lines.push(`Commands (variable values are passed to tcb through its environment, never written to disk):`);
  for (const c of plan.commands) lines.push(`  tcb ${c.join(' ')}`);
  return lines.join('\n');
}
