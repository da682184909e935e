// npm run deploy: build, check everything that would otherwise fail in the cloud, print the plan,
// then deploy function by function with tcb. `--dry-run` stops after the plan and changes nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { FUNCTION_NAMES } from '../../shared/config';
import { buildFunctions, functionNames } from '../build';
import { cloudbasercProblems, loadCloudbaserc, routeFor } from './cloudbaserc';
import { inspectBundle, loadInIsolation } from './bundles';
import { applyHttpApiSwitch, httpApiProblems, httpApiVariables } from './http-api';
import { buildPlan, formatPlan, type DeployPlan } from './plan';
import { derivedConfig, escapeForTcb, runTcb, writeDerivedConfig, type TcbRunner } from './tcb';
import {
  baseUrlProblems,
  isKnownFunction,
  notifyUrlProblems,
  selectVariables,
  sizeProblem,
  variableProblems,
  type NotifyRoute,
} from './variables';

const root = resolve(__dirname, '..', '..');

export interface DeployOptions {
  dryRun: boolean;
  envFile?: string;
  configPath?: string;
  buildDir?: string;
  /** Run `npm run build` first (default true). */
  build?: boolean;
  /** Deploy only these functions. */
  only?: string[];
  /** Directory tcb runs in (its functionRoot is resolved against it). */
  cwd?: string;
  /** Folder that `cloudfunctions/<name>/index.ts` lives in, to spot functions missing from cloudbaserc.json. */
  sourceDir?: string;
  log?: (line: string) => void;
  runner?: TcbRunner;
  /** Load every bundle in an isolated process (default true). */
  isolationCheck?: boolean;
}

export interface DeployResult {
  ok: boolean;
  problems: string[];
  plan?: DeployPlan;
}

export function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) {
    throw new Error(
      `${path} not found; copy .env.example to .env and fill in your environment id and merchant keys (README: Deploy to CloudBase)`,
    );
  }
  return parseDotenv(readFileSync(path));
}

const NOTIFY_ROUTES: Array<{ variable: NotifyRoute['variable']; fn: string }> = [
  { variable: 'WXPAY_NOTIFY_URL', fn: 'payNotify' },
  { variable: 'WXPAY_REFUND_NOTIFY_URL', fn: 'refundNotify' },
];

