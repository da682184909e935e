// Which of the .env variables each function receives, and the checks on them. Pure: the values are
// only read to validate them; every message names variables, never their values.
import {
  createConfig,
  isConfigError,
  payModeOf,
  requirementsOf,
  variablesFor,
  variableSpec,
  FUNCTION_NAMES,
  FUNCTIONS,
  VARIABLES,
  type FunctionName,
  type VariableName,
} from '../../shared/config';

/** CloudBase's limit on the environment variables of one function (keys + values, bytes). */
export const VARIABLE_LIMIT_BYTES = 4096;

export function isKnownFunction(name: string): name is FunctionName {
  return (FUNCTION_NAMES as readonly string[]).includes(name);
}

function isSet(env: Readonly<Record<string, string | undefined>>, key: string): boolean {
  return (env[key] ?? '').trim() !== '';
}

/** The variables `name` reads that are set in `env`: exactly what the function is deployed with. */
export function selectVariables(
  name: FunctionName,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const { required, optional } = variablesFor(name, env);
  const out: Record<string, string> = {};
  for (const key of [...required, ...optional])
    if (isSet(env, key) && !(key in out)) out[key] = env[key]!.trim();
  return out;
}

export function variableBytes(vars: Record<string, string>): number {
  let total = 0;
  for (const [k, v] of Object.entries(vars))
    total += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8');
  return total;
}

/** Missing required variables, then (when none is missing) what the function's own config reader rejects. */
export function variableProblems(
  name: FunctionName,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const { required, why } = requirementsOf(FUNCTIONS[name], payModeOf(env));
  const missing = required.filter((key) => !isSet(env, key));
  if (missing.length > 0) {
    return missing.map((key) => {
      const fix = why[key] ?? variableSpec(key).fix ?? 'see .env.example for where to find it';
      return `${name}: ${key} is not set in .env; ${name} needs it (${fix})`;
    });
  }
  try {
    // The same validation the function runs at its first invocation, over exactly what it will get.
    createConfig(selectVariables(name, env)).validateFor(name);
    return [];
  } catch (err) {
    if (isConfigError(err)) return [`${name}: ${err.message}`];
    throw err;
  }
}

export function sizeProblem(name: string, vars: Record<string, string>): string | undefined {
  const total = variableBytes(vars);
  if (total <= VARIABLE_LIMIT_BYTES) return undefined;
  const largest = Object.entries(vars)
    .map(([k, v]) => [k, Buffer.byteLength(k) + Buffer.byteLength(v)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, n]) => `${k} ${n} B`)
    .join(', ');
  return (
    `${name}: its variables take ${total} bytes, over CloudBase's ${VARIABLE_LIMIT_BYTES}-byte limit per function (largest: ${largest}); ` +
    `write keys as the bare base64 body on one line (no BEGIN/END lines) and drop optional variables ${name} does not need`
  );
}

export interface NotifyRoute {
  variable: 'WXPAY_NOTIFY_URL' | 'WXPAY_REFUND_NOTIFY_URL';
  path: string;
}

/** Notify URLs must reach the HTTP access routes over HTTPS, as WeChat Pay only calls https URLs. */
export function notifyUrlProblems(
  env: Readonly<Record<string, string | undefined>>,
  routes: NotifyRoute[],
  envId: string | undefined,
): string[] {
  const out: string[] = [];
  const example = (path: string) => `https://${envId || '<env-id>'}.service.tcloudbase.com${path}`;
  for (const { variable, path } of routes) {
    const raw = (env[variable] ?? '').trim();
    if (raw === '') continue; // reported as missing by the function that needs it
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      out.push(`${variable} is not an absolute URL; set it to ${example(path)}`);
      continue;
    }
    if (url.protocol !== 'https:')
      out.push(
        `${variable} must use https:// (WeChat Pay only notifies HTTPS URLs); set it to ${example(path)}`,
      );
    else if (['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
      out.push(
        `${variable} points at ${url.hostname}, which WeChat Pay cannot reach; set it to ${example(path)}`,
      );
    if (!url.pathname.replace(/\/+$/, '').endsWith(path))
      out.push(
        `${variable} must end in the HTTP access path ${path} (it ends in ${url.pathname}); set it to ${example(path)}`,
      );
  }
  return out;
}

/** Local-stack leftovers: a base URL pointing at the simulator would send real payments nowhere. */
export function baseUrlProblems(env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  const endpoints = (Object.keys(VARIABLES) as VariableName[]).filter(
    (name) => variableSpec(name).group === 'endpoints',
  );
  for (const variable of endpoints) {
    const raw = (env[variable] ?? '').trim();
    if (raw === '') continue;
    if (!raw.startsWith('https://'))
      out.push(
        `${variable} is set to a non-HTTPS URL (the local simulator?); remove it from .env to use WeChat's production API`,
      );
  }
  return out;
}
