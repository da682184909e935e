// The console's read-only view of the local stack: documents from the emulator and deliveries from
// the simulator, reduced to the fields a person needs. Nothing secret is stored in these places, but
// the projection is explicit so that a future field never leaks to the page by accident.
import { maskPhone } from '../../shared/domain/phone';

export interface ConsoleState {
  products: Array<Record<string, unknown>>;
  users: Array<Record<string, unknown>>;
  orders: Array<Record<string, unknown>>;
  refunds: Array<Record<string, unknown>>;
  notifications: Array<Record<string, unknown>>;
  deliveries: Array<Record<string, unknown>>;
  /** The function host's latest invocations, newest first. */
  invocations: Array<Record<string, unknown>>;
  /** Subscription messages WeChat delivered (服务通知), newest first; the phone shows its user's. */
  messages: ConsoleMessage[];
  errors: string[];
}

const FIELDS: Record<string, string[]> = {
  products: ['_id', 'name', 'priceFen', 'active', 'description'],
  users: ['_id', 'appid', 'unionid', 'nickName', 'roles', 'createdAt', 'lastLoginAt', 'loginCount'],
  orders: [
    '_id',
    'openid',
    'amountFen',
    'description',
    'status',
    'transactionId',
    'paidAt',
    'refundedFen',
    'refundingFen',
    'version',
    'createdAt',
    'updatedAt',
    'apiVersion',
  ],
  refunds: [
    '_id',
    'outTradeNo',
    'openid',
    'amountFen',
    'reason',
    'status',
    'refundId',
    'requestedBy',
    'createdAt',
    'updatedAt',
    'successAt',
    'appliedToOrder',
  ],
  notifications: ['_id', 'eventType', 'outTradeNo', 'outRefundNo', 'outcome', 'receivedAt'],
};

/** EJSON dates (`{$date: …}`) and Date objects become ISO strings; other values pass through. */
function plain(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object' && '$date' in (value as Record<string, unknown>)) {
    const d = (value as { $date: unknown }).$date;
    const ms =
      typeof d === 'object' && d && '$numberLong' in d
        ? Number((d as { $numberLong: string }).$numberLong)
        : (d as string | number);
    return new Date(ms).toISOString();
  }
  return value;
}

/**
 * An order's fulfilment as the page shows it: the state and the packages, never the upload counters
 * or the automatic upload's claim (they are bookkeeping, not something a person acts on).
 */
function projectFulfilment(value: unknown): Record<string, unknown> | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const f = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of ['type', 'status', 'shippedAt', 'confirmedAt', 'settledAt'])
    if (f[k] !== undefined) out[k] = plain(f[k]);
  if (Array.isArray(f.shipments))
    out.shipments = f.shipments
      .filter((s): s is Record<string, unknown> => !!s && typeof s === 'object')
      .map((s) => ({ trackingNo: s.trackingNo, expressCompany: s.expressCompany }));
  return out;
}

/** A bound phone number is personal data: the console only ever shows it masked (138****0000). */
function maskedPhone(doc: Record<string, unknown>): string | undefined {
  const phone = doc.phone as { purePhoneNumber?: unknown } | undefined;
  return typeof phone?.purePhoneNumber === 'string' ? maskPhone(phone.purePhoneNumber) : undefined;
}

export function project(collection: string, docs: unknown[]): Array<Record<string, unknown>> {
  const fields = FIELDS[collection] ?? ['_id'];
  return docs
    .filter((d): d is Record<string, unknown> => !!d && typeof d === 'object')
    .map((d) => {
      const out: Record<string, unknown> = {};
      for (const f of fields) if (d[f] !== undefined) out[f] = plain(d[f]);
      const phone = collection === 'users' ? maskedPhone(d) : undefined;
      if (phone) out.phone = phone;
      const fulfilment = collection === 'orders' ? projectFulfilment(d.fulfilment) : undefined;
      if (fulfilment) out.fulfilment = fulfilment;
      return out;
    });
}

export const DELIVERY_FIELDS = [
  'id',
  'eventType',
  'url',
  'state',
  'attempts',
  'nextAttemptAt',
  'outTradeNo',
  'outRefundNo',
  'createdAt',
];

export function projectDeliveries(list: unknown[]): Array<Record<string, unknown>> {
  return list
    .filter((d): d is Record<string, unknown> => !!d && typeof d === 'object')
    .map((d) => {
      const out: Record<string, unknown> = {};
      for (const f of DELIVERY_FIELDS) if (d[f] !== undefined) out[f] = d[f];
      return out;
    });
}

