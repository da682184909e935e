// A fake of WeChat's subscribeMessage.send behind the CallOpenApi interface, for the message use
// cases' unit tests: one-time subscriptions per openid and template (granted by the test playing the
// user, spent by one successful send), the value rules of the template keys, and queued faults (an
// errcode, or a call that never answers). It fakes WeChat, not our code: the real client and the
// errcode mapping are used (openApiError), and the e2e tests run against the simulator.
import type { CallOpenApi, OpenApiBody } from '../../wechat/openapi/client';
import { openApiError, unavailable } from '../../wechat/openapi/errors';

export interface FakeSent {
  msgid: string;
  openid: string;
  templateId: string;
  page?: string;
  data: Record<string, { value: string }>;
}

type Fault = { errcode: number } | { hang: true } | { network: true };

const LIMITS: Record<string, number> = { thing: 20, character_string: 32, time: 24, amount: 11 };

export class FakeSubscribeMessages {
  readonly sent: FakeSent[] = [];
  /** Every send call, answered or not. */
  calls = 0;
  readonly #grants = new Map<string, number>();
  readonly #faults: Fault[] = [];
  readonly #templates: ReadonlySet<string>;
  #serial = 0;

  constructor(templateIds: readonly string[]) {
    this.#templates = new Set(templateIds);
  }

  /** The user taps "allow" for `templateId` in wx.requestSubscribeMessage: one send. */
  grant(openid: string, templateId: string): void {
    const key = `${openid} ${templateId}`;
    this.#grants.set(key, (this.#grants.get(key) ?? 0) + 1);
  }

  /** The next send fails this way (queued). */
  failNext(fault: Fault): void {
    this.#faults.push(fault);
  }

  sentTo(openid: string): FakeSent[] {
    return this.sent.filter((m) => m.openid === openid);
  }

  readonly callOpenApi: CallOpenApi = async (name, body) => {
    if (name !== 'sendSubscribeMessage') throw new Error(`fake: ${name} is not faked`);
    this.calls += 1;
    const fault = this.#faults.shift();
    if (fault && 'hang' in fault) return new Promise<OpenApiBody>(() => undefined);
    if (fault && 'network' in fault) throw unavailable(name, 'ECONNRESET');
    if (fault) throw openApiError(name, fault.errcode, 'fake fault');
    const {
      touser,
      template_id: templateId,
      page,
      data,
    } = body as {
      touser: string;
      template_id: string;
      page?: string;
      data: Record<string, { value: string }>;
    };
    if (!this.#templates.has(templateId)) throw openApiError(name, 40037, 'invalid template_id');
    for (const [key, { value }] of Object.entries(data)) {
      const limit = LIMITS[key.replace(/\d+$/, '')];
      if (limit !== undefined && Array.from(value).length > limit)
        throw openApiError(name, 47003, `argument invalid! data.${key}.value exceeds ${limit} characters`);
    }
    const grant = `${touser} ${templateId}`;
    const left = this.#grants.get(grant) ?? 0;
    if (left === 0) throw openApiError(name, 43101, 'user refuse to accept the msg');
    this.#grants.set(grant, left - 1);
    const msgid = String(++this.#serial);
    this.sent.push({ msgid, openid: touser, templateId, ...(page ? { page } : {}), data });
    return { msgid };
  };
}