export async function runDeploy(opts: DeployOptions): Promise<DeployResult> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const cwd = opts.cwd ?? root;
  const configPath = opts.configPath ?? join(root, 'cloudbaserc.json');
  const buildDir = opts.buildDir ?? join(root, 'build', 'cloudfunctions');
  const envFile = opts.envFile ?? join(root, '.env');

  const fullRc = loadCloudbaserc(configPath);
  const env = readEnvFile(envFile);
  const rc = applyHttpApiSwitch(fullRc, env);
  if (opts.build ?? true) {
    log('building functions…');
    await buildFunctions(buildDir);
  }

  const problems: string[] = [...cloudbasercProblems(fullRc), ...httpApiProblems(fullRc, env)];
  const envId = (env.TCB_ENV_ID ?? process.env.TCB_ENV_ID ?? '').trim();
  if (envId === '')
    problems.push(
      'TCB_ENV_ID is not set in .env; set it to your CloudBase environment id (云开发控制台 → 环境 → 环境 ID, e.g. prod-1a2b3c4d)',
    );
  else if (!/^[A-Za-z0-9_-]{2,64}$/.test(envId))
    problems.push(
      'TCB_ENV_ID must be an environment id of letters, digits, - and _ (copy it from 云开发控制台 → 环境 ID)',
    );

  const rcNames = rc.functions.map((f) => f.name);
  for (const name of FUNCTION_NAMES)
    if (!rcNames.includes(name))
      problems.push(
        `cloudbaserc.json does not list function ${name}; add an entry for it (runtime, handler, timeout, memorySize)`,
      );
  for (const name of functionNames(opts.sourceDir ?? join(root, 'cloudfunctions'))) {
    if (!rcNames.includes(name))
      problems.push(
        `cloudfunctions/${name} is not listed in cloudbaserc.json; add it to "functions" or it will never be deployed`,
      );
  }
  const unknown = (opts.only ?? []).filter((n) => !rcNames.includes(n));
  if (unknown.length)
    problems.push(`--only ${unknown.join(', ')}: not in cloudbaserc.json (functions: ${rcNames.join(', ')})`);

  const selected = rc.functions.filter((f) => !opts.only?.length || opts.only.includes(f.name));
  const variables: Record<string, Record<string, string>> = {};
  const bytes: Record<string, number> = {};
  const bundles = selected.map((f) => inspectBundle(buildDir, f.name));
  for (const [i, f] of selected.entries()) {
    const bundle = bundles[i];
    bytes[f.name] = bundle.bytes;
    problems.push(...bundle.problems);
    if (!isKnownFunction(f.name)) {
      problems.push(
        `${f.name}: shared/config does not declare it; add it to FUNCTIONS in shared/config/declaration.ts so it gets the variables it reads`,
      );
      continue;
    }
    variables[f.name] = { ...selectVariables(f.name, env), ...httpApiVariables(f.name, env) };
    problems.push(...variableProblems(f.name, env));
    const size = sizeProblem(f.name, variables[f.name]);
    if (size) problems.push(size);
  }
  const routes = NOTIFY_ROUTES.flatMap(({ variable, fn }) => {
    const path = routeFor(rc, fn);
    if (!path) {
      problems.push(
        `cloudbaserc.json has no httpAccess route for ${fn}; add {"name": "${fn}", "path": "${fn === 'payNotify' ? '/pay/notify' : '/refund/notify'}"}`,
      );
      return [];
    }
    return [{ variable, path }];
  });
  problems.push(...notifyUrlProblems(env, routes, envId), ...baseUrlProblems(env));
  if (opts.isolationCheck ?? true) {
    for (const p of await Promise.all(
      bundles.filter((b) => b.problems.length === 0).map((b) => loadInIsolation(b)),
    ))
      if (p) problems.push(p);
  }

  if (problems.length > 0) {
    log(`Deployment checks failed (${problems.length}); nothing was deployed:`);
    for (const p of problems) log(`  - ${p}`);
    return { ok: false, problems };
  }

  const derivedConfigPath = join(dirname(buildDir), 'deploy', 'cloudbaserc.json');
  const plan = buildPlan({ rc, envId, variables, bytes, derivedConfigPath, only: opts.only });
  log(formatPlan(plan, opts.dryRun));
  if (opts.dryRun) return { ok: true, problems, plan };

  writeDerivedConfig(derivedConfigPath, derivedConfig(rc, envId, variables, buildDir, cwd));
  const runner = opts.runner ?? runTcb;
  for (const [i, args] of plan.commands.entries()) {
    const fn = plan.functions[i];
    log(`\ndeploying ${fn.name}…`);
    const childEnv = Object.fromEntries(
      Object.entries(variables[fn.name] ?? {}).map(([k, v]) => [k, escapeForTcb(v)]),
    );
    const code = await runner(args, childEnv, cwd);
    if (code !== 0) {
      const message = `tcb fn deploy ${fn.name} exited with ${code}; fix the error above (not logged in? run npx tcb login) and rerun npm run deploy -- --only ${fn.name}`;
      log(message);
      return { ok: false, problems: [message], plan };
    }
  }
  log(
    `\ndeployed ${plan.functions.length} function(s). Notify URLs: ${plan.routes.map((r) => r.url).join(', ') || '(none)'}`,
  );
  return { ok: true, problems, plan };
}

export function parseArgs(argv: string[]): DeployOptions {
  const opts: DeployOptions = { dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--dry-run') opts.dryRun = true;
    else if (arg === '--skip-build') opts.build = false;
    else if (arg === '--env-file') opts.envFile = resolve(next());
    else if (arg === '--config') opts.configPath = resolve(next());
    else if (arg === '--build-dir') opts.buildDir = resolve(next());
    else if (arg === '--only')
      opts.only = next()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else
      throw new Error(
        `unknown option ${arg}; use --dry-run, --skip-build, --env-file <path>, --config <path>, --build-dir <dir>, --only <fn,fn>`,
      );
  }
  return opts;
}
