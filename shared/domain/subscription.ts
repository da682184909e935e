// Subscription messages (订阅消息) as pure rules: the WX_SUBSCRIBE_TEMPLATES configuration (which
// template each event sends and how order facts fill its `data` keys), the `subscriptions` a
// createPayment caller may pass, and the formatting of each value to its key type's rule (a `thing`
// holds at most 20 characters, an `amount` is "¥0.01", a `time` is China time "yyyy-MM-dd HH:mm").
// Nothing here performs I/O.
import { invalidArgument } from './errors';
import { isPlainObject } from './validate';

export const SUBSCRIBE_EVENTS = ['paid', 'refunded', 'shipped'] as const;
export type SubscribeEvent = (typeof SUBSCRIBE_EVENTS)[number];

/** What a source yields, which decides the key types it may fill. */
type SourceKind = 'text' | 'code' | 'money' | 'time';

/** The fixed vocabulary of sources, the events that have the fact, and what it is. */
export const SOURCES = {
  productNames: { kind: 'text', events: ['paid', 'refunded', 'shipped'] },
  orderId: { kind: 'code', events: ['paid', 'refunded', 'shipped'] },
  amount: { kind: 'money', events: ['paid', 'refunded', 'shipped'] },
  paidAt: { kind: 'time', events: ['paid', 'refunded', 'shipped'] },
  refundAmount: { kind: 'money', events: ['refunded'] },
  refundedAt: { kind: 'time', events: ['refunded'] },
  shippedAt: { kind: 'time', events: ['shipped'] },
  trackingNo: { kind: 'code', events: ['shipped'] },
} as const satisfies Record<string, { kind: SourceKind; events: readonly SubscribeEvent[] }>;
export type SourceName = keyof typeof SOURCES;

/** A literal value: `"text:已发货"` fills the key with 已发货 (checked against the key's rule). */
export const LITERAL_PREFIX = 'text:';

/** WeChat's value rule per key type (the key without its digits, e.g. thing1 → thing). */
const KEY_TYPES = {
  thing: { max: 20, accepts: ['text', 'code', 'money', 'time'] },
  character_string: { max: 32, pattern: /^[\x21-\x7e]*$/, accepts: ['code'] },
  number: { max: 32, pattern: /^\d+(\.\d+)?$/, accepts: ['money'] },
  letter: { max: 32, pattern: /^[A-Za-z]*$/, accepts: [] },
  symbol: { max: 5, pattern: /^[^\p{L}\p{N}\s]*$/u, accepts: [] },
  amount: { max: 11, pattern: /^[¥$€£]?\d+(\.\d{1,2})?元?$/, accepts: ['money'] },
  time: { max: 24, accepts: ['time'] },
  date: { max: 11, accepts: ['time'] },
  phone_number: { max: 17, pattern: /^[\d+-]*$/, accepts: [] },
  car_number: { max: 8, accepts: [] },
  name: { max: 10, accepts: ['text'] },
  phrase: { max: 5, pattern: /^[\u4e00-\u9fff]*$/, accepts: [] },
} as const satisfies Record<string, { max: number; pattern?: RegExp; accepts: readonly SourceKind[] }>;
type KeyType = keyof typeof KEY_TYPES;

const KEY_PATTERN = /^([a-z_]+?)(\d{1,2})$/;
export const TEMPLATE_ID_PATTERN = /^[A-Za-z0-9_-]{20,64}$/;
const PAGE_PATTERN = /^[A-Za-z0-9_\-/]+(\?[\x21-\x7e]*)?$/;

export interface MessageTemplate {
  templateId: string;
  /** The mini-program page the message opens; `{orderId}` is replaced by the order's id. */
  page?: string;
  /** data key (e.g. `thing1`) → a source name or `text:<literal>`. */
  data: Record<string, string>;
}

export type SubscribeTemplates = Partial<Record<SubscribeEvent, MessageTemplate>>;

const HOW_TO = `WX_SUBSCRIBE_TEMPLATES must be JSON like {"paid":{"templateId":"<id from 微信公众平台 → 订阅消息>","page":"pages/order-detail/order-detail?orderId={orderId}","data":{"thing1":"productNames","amount2":"amount","time3":"paidAt","character_string4":"orderId"}}} for the events ${SUBSCRIBE_EVENTS.join(', ')}`;

/** A configuration mistake, its message naming the place and the fix (never a value of another variable). */
export class TemplateConfigError extends Error {
  override readonly name = 'TemplateConfigError';
}

const fail = (where: string, why: string): never => {
  throw new TemplateConfigError(`WX_SUBSCRIBE_TEMPLATES ${where} ${why}`);
};

