// Reads one variable at a time and checks it against its declaration (declaration.ts): required or
// defaulted, format, and a message that names the variable and the fix, never the value.
import { ConfigError } from './errors';
import { variableSpec, type VariableName, type VariableSpec } from './declaration';

export type Env = Readonly<Record<string, string | undefined>>;

type FormatOf<K extends VariableSpec['format']['kind']> = Extract<VariableSpec['format'], { kind: K }>;

export class EnvReader {
  constructor(private readonly env: Env) {}

  /** The trimmed value, or undefined when unset or blank. */
  optional(name: VariableName): string | undefined {
    const raw = this.env[name];
    if (raw === undefined) return undefined;
    const value = raw.trim();
    return value === '' ? undefined : value;
  }

  isSet(name: VariableName): boolean {
    return this.optional(name) !== undefined;
  }

  /** The value; unset is an error whose fix is `why` (a mode's reason) or the variable's own fix. */
  required(name: VariableName, why?: string): string {
    const value = this.optional(name);
    if (value !== undefined) return value;
    const fix = why ?? `add it to this function's environment variables (${fixOf(name)})`;
    throw new ConfigError(name, `${name} is not set; ${fix}`);
  }

  /** A required value matching its pattern (upper-cased when declared so). */
  matching(name: VariableName): string {
    const format = formatOf(name, 'pattern');
    const value = this.required(name);
    if (!format.pattern.test(value)) {
      const length = variableSpec(name).secret ? ` (it is ${value.length} characters)` : '';
      throw new ConfigError(name, `${name} ${format.rule}${length}; ${fixOf(name)}`);
    }
    return format.upperCase ? value.toUpperCase() : value;
  }

  /** One of the declared values, or the default when unset. */
  choice<T extends string>(name: VariableName): T {
    const format = formatOf(name, 'oneOf');
    const fallback = variableSpec(name).default;
    const value = this.optional(name) ?? fallback;
    if (value === undefined || !format.values.includes(value)) {
      const options = format.values.map((v) => (v === fallback ? `"${v}" (default)` : `"${v}"`)).join(' or ');
      const remove = fallback === undefined ? '' : `; remove it to use ${fallback}`;
      throw new ConfigError(name, `${name} must be ${options}${remove}`);
    }
    return value as T;
  }

  /** A required value whose UTF-8 length is within the declared bounds. */
  bytes(name: VariableName): string {
    const { min, max } = formatOf(name, 'bytes');
    const value = this.required(name);
    const n = Buffer.byteLength(value, 'utf8');
    if (n < min || (max !== undefined && n > max)) {
      const bound =
        max === min ? `exactly ${min}` : max === undefined ? `at least ${min}` : `between ${min} and ${max}`;
      throw new ConfigError(name, `${name} must be ${bound} bytes (it is ${n}); ${fixOf(name)}`);
    }
    return value;
  }

  /** A whole number within the declared bounds, or the default when unset. */
  integer(name: VariableName): number {
    const { min, max, unit } = formatOf(name, 'integer');
    const fallback = variableSpec(name).default;
    const raw = this.optional(name) ?? fallback;
    const useDefault = fallback === undefined ? '' : `; remove it to use the default ${fallback}`;
    if (raw === undefined) return Number(this.required(name));
    if (!/^\d+$/.test(raw))
      throw new ConfigError(
        name,
        `${name} must be a whole number of ${unit} between ${min} and ${max}${useDefault}`,
      );
    const n = Number(raw);
    if (n < min || n > max)
      throw new ConfigError(
        name,
        `${name} must be between ${min} and ${max} ${unit} (it is ${n})${useDefault}`,
      );
    return n;
  }

  /** An absolute http(s) URL without credentials, query or fragment; no trailing slash. */
  url(name: VariableName): string {
    formatOf(name, 'url');
    const fallback = variableSpec(name).default;
    const raw = fallback === undefined ? this.required(name) : (this.optional(name) ?? fallback);
    const fix = fixOf(name);
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(name, `${name} is not an absolute URL; ${fix}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new ConfigError(name, `${name} must use https:// (or http:// for the local simulator); ${fix}`);
    if (url.username || url.password)
      throw new ConfigError(name, `${name} must not contain credentials; ${fix}`);
    if (url.search || url.hash)
      throw new ConfigError(
        name,
        `${name} must not have a query string or fragment (WeChat rejects them); ${fix}`,
      );
    return url.toString().replace(/\/+$/, '');
  }

  /** A comma-separated list, each entry matching the declared item pattern; empty when unset. */
  list(name: VariableName): string[] {
    const { item, rule } = formatOf(name, 'list');
    const entries = (this.optional(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    entries.forEach((entry, i) => {
      if (!item.test(entry))
        throw new ConfigError(name, `${name} entry ${i + 1} is not ${rule}; ${fixOf(name)}`);
    });
    return entries;
  }

  /** Checks a variable by its declared format alone (for needs without a reader of their own). */
  check(name: VariableName): void {
    const { kind } = variableSpec(name).format;
    if (kind === 'pattern') this.matching(name);
    // a choice without a default may stay unset (the code picks, e.g. WECHAT_OPENAPI_MODE by platform)
    else if (kind === 'oneOf') {
      if (this.optional(name) !== undefined || variableSpec(name).default !== undefined) this.choice(name);
    } else if (kind === 'bytes') this.bytes(name);
    else if (kind === 'integer') this.integer(name);
    else if (kind === 'url') this.url(name);
    else if (kind === 'list') this.list(name);
    else this.optional(name);
  }
}

function fixOf(name: VariableName): string {
  const spec = variableSpec(name);
  return spec.fix ?? (spec.default !== undefined ? `set it like ${spec.default}` : `see .env.example`);
}

function formatOf<K extends VariableSpec['format']['kind']>(name: VariableName, kind: K): FormatOf<K> {
  const format = variableSpec(name).format;
  // A mismatch is a programming error in this folder, never a deployment mistake.
  if (format.kind !== kind) throw new Error(`${name} is declared as ${format.kind}, not ${kind}`);
  return format as FormatOf<K>;
}
