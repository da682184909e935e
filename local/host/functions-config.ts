// Reads the deployment description (cloudbaserc.json) into what the host enforces: each function's
// timeout and memory, and which HTTP-access paths trigger which function.
import { readFileSync } from 'node:fs';
import { parseCron } from './cron';

export interface TimerTrigger {
  functionName: string;
  triggerName: string;
  // Seven-field schedule, e.g. `0 */5 * * * * *` (every five minutes).
  config: string;
}

export interface FunctionSpec {
  name: string;
  timeoutMs: number;
  memoryMb: number;
  timers: TimerTrigger[];
}

export interface HttpRoute {
  path: string;
  name: string;
}

export interface HostConfig {
  functions: Map<string, FunctionSpec>;
  httpRoutes: HttpRoute[];
}

/** The platform's defaults when cloudbaserc.json leaves them out. */
export const DEFAULT_TIMEOUT_S = 3;
export const DEFAULT_MEMORY_MB = 256;

interface RawCloudbaserc {
  functions?: Array<{
    name?: unknown;
    timeout?: unknown;
    memorySize?: unknown;
    triggers?: Array<{ name?: unknown; type?: unknown; config?: unknown }>;
  }>;
  httpAccess?: Array<{ name?: unknown; path?: unknown }>;
}

export class HostConfigError extends Error {
  override name = 'HostConfigError';
}

export function parseCloudbaserc(json: string, source = 'cloudbaserc.json'): HostConfig {
  let raw: RawCloudbaserc;
  try {
    raw = JSON.parse(json) as RawCloudbaserc;
  } catch (err) {
    throw new HostConfigError(
      `${source} is not valid JSON (${(err as Error).message}); fix the file and restart`,
    );
  }
  const functions = new Map<string, FunctionSpec>();
  for (const f of raw.functions ?? []) {
    if (typeof f.name !== 'string' || f.name === '')
      throw new HostConfigError(`${source}: every entry of "functions" needs a "name"`);
    const timeout = typeof f.timeout === 'number' && f.timeout > 0 ? f.timeout : DEFAULT_TIMEOUT_S;
    const memory = typeof f.memorySize === 'number' && f.memorySize > 0 ? f.memorySize : DEFAULT_MEMORY_MB;
    const timers: TimerTrigger[] = [];
    for (const t of f.triggers ?? []) {
      if (t.type !== 'timer') continue;
      if (typeof t.name !== 'string' || typeof t.config !== 'string')
        throw new HostConfigError(
          `${source}: timer trigger of ${f.name} needs a "name" and a "config" schedule`,
        );
      parseCron(t.config);
      timers.push({ functionName: f.name, triggerName: t.name, config: t.config });
    }
    functions.set(f.name, { name: f.name, timeoutMs: Math.round(timeout * 1000), memoryMb: memory, timers });
  }
  const httpRoutes: HttpRoute[] = [];
  for (const r of raw.httpAccess ?? []) {
    if (typeof r.name !== 'string' || typeof r.path !== 'string' || !r.path.startsWith('/')) {
      throw new HostConfigError(
        `${source}: every entry of "httpAccess" needs a "name" and a "path" starting with /`,
      );
    }
    httpRoutes.push({ name: r.name, path: r.path.replace(/\/+$/, '') || '/' });
  }
  // Longest path first, so /pay/notify/v2 would win over /pay/notify.
  httpRoutes.sort((a, b) => b.path.length - a.path.length);
  return { functions, httpRoutes };
}

export function loadCloudbaserc(path: string): HostConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HostConfigError(
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pass cloudbasercPath pointing at the project's cloudbaserc.json`,
    );
  }
  return parseCloudbaserc(text, path);
}

/** HTTP access matches a configured path and everything below it, as the platform's path routing does. */
export function matchHttpRoute(routes: HttpRoute[], pathname: string): HttpRoute | undefined {
  return routes.find((r) => r.path === '/' || pathname === r.path || pathname.startsWith(r.path + '/'));
}