export const INVOCATION_FIELDS = [
  'requestId',
  'functionName',
  'trigger',
  'at',
  'cold',
  'coldStartMs',
  'queuedMs',
  'durationMs',
  'outcome',
  'status',
  'errorMessage',
  'base64Body',
] as const;

/** Invocation records as the page shows them (never the caller's openid or any body). */
export function projectInvocations(list: readonly object[]): Array<Record<string, unknown>> {
  return list
    .map((r) => {
      const rec = r as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of INVOCATION_FIELDS) if (rec[f] !== undefined) out[f] = rec[f];
      return out;
    })
    .reverse();
}

export interface ConsoleMessage {
  msgid: unknown;
  openid: string;
  templateId: string;
  /** The template's title, or its id when the simulator does not list it. */
  title: string;
  page: string | null;
  /** Each value beside its key's name, in the template's order. */
  lines: Array<{ name: string; value: string }>;
  sentAt: string;
}

interface TemplateView {
  templateId: string;
  title: string;
  keys: Array<{ key: string; name: string }>;
}

/**
 * The simulator's message log as a phone shows it: title from the template, each value under its
 * key's name. Values are the ones the server sent; only what WeChat shows the user is kept.
 */
export function projectMessages(messages: unknown[], templates: unknown[]): ConsoleMessage[] {
  const byId = new Map<string, TemplateView>();
  for (const t of templates as TemplateView[])
    if (t && typeof t.templateId === 'string') byId.set(t.templateId, t);
  return messages
    .filter((m): m is Record<string, unknown> => !!m && typeof m === 'object')
    .map((m) => {
      const templateId = String(m.templateId);
      const template = byId.get(templateId);
      const data = (m.data && typeof m.data === 'object' ? m.data : {}) as Record<
        string,
        { value?: unknown }
      >;
      const keys = template?.keys.map((k) => k.key) ?? Object.keys(data);
      return {
        msgid: m.msgid,
        openid: String(m.openid),
        templateId,
        title: template?.title ?? templateId,
        page: typeof m.page === 'string' ? m.page : null,
        lines: keys
          .filter((k) => data[k] !== undefined)
          .map((k) => ({
            name: template?.keys.find((x) => x.key === k)?.name ?? k,
            value: typeof data[k].value === 'string' ? data[k].value : '',
          })),
        sentAt: String(m.sentAt),
      };
    })
    .reverse();
}

/** Projected dates are ISO strings, which sort as text. */
function timeOf(d: Record<string, unknown>): string {
  const t = d.createdAt ?? d.receivedAt;
  return typeof t === 'string' ? t : '';
}

function newestFirst(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return timeOf(b).localeCompare(timeOf(a));
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

function docsOf(body: unknown): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    for (const key of ['data', 'documents', 'docs']) {
      const v = (body as Record<string, unknown>)[key];
      if (Array.isArray(v)) return v;
    }
  }
  return [];
}

export async function readConsoleState(
  emuUrl: string,
  simUrl: string,
  invocations: () => readonly object[] = () => [],
): Promise<ConsoleState> {
  const errors: string[] = [];
  const read = async (collection: string) => {
    try {
      return project(collection, docsOf(await getJson(`${emuUrl}/emu/dump/${collection}`))).sort(newestFirst);
    } catch (err) {
      // A collection that does not exist yet is simply empty; anything else is shown on the page.
      if (!/answered 404/.test(String(err))) errors.push(`database ${collection}: ${(err as Error).message}`);
      return [];
    }
  };
  const [products, users, orders, refunds, notifications] = await Promise.all(
    ['products', 'users', 'orders', 'refunds', 'notifications'].map(read),
  );
  let deliveries: Array<Record<string, unknown>> = [];
  try {
    deliveries = projectDeliveries(docsOf(await getJson(`${simUrl}/sim/deliveries`))).reverse();
  } catch (err) {
    errors.push(`simulator deliveries: ${(err as Error).message}`);
  }
  let messages: ConsoleMessage[] = [];
  try {
    const [log, templates] = await Promise.all([
      getJson(`${simUrl}/sim/messages`),
      getJson(`${simUrl}/sim/templates`),
    ]);
    messages = projectMessages(
      (log as { messages?: unknown[] }).messages ?? [],
      (templates as { templates?: unknown[] }).templates ?? [],
    );
  } catch (err) {
    errors.push(`simulator messages: ${(err as Error).message}`);
  }
  return {
    products: products,
    users: users,
    orders: orders,
    refunds: refunds,
    notifications: notifications,
    deliveries,
    invocations: projectInvocations(invocations()),
    messages,
    errors,
  };
}