function keyTypeOf(key: string): KeyType | undefined {
  const m = KEY_PATTERN.exec(key);
  return m && m[1] in KEY_TYPES ? (m[1] as KeyType) : undefined;
}

/** Code points, as WeChat counts a value's characters. */
const lengthOf = (s: string) => Array.from(s).length;

function checkSource(event: SubscribeEvent, key: string, source: unknown): void {
  const where = `${event}.data.${key}`;
  const type = keyTypeOf(key);
  if (!type)
    fail(
      where,
      `is not a template key: use the key names of the template's 详情 (e.g. thing1, amount2, time3), whose type is one of ${Object.keys(KEY_TYPES).join(', ')}`,
    );
  const rule: { max: number; pattern?: RegExp; accepts: readonly SourceKind[] } = KEY_TYPES[type!];
  if (typeof source !== 'string') return fail(where, 'must be a string: a source name or "text:<value>"');
  if (source.startsWith(LITERAL_PREFIX)) {
    const literal = source.slice(LITERAL_PREFIX.length);
    if (literal === '' || lengthOf(literal) > rule.max || (rule.pattern && !rule.pattern.test(literal)))
      fail(
        where,
        `holds a literal that breaks WeChat's rule for ${type} values (at most ${rule.max} characters)`,
      );
    return;
  }
  const spec = (SOURCES as Record<string, { kind: SourceKind; events: readonly string[] }>)[source];
  if (!spec)
    fail(
      where,
      `names an unknown source "${source.slice(0, 40)}"; use one of ${Object.keys(SOURCES).join(', ')} or "text:<value>"`,
    );
  if (!spec.events.includes(event))
    fail(where, `uses ${source}, which the ${event} event does not have; it has ${sourcesOf(event)}`);
  if (!rule.accepts.includes(spec.kind))
    fail(
      where,
      `is of type ${type}, which cannot hold ${source} (a ${spec.kind} value); ${suggestion(spec.kind)}`,
    );
}

function sourcesOf(event: SubscribeEvent): string {
  return (Object.keys(SOURCES) as SourceName[])
    .filter((s) => (SOURCES[s].events as readonly string[]).includes(event))
    .join(', ');
}

function suggestion(kind: SourceKind): string {
  const keys = (Object.keys(KEY_TYPES) as KeyType[]).filter((t) =>
    (KEY_TYPES[t].accepts as readonly SourceKind[]).includes(kind),
  );
  return `map it to a key of type ${keys.join(', ')}`;
}

function parseTemplate(event: SubscribeEvent, raw: unknown): MessageTemplate {
  if (!isPlainObject(raw)) return fail(event, 'must be an object {templateId, page?, data}');
  for (const field of Object.keys(raw))
    if (!['templateId', 'page', 'data'].includes(field))
      fail(`${event}.${field.slice(0, 40)}`, 'is not a field; use templateId, page and data');
  const { templateId, page, data } = raw;
  if (typeof templateId !== 'string' || !TEMPLATE_ID_PATTERN.test(templateId))
    fail(
      `${event}.templateId`,
      'must be the template id of 微信公众平台 → 订阅消息 → 我的模板 (20–64 characters of A-Z a-z 0-9 _ -)',
    );
  if (page !== undefined && (typeof page !== 'string' || page.length > 256 || !PAGE_PATTERN.test(page)))
    fail(
      `${event}.page`,
      'must be a page path of the mini-program such as pages/order-detail/order-detail?orderId={orderId}',
    );
  if (!isPlainObject(data) || Object.keys(data).length === 0 || Object.keys(data).length > 20)
    return fail(
      `${event}.data`,
      'must map each of the template\'s keys to a source, e.g. {"thing1":"productNames"}',
    );
  for (const [key, source] of Object.entries(data)) checkSource(event, key, source);
  const template: MessageTemplate = {
    templateId: templateId as string,
    data: data as Record<string, string>,
  };
  if (page !== undefined) template.page = page as string;
  return template;
}

/** Parses and checks WX_SUBSCRIBE_TEMPLATES; throws TemplateConfigError saying what to fix. */
export function parseSubscribeTemplates(raw: string): SubscribeTemplates {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('is not valid JSON;', HOW_TO.replace('WX_SUBSCRIBE_TEMPLATES must', 'it must'));
  }
  if (!isPlainObject(parsed) || Object.keys(parsed).length === 0)
    return fail('must be a non-empty JSON object;', HOW_TO.replace('WX_SUBSCRIBE_TEMPLATES must', 'it must'));
  const out: SubscribeTemplates = {};
  for (const [event, template] of Object.entries(parsed)) {
    if (!(SUBSCRIBE_EVENTS as readonly string[]).includes(event))
      fail(`event "${event.slice(0, 40)}"`, `is not one of ${SUBSCRIBE_EVENTS.join(', ')}`);
    out[event as SubscribeEvent] = parseTemplate(event as SubscribeEvent, template);
  }
  return out;
}

