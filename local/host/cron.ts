// CloudBase timer-trigger schedules: seven fields — second minute hour day-of-month month day-of-week
// year — evaluated in Beijing time (UTC+8) as the platform does. Supports `*`, `*/n`, `a`, `a-b`,
// `a-b/n` and comma lists; month and weekday names (JAN, MON…) too. Parsing and matching are pure;
// `startTicker` fires the triggers whose schedule matches each second.

const RANGES: Array<[number, number]> = [
  [0, 59], // second
  [0, 59], // minute
  [0, 23], // hour
  [1, 31], // day of month
  [1, 12], // month
  [0, 6], // day of week (0 = Sunday)
  [1970, 2199], // year
];
const NAMES: Record<string, number> = {
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
  SUN: 0,
  MON: 1,
  TUE: 2,
  WED: 3,
  THU: 4,
  FRI: 5,
  SAT: 6,
};

export type CronSchedule = Array<Set<number> | null>; // null = any

export class CronError extends Error {
  override name = 'CronError';
}

function value(token: string, expr: string): number {
  const n = NAMES[token.toUpperCase()] ?? Number(token);
  if (!Number.isInteger(n))
    throw new CronError(`"${token}" in timer schedule "${expr}" is not a number; use e.g. "0 */5 * * * * *"`);
  return n;
}

export function parseCron(expr: string): CronSchedule {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 7)
    throw new CronError(
      `timer schedule "${expr}" needs 7 fields (second minute hour day month weekday year), e.g. "0 */5 * * * * *"`,
    );
  return fields.map((field, i) => {
    const [lo, hi] = RANGES[i];
    if (field === '*' || field === '?') return null;
    const set = new Set<number>();
    for (const part of field.split(',')) {
      const [range, stepText] = part.split('/');
      const step = stepText === undefined ? 1 : value(stepText, expr);
      if (step < 1) throw new CronError(`step "${stepText}" in timer schedule "${expr}" must be at least 1`);
      let from: number;
      let to: number;
      if (range === '*' || range === '?') [from, to] = [lo, hi];
      else if (range.includes('-'))
        [from, to] = range.split('-').map((t) => value(t, expr)) as [number, number];
      else [from, to] = [value(range, expr), stepText === undefined ? value(range, expr) : hi];
      if (from < lo || to > hi || from > to)
        throw new CronError(`"${part}" in timer schedule "${expr}" is outside ${lo}-${hi}`);
      for (let v = from; v <= to; v += step) set.add(v);
    }
    return set;
  });
}

/** Whether the schedule fires in the second that contains `at`. */
export function cronMatches(schedule: CronSchedule, at: Date): boolean {
  const bj = new Date(at.getTime() + 8 * 3600_000);
  const parts = [
    bj.getUTCSeconds(),
    bj.getUTCMinutes(),
    bj.getUTCHours(),
    bj.getUTCDate(),
    bj.getUTCMonth() + 1,
    bj.getUTCDay(),
    bj.getUTCFullYear(),
  ];
  return schedule.every((set, i) => set === null || set.has(parts[i]));
}

export interface ScheduledTrigger {
  functionName: string;
  triggerName: string;
  config: string;
}

/**
 * Checks every second once (a late tick catches up, up to a minute) and calls `fire` for each trigger
 * whose schedule matches that second. Returns the function that stops it.
 */
export function startTicker(
  triggers: ScheduledTrigger[],
  fire: (t: ScheduledTrigger, at: Date) => void,
  now: () => number = Date.now,
): () => void {
  const schedules = triggers.map((t) => ({ t, schedule: parseCron(t.config) }));
  let lastTick = Math.floor(now() / 1000);
  const interval = setInterval(() => {
    const current = Math.floor(now() / 1000);
    for (let sec = lastTick + 1; sec <= current && sec - lastTick <= 60; sec++) {
      const at = new Date(sec * 1000);
      for (const { t, schedule } of schedules) if (cronMatches(schedule, at)) fire(t, at);
    }
    lastTick = current;
  }, 250);
  interval.unref();
  return () => clearInterval(interval);
}
