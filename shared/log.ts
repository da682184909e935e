// The one logger of shared/: a line per event, `[scope] message key=value …`, to the function log
// (CloudBase collects stdout and stderr). Use cases receive it as a parameter, so tests can read what
// was logged. Values that are not plain text (errors above all) are written as describeForLog writes
// them: class, code and message on one line, never a stack or a payload; our libraries keep secrets
// out of their messages, and callers never pass a key or token as a field.

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

function oneLine(text: string, max = 300): string {
  return text.replace(/\s+/g, ' ').slice(0, max);
}

/** One log line describing an error for the function log, without stack or payloads. */
export function describeForLog(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return oneLine(`${err.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${err.message}`);
  }
  return oneLine(`non-error thrown: ${typeof err}`);
}

function renderValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? oneLine(value) : describeForLog(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

/** `message key=value …`, skipping undefined fields. */
export function formatLogLine(message: string, fields: LogFields = {}): string {
  let line = message;
  for (const [key, value] of Object.entries(fields))
    if (value !== undefined) line += ` ${key}=${renderValue(value)}`;
  return line;
}

/**
 * The function log: info to stdout, warnings and errors to stderr, each line prefixed `[scope]`. The
 * one place shared/ writes to the console.
 */
export function consoleLogger(scope: string): Logger {
  const prefix = `[${scope}] `;
  return {
    info: (message, fields) => console.log(prefix + formatLogLine(message, fields)),
    warn: (message, fields) => console.warn(prefix + formatLogLine(message, fields)),
    error: (message, fields) => console.error(prefix + formatLogLine(message, fields)),
  };
}