/** The template ids a mini-program may ask the user to accept (wx.requestSubscribeMessage allows 3). */
export function templateIdsOf(templates: SubscribeTemplates): string[] {
  return [...new Set(SUBSCRIBE_EVENTS.flatMap((e) => templates[e]?.templateId ?? []))];
}

export const MAX_SUBSCRIPTIONS = 3;

/**
 * createPayment's optional `subscriptions`: the template ids the user accepted in
 * wx.requestSubscribeMessage. Without a configuration nothing is sent, so any well-formed list is
 * accepted and dropped (an app may ask before its server is configured).
 */
export function parseSubscriptions(value: unknown, templates: SubscribeTemplates | undefined): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_SUBSCRIPTIONS)
    throw invalidArgument(
      `subscriptions must be an array of at most ${MAX_SUBSCRIPTIONS} template ids (those the user accepted in wx.requestSubscribeMessage)`,
    );
  const known = templates ? new Set(templateIdsOf(templates)) : undefined;
  const seen = new Set<string>();
  value.forEach((id: unknown, i) => {
    if (typeof id !== 'string' || !TEMPLATE_ID_PATTERN.test(id))
      throw invalidArgument(`subscriptions[${i}] must be a template id (20–64 characters of [A-Za-z0-9_-])`);
    if (known && !known.has(id))
      throw invalidArgument(
        `subscriptions[${i}] is not a template id this server sends; ask only for the ids in the app's SUBSCRIBE_TEMPLATE_IDS, which must match WX_SUBSCRIBE_TEMPLATES`,
      );
    if (seen.has(id)) throw invalidArgument(`subscriptions[${i}] repeats a template id; list each once`);
    seen.add(id);
  });
  return known ? [...seen] : [];
}

// ---- filling the data ----

/** The facts of one event a message can show; those an event lacks stay undefined. */
export interface MessageFacts {
  orderId: string;
  productNames: string[];
  amountFen: number;
  paidAt?: Date;
  refundAmountFen?: number;
  refundedAt?: Date;
  shippedAt?: Date;
  trackingNo?: string;
}

/** Cuts to `max` characters, the last one an ellipsis when anything was cut. */
export function cutText(text: string, max: number): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/** Integer fen → "¥0.01". */
export function yuanText(fen: number, symbol = '¥'): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${symbol}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A moment in China time (UTC+8, no daylight saving): "yyyy-MM-dd HH:mm". */
export function chinaTimeText(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

function rawValue(source: SourceName, facts: MessageFacts): string | number | Date | undefined {
  switch (source) {
    case 'productNames':
      return facts.productNames.join('、');
    case 'orderId':
      return facts.orderId;
    case 'amount':
      return facts.amountFen;
    case 'refundAmount':
      return facts.refundAmountFen;
    case 'paidAt':
      return facts.paidAt;
    case 'refundedAt':
      return facts.refundedAt;
    case 'shippedAt':
      return facts.shippedAt;
    case 'trackingNo':
      return facts.trackingNo;
  }
}

function formatFor(type: KeyType, value: string | number | Date): string {
  const max = KEY_TYPES[type].max;
  if (value instanceof Date)
    return type === 'date' ? chinaTimeText(value).slice(0, 10) : chinaTimeText(value);
  if (typeof value === 'number') return type === 'number' ? yuanText(value, '') : yuanText(value);
  return cutText(value, max);
}

/**
 * The `data` of subscribeMessage.send: every key of the template filled from `facts`, each value
 * within its key type's rule. A fact the event lacks (never for a checked configuration) shows "-".
 */
export function fillMessageData(
  template: MessageTemplate,
  facts: MessageFacts,
): Record<string, { value: string }> {
  const data: Record<string, { value: string }> = {};
  for (const [key, source] of Object.entries(template.data)) {
    const type = keyTypeOf(key) ?? 'thing';
    if (source.startsWith(LITERAL_PREFIX)) {
      data[key] = { value: source.slice(LITERAL_PREFIX.length) };
      continue;
    }
    const value = rawValue(source as SourceName, facts);
    data[key] = { value: value === undefined || value === '' ? '-' : formatFor(type, value) };
  }
  return data;
}

/** The page a message opens, with `{orderId}` filled in. */
export function messagePage(template: MessageTemplate, orderId: string): string | undefined {
  return template.page?.replaceAll('{orderId}', orderId);
}
