// 订阅消息 templates: the three the simulated mini-program account has picked from WeChat's public
// library (ids are fixed; the local stack's WX_SUBSCRIBE_TEMPLATES names them), and WeChat's rule for
// each key type — the key's prefix before its digits (`thing1` is a `thing`). Pure: no I/O, no state.

export interface TemplateKey {
  /** The `data` key, e.g. `thing1`. */
  key: string;
  /** What the user sees beside the value (关键词名称). */
  name: string;
}

export interface SubscribeTemplate {
  templateId: string;
  title: string;
  keys: readonly TemplateKey[];
}

export const SUBSCRIBE_TEMPLATES: readonly SubscribeTemplate[] = [
  {
    templateId: 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg',
    title: '订单支付成功通知',
    keys: [
      { key: 'thing1', name: '商品名称' },
      { key: 'amount2', name: '支付金额' },
      { key: 'time3', name: '支付时间' },
      { key: 'character_string4', name: '订单号' },
    ],
  },
  {
    templateId: 'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4',
    title: '退款成功通知',
    keys: [
      { key: 'thing1', name: '商品名称' },
      { key: 'amount2', name: '退款金额' },
      { key: 'time3', name: '退款时间' },
      { key: 'character_string4', name: '订单号' },
    ],
  },
  {
    templateId: 'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E',
    title: '订单发货通知',
    keys: [
      { key: 'thing1', name: '商品名称' },
      { key: 'character_string2', name: '订单号' },
      { key: 'time3', name: '发货时间' },
    ],
  },
];

export function findTemplate(templateId: unknown): SubscribeTemplate | undefined {
  return SUBSCRIBE_TEMPLATES.find((t) => t.templateId === templateId);
}

/** `thing1` → `thing`, `character_string4` → `character_string`. */
export function keyType(key: string): string | undefined {
  return /^([a-z_]+?)\d+$/.exec(key)?.[1];
}

// Characters, not UTF-16 units: WeChat counts 商品 as two, and an emoji as one.
const length = (s: string) => [...s].length;

const HAN = /^\p{Script=Han}+$/u;
/** Printable ASCII punctuation and symbols (WeChat's 符号). */
const SYMBOLS = /^[!-/:-@[-`{-~]+$/;
const DATE = String.raw`(\d{4})(?:-(\d{2})-(\d{2})|年(\d{1,2})月(\d{1,2})日)`;
const CLOCK = String.raw`(\d{2}):(\d{2})`;

function validDate(y: string, m: string, d: string): boolean {
  const month = Number(m);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
}

/** One point in time: `[date][ ]HH:mm` for time keys, `date[ HH:mm]` for date keys. */
function timePoint(text: string, needs: 'time' | 'date'): boolean {
  const pattern =
    needs === 'time'
      ? new RegExp(String.raw`^(?:${DATE} ?)?${CLOCK}$`)
      : new RegExp(String.raw`^${DATE}(?: ?${CLOCK})?$`);
  const m = pattern.exec(text);
  if (!m) return false;
  const [, y, m1, d1, m2, d2, hh, mm] = m;
  if (y !== undefined && !validDate(y, m1 ?? m2, d1 ?? d2)) return false;
  if (hh !== undefined && (Number(hh) > 23 || Number(mm) > 59)) return false;
  return true;
}

/** A point, or a period of two points joined by `~` (WeChat's 时间段). */
function timeValue(text: string, needs: 'time' | 'date'): boolean {
  const parts = text.split('~');
  return parts.length <= 2 && parts.every((p) => timePoint(p.trim(), needs));
}

interface Rule {
  check(value: string): boolean;
  /** Completes "data.<key>.value …" when the check fails. */
  problem: string;
}

const upTo = (max: number, pattern: RegExp, what: string): Rule => ({
  check: (v) => length(v) <= max && pattern.test(v),
  problem: `must be at most ${max} ${what}`,
});

// WeChat's documented rules per key type (订阅消息参数值内容限制说明).
const RULES: Record<string, Rule> = {
  number: upTo(32, /^\d+(\.\d+)?$/, 'digits, with an optional decimal part'),
  letter: upTo(32, /^[A-Za-z]+$/, 'letters'),
  symbol: upTo(5, SYMBOLS, 'symbols'),
  character_string: upTo(32, /^[!-~]+$/, 'letters, digits or symbols (no spaces, no Chinese)'),
  time: {
    check: (v) => timeValue(v, 'time'),
    problem: 'must be a 24-hour time such as "15:01", "2026-11-30 15:01" or "2026年11月30日 15:01"',
  },
  date: {
    check: (v) => timeValue(v, 'date'),
    problem: 'must be a date such as "2026-11-30" or "2026年11月30日" (optionally with " 15:01")',
  },
  amount: {
    check: (v) => /^[¥￥$€£]\d{1,10}(\.\d{1,2})?元?$/.test(v),
    problem: 'must be a currency symbol and a number with at most 2 decimals, e.g. "¥0.01"',
  },
  phone_number: upTo(17, /^[\d+-]+$/, 'digits, "+" or "-"'),
  car_number: {
    check: (v) =>
      length(v) <= 8 && /^[\p{Script=Han}A-Za-z0-9][A-Za-z0-9]*[\p{Script=Han}A-Za-z0-9]?$/u.test(v),
    problem:
      'must be a licence plate of at most 8 characters: letters and digits, Chinese only first or last',
  },
  name: {
    check: (v) => (HAN.test(v) ? length(v) <= 10 : length(v) <= 20 && /^[A-Za-z !-/:-@[-`{-~]+$/.test(v)),
    problem: 'must be at most 10 Chinese characters, or at most 20 letters and symbols (not mixed)',
  },
  phrase: upTo(5, HAN, 'Chinese characters'),
};

/**
 * WeChat's 47003 message for one value, or undefined when it is acceptable. `thing` takes any text
 * up to 20 characters; every type refuses an empty value.
 */
export function valueProblem(key: string, value: string): string | undefined {
  const at = `argument invalid! data.${key}.value`;
  if (value.trim() === '') return `${at} is empty`;
  const type = keyType(key);
  if (type === 'thing')
    return length(value) > 20 ? `${at} exceeds 20 characters (it has ${length(value)})` : undefined;
  const rule = type === undefined ? undefined : RULES[type];
  if (!rule) return `${at}: the template's key type ${String(type)} is unknown to the simulator`;
  return rule.check(value) ? undefined : `${at} ${rule.problem}`;
}
