// Which variables each cloud function is deployed with and must have, derived from declaration.ts.
// The deploy script gives every function exactly `variablesFor(name, env)` (CloudBase allows 4 KB of
// variables per function) and AppConfig.validateFor checks exactly these.
import {
  FUNCTIONS,
  NEEDS,
  VARIABLES,
  type Need,
  type NeedName,
  type PayMode,
  type VariableName,
} from './declaration';
import type { Env } from './env-reader';

export type FunctionName = keyof typeof FUNCTIONS;
export const FUNCTION_NAMES = Object.keys(FUNCTIONS) as readonly FunctionName[];

export interface FunctionVariables {
  /** Must be set (non-empty) or the function fails at its first invocation. */
  required: VariableName[];
  /** Read when present (defaults, optional modes). */
  optional: VariableName[];
}

/** Variables whose values never appear in a log, a message or a plan. */
export const SECRET_VARIABLES: ReadonlySet<VariableName> = new Set(
  (Object.keys(VARIABLES) as VariableName[]).filter((name) => VARIABLES[name].secret),
);

const isSet = (env: Env, name: VariableName) => (env[name] ?? '').trim() !== '';

/**
 * The pay mode `env` selects. It reads only what decides it, and only when a need asks: first
 * WXPAY_API_VERSION, then the public-key pair (v3) or the base URL (v2), so that the variables a
 * function reads stay exactly those it declares.
 */
export function payModeOf(env: Env): PayMode {
  let v2: boolean | undefined;
  const isV2 = () => (v2 ??= (env.WXPAY_API_VERSION ?? '').trim() === 'v2');
  return {
    get apiVersion() {
      return isV2() ? 'v2' : 'v3';
    },
    get publicKey() {
      return !isV2() && isSet(env, 'WXPAY_PUBLIC_KEY_ID') && isSet(env, 'WXPAY_PUBLIC_KEY');
    },
    get https() {
      const baseUrl = (env.WXPAY_BASE_URL ?? '').trim() || VARIABLES.WXPAY_BASE_URL.default;
      return baseUrl.startsWith('https:');
    },
  };
}

export interface Requirements extends FunctionVariables {
  /** The need-specific "not set" fix of a required variable, where the need gives one. */
  why: Partial<Record<VariableName, string>>;
}

/** The union of `needs`' variables under `mode`, in declaration order of the needs. */
export function requirementsOf(needs: readonly NeedName[], mode: PayMode): Requirements {
  const out: Requirements = { required: [], optional: [], why: {} };
  for (const need of needs) {
    const v = (NEEDS[need] as Need).variables(mode);
    for (const name of v.required ?? []) if (!out.required.includes(name)) out.required.push(name);
    for (const name of v.optional ?? []) if (!out.optional.includes(name)) out.optional.push(name);
    Object.assign(out.why, v.why);
  }
  out.optional = out.optional.filter((name) => !out.required.includes(name));
  return out;
}

/** The variables `name` needs under the mode `env` selects (v3 with platform certificates by default). */
export function variablesFor(name: FunctionName, env: Env = {}): FunctionVariables {
  const { required, optional } = requirementsOf(FUNCTIONS[name], payModeOf(env));
  return { required, optional };
}

/** Every mode a deployment can select, to list what a function may read in any of them. */
const ALL_MODES: PayMode[] = [
  { apiVersion: 'v3', publicKey: false, https: true },
  { apiVersion: 'v3', publicKey: true, https: true },
  { apiVersion: 'v2', publicKey: false, https: true },
  { apiVersion: 'v2', publicKey: false, https: false },
];

/**
 * What each function requires in the default mode, and everything else it may read in any mode:
 * the envVariables templates of cloudbaserc.json. For the variables of one deployment use
 * `variablesFor(name, env)`.
 */
export const FUNCTION_VARIABLES = Object.fromEntries(
  FUNCTION_NAMES.map((name) => {
    const { required } = variablesFor(name);
    const any = requirementsOf(FUNCTIONS[name], ALL_MODES[0]);
    for (const mode of ALL_MODES.slice(1)) {
      const r = requirementsOf(FUNCTIONS[name], mode);
      for (const v of [...r.required, ...r.optional]) if (!any.optional.includes(v)) any.optional.push(v);
    }
    return [name, { required, optional: any.optional.filter((v) => !required.includes(v)) }];
  }),
) as Record<FunctionName, FunctionVariables>;
