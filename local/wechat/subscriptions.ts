// 一次性订阅消息: each "allow" the user taps in wx.requestSubscribeMessage grants one send of that
// template to that user (grants add up), and WeChat's `subscribeMessage.send` spends one — only when
// it succeeds. The book also keeps every message sent, in order, as the user's 服务通知 list.
import { randomInt } from 'node:crypto';
import {
  findTemplate,
  SUBSCRIBE_TEMPLATES,
  valueProblem,
  type SubscribeTemplate,
} from './subscribe-templates';

/** A refusal answered as WeChat's `{errcode, errmsg}`. */
export class SubscribeError extends Error {
  constructor(
    readonly errcode: number,
    message: string,
  ) {
    super(message);
  }
}

export type MiniprogramState = 'developer' | 'trial' | 'formal';
const STATES: readonly string[] = ['developer', 'trial', 'formal'];
const LANGS: readonly string[] = ['zh_CN', 'en_US', 'zh_HK', 'zh_TW'];

export interface SentMessage {
  /** WeChat's msgid is an int64; the simulator keeps it below 2^53 so JSON readers agree on it. */
  msgid: number;
  appid: string;
  openid: string;
  templateId: string;
  page: string | null;
  data: Record<string, { value: string }>;
  miniprogramState: MiniprogramState;
  lang: string;
  sentAt: number;
}

export interface SubscriptionBookDeps {
  /** The mini-program a known user belongs to (undefined: no such user). */
  appOf(openid: string): string | undefined;
  now(): number;
  /** Told of each message sent (the console's live view). */
  onSent?(message: SentMessage): void;
}

const argument = (what: string) => new SubscribeError(47003, `argument invalid! ${what}`);

/** A page of the app: WeChat checks it against app.json; any `pages/…` path (with a query) passes here. */
const PAGE = /^\/?pages\/[A-Za-z0-9_\-/]+(\?[!-~]*)?$/;

function validData(template: SubscribeTemplate, raw: unknown): Record<string, { value: string }> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw argument('data must be an object {"<key>": {"value": "<text>"}}');
  const given = raw as Record<string, unknown>;
  const keys = template.keys.map((k) => k.key);
  for (const key of Object.keys(given))
    if (!keys.includes(key))
      throw argument(
        `data.${key} is not a key of template ${template.templateId} (its keys: ${keys.join(', ')})`,
      );
  const data: Record<string, { value: string }> = {};
  for (const key of keys) {
    const entry = given[key] as { value?: unknown } | undefined;
    if (!entry || typeof entry !== 'object' || entry.value === undefined)
      throw argument(
        `data.${key}.value is missing (template ${template.templateId} needs ${keys.join(', ')})`,
      );
    if (typeof entry.value !== 'string') throw argument(`data.${key}.value must be a string`);
    const problem = valueProblem(key, entry.value);
    if (problem) throw new SubscribeError(47003, problem);
    data[key] = { value: entry.value };
  }
  return data;
}

export class SubscriptionBook {
  private grants = new Map<string, number>(); // `${appid}:${openid}:${templateId}` → unspent sends
  private sent: SentMessage[] = [];
  private msgids = new Set<number>();

  constructor(private readonly deps: SubscriptionBookDeps) {}

  templates(): readonly SubscribeTemplate[] {
    return SUBSCRIBE_TEMPLATES;
  }

  /** The user allowed one more message of `templateId`; returns the unspent count. */
  grant(appid: string, openid: string, templateId: string): number {
    const key = `${appid}:${openid}:${templateId}`;
    const remaining = (this.grants.get(key) ?? 0) + 1;
    this.grants.set(key, remaining);
    return remaining;
  }

  remaining(appid: string, openid: string, templateId: string): number {
    return this.grants.get(`${appid}:${openid}:${templateId}`) ?? 0;
  }

  /** `subscribeMessage.send` for the mini-program `appid`: WeChat's answer fields, or a SubscribeError. */
  send(appid: string, body: Record<string, unknown>): { msgid: number } {
    const openid = body.touser;
    if (typeof openid !== 'string' || this.deps.appOf(openid) !== appid)
      throw new SubscribeError(40003, 'invalid openid: touser is not a user of this mini-program');
    const template = findTemplate(body.template_id);
    if (!template)
      throw new SubscribeError(40037, "invalid template_id: it is not one of this mini-program's templates");
    const page = body.page === undefined || body.page === '' ? null : body.page;
    if (page !== null && (typeof page !== 'string' || !PAGE.test(page)))
      throw new SubscribeError(41030, 'invalid page: give a page of the app such as pages/order/order?id=…');
    const state = body.miniprogram_state ?? 'formal';
    if (typeof state !== 'string' || !STATES.includes(state))
      throw argument('miniprogram_state must be developer, trial or formal');
    const lang = body.lang ?? 'zh_CN';
    if (typeof lang !== 'string' || !LANGS.includes(lang))
      throw argument(`lang must be one of ${LANGS.join(', ')}`);
    const data = validData(template, body.data);

    const key = `${appid}:${openid}:${template.templateId}`;
    const left = this.grants.get(key) ?? 0;
    if (left < 1) throw new SubscribeError(43101, 'user refuse to accept the msg');
    this.grants.set(key, left - 1);
    const message: SentMessage = {
      msgid: this.newMsgid(),
      appid,
      openid,
      templateId: template.templateId,
      page,
      data,
      miniprogramState: state as MiniprogramState,
      lang,
      sentAt: this.deps.now(),
    };
    this.sent.push(message);
    this.deps.onSent?.(message);
    return { msgid: message.msgid };
  }

  /** Sent messages in send order; one user's when `openid` is given. */
  messages(openid?: string): SentMessage[] {
    return this.sent
      .filter((m) => openid === undefined || m.openid === openid)
      .map((m) => structuredClone(m));
  }

  private newMsgid(): number {
    let id: number;
    do id = 2_000_000_000_000_000 + randomInt(2 ** 47);
    while (this.msgids.has(id));
    this.msgids.add(id);
    return id;
  }

  clear(): void {
    this.grants.clear();
    this.sent = [];
    this.msgids.clear();
  }
}
