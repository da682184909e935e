// The deployment description as the tcb CLI reads it (functions[] with runtime, handler, timeout,
// memorySize, installDependency, envVariables, triggers) plus our own httpAccess[] of {name, path},
// which the deploy script turns into `tcb fn deploy --path` routes and the local host serves.
import { readFileSync } from 'node:fs';
import { cronProblem } from './cron';

export interface TriggerSpec {
  name: string;
  type: string;
  config: string;
}

export interface FunctionEntry {
  name: string;
  runtime?: string;
  handler?: string;
  installDependency?: boolean;
  timeout?: number;
  memorySize?: number;
  envVariables?: Record<string, string>;
  triggers?: TriggerSpec[];
}

export interface HttpAccessEntry {
  name: string;
  path: string;
}

export interface Cloudbaserc {
  version?: string;
  envId?: string;
  region?: string;
  functionRoot?: string;
  functions: FunctionEntry[];
  httpAccess?: HttpAccessEntry[];
}

export const REQUIRED_RUNTIME = 'Nodejs18.15';
/** Memory sizes CloudBase functions accept (MB). */
export const MEMORY_SIZES = [128, 256, 512, 1024, 2048];

export function loadCloudbaserc(path: string): Cloudbaserc {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(
      `cannot read ${path}; run from the repository root or pass --config <path to cloudbaserc.json>`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); fix the file`);
  }
  if (!raw || typeof raw !== 'object' || !Array.isArray((raw as Cloudbaserc).functions)) {
    throw new Error(`${path} has no "functions" array; every cloud function must be listed there`);
  }
  return raw as Cloudbaserc;
}

/** Problems with the description itself (docs/deploy.md#cloudbasercjson), one message each. */
export function cloudbasercProblems(rc: Cloudbaserc): string[] {
  const out: string[] = [];
  if (rc.envId !== undefined && rc.envId !== '{{env.TCB_ENV_ID}}') {
    out.push(
      `cloudbaserc.json: "envId" must be "{{env.TCB_ENV_ID}}" so that the environment comes from .env, not from the committed file`,
    );
  }
  const names = new Set<string>();
  for (const f of rc.functions) {
    const where = `cloudbaserc.json: function ${f.name}`;
    if (names.has(f.name)) out.push(`${where} is listed twice; keep one entry`);
    names.add(f.name);
    if (f.runtime !== REQUIRED_RUNTIME)
      out.push(`${where}: set "runtime": "${REQUIRED_RUNTIME}" (the bundles target Node 18)`);
    if (f.handler !== 'index.main')
      out.push(`${where}: set "handler": "index.main" (the bundle exports main from index.js)`);
    if (f.installDependency !== false)
      out.push(
        `${where}: set "installDependency": false (the bundle is self-contained; installing would add cold-start time)`,
      );
    if (typeof f.timeout !== 'number' || f.timeout < 1 || f.timeout > 900)
      out.push(`${where}: set "timeout" to a number of seconds (1–900)`);
    if (typeof f.memorySize !== 'number' || !MEMORY_SIZES.includes(f.memorySize))
      out.push(`${where}: set "memorySize" to one of ${MEMORY_SIZES.join(', ')} (MB)`);
    for (const t of f.triggers ?? []) {
      if (t.type !== 'timer')
        out.push(
          `${where}: trigger ${t.name} has type "${t.type}"; CloudBase config triggers are "timer" only`,
        );
      if (!/^[A-Za-z][A-Za-z0-9_-]{0,59}$/.test(t.name ?? ''))
        out.push(
          `${where}: trigger name "${t.name}" must start with a letter and use up to 60 of A-Z a-z 0-9 - _`,
        );
      const cron = cronProblem(String(t.config ?? ''));
      if (cron) out.push(`${where}: trigger ${t.name} cron "${t.config}" ${cron}`);
    }
    if ((f.triggers ?? []).length > 1)
      out.push(`${where}: CloudBase allows one timer trigger per function; keep one`);
  }
  const paths = new Set<string>();
  for (const r of rc.httpAccess ?? []) {
    if (!names.has(r.name))
      out.push(
        `cloudbaserc.json: httpAccess ${r.path} points at function ${r.name}, which is not in "functions"`,
      );
    if (!/^\/[A-Za-z0-9/_-]*$/.test(r.path))
      out.push(`cloudbaserc.json: httpAccess path "${r.path}" must start with / and use A-Z a-z 0-9 / _ -`);
    if (paths.has(r.path)) out.push(`cloudbaserc.json: httpAccess path ${r.path} is listed twice`);
    paths.add(r.path);
  }
  return out;
}

export function routeFor(rc: Cloudbaserc, functionName: string): string | undefined {
  return rc.httpAccess?.find((r) => r.name === functionName)?.path;
}
