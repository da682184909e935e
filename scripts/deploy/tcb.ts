// Thin adapter over the tcb CLI (@cloudbase/cli). The derived cloudbaserc holds "{{env.NAME}}"
// templates only; tcb renders them from its own environment, which is where the values go.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import type { Cloudbaserc } from './cloudbaserc';

export function tcbBin(): string {
  return require.resolve('@cloudbase/cli/bin/tcb');
}

/**
 * tcb substitutes `"{{env.X}}"` into the JSON text of the config without escaping, then parses it;
 * handing it the JSON-escaped form makes any value (quotes, backslashes, literal \n) arrive intact.
 */
export function escapeForTcb(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** The config tcb deploys from: functions with exactly their variables, envId concrete, root relative to cwd. */
export function derivedConfig(
  rc: Cloudbaserc,
  envId: string,
  variables: Record<string, Record<string, string>>,
  buildDir: string,
  cwd: string,
): Cloudbaserc {
  return {
    ...rc,
    envId,
    functionRoot: relative(cwd, buildDir) || '.',
    functions: rc.functions.map((f) => ({
      ...f,
      envVariables: Object.fromEntries(Object.keys(variables[f.name] ?? {}).map((k) => [k, `{{env.${k}}}`])),
    })),
  };
}

export function writeDerivedConfig(path: string, config: Cloudbaserc): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(config, null, 2) + '\n');
}

export type TcbRunner = (args: string[], env: Record<string, string>, cwd: string) => Promise<number>;

export const runTcb: TcbRunner = (args, env, cwd) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tcbBin(), ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
