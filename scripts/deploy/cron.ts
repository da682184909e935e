// CloudBase timer triggers take a 7-field cron (second minute hour day month weekday year), not the
// 5-field Unix form; a wrong field count is only rejected by the platform at deploy time, so check it here.

interface Field {
  name: string;
  min: number;
  max: number;
  names?: string[];
}

const FIELDS: Field[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'weekday', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
  { name: 'year', min: 1970, max: 2099 },
];

function value(field: Field, token: string): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const i = field.names?.indexOf(token.toUpperCase()) ?? -1;
  if (i >= 0) return field === FIELDS[4] ? i + 1 : i;
  return undefined;
}

function checkPart(field: Field, part: string): string | undefined {
  const [range, step, extra] = part.split('/');
  if (extra !== undefined || range === undefined || range === '')
    return `"${part}" is not a value, range or step`;
  if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `step "${step}" must be a positive whole number`;
  if (range === '*') return undefined;
  const bounds = range.split('-');
  if (bounds.length > 2) return `"${range}" is not a range`;
  const nums = bounds.map((b) => value(field, b));
  for (let i = 0; i < nums.length; i++) {
    const n = nums[i];
    if (n === undefined) return `"${bounds[i]}" is not a ${field.name}`;
    if (n < field.min || n > field.max) return `${n} is outside ${field.min}–${field.max}`;
  }
  if (nums.length === 2 && nums[0]! > nums[1]!) return `range "${range}" runs backwards`;
  return undefined;
}

/** Undefined when `expr` is a valid CloudBase 7-field cron; otherwise what is wrong and how to fix it. */
export function cronProblem(expr: string): string | undefined {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 7) {
    return `has ${parts.length} field(s); CloudBase timers need 7 (second minute hour day month weekday year), e.g. "0 */5 * * * * *" for every 5 minutes`;
  }
  for (let i = 0; i < 7; i++) {
    const field = FIELDS[i];
    for (const part of parts[i].split(',')) {
      const problem = checkPart(field, part);
      if (problem) return `${field.name} field "${parts[i]}": ${problem}`;
    }
  }
  return undefined;
}
