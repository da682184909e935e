// A `wx` for Node that drives the local stack the way a phone drives the cloud:
//   wx.login                 → POST {simUrl}/sim/login-codes for this adapter's test user
//   wx.cloud.callFunction    → POST {hostUrl}/functions/<name> with the user's identity headers
//   wx.request               → the URL as given (the HTTPS API at {hostUrl}/api/<name>), headers as given
//   wx.cloud.database()      → the emulator's database through the real node-sdk (given by the test)
//   wx.requestPayment        → POST {simUrl}/sim/pay with the outcome the test chose
//   wx.openBusinessView      → 确认收货: POST {simUrl}/sim/shipping/<merchant_trade_no>/confirm
//   wx.requestSubscribeMessage → the user's choice per template (the test sets it; default 允许); each
//                              accepted template: POST {simUrl}/sim/subscriptions (one send granted)
//   wx.*StorageSync          → memory, JSON round-tripped like the phone's storage
// Faults are switches on the adapter, so a test states exactly which call breaks and how.
import type {
  BusinessViewParam,
  CallFunctionSuccess,
  DatabasePort,
  RequestOption,
  RequestPaymentParam,
  RequestSuccess,
  WxFailure,
  WxPort,
} from '../../miniprogram/miniprogram/lib/wx-port';

export type PayOutcome = 'success' | 'cancel' | 'fail';

/** What the user taps for one template in the subscription dialog. */
export type SubscribeChoice = 'accept' | 'reject';

/** `wx.requestSubscribeMessage`'s success: `errMsg` plus one `<tmplId>: 'accept' | 'reject'` per id. */
export type SubscribeMessageSuccess = { errMsg: string } & Record<string, string>;

/** `wx.requestSubscribeMessage`'s options (callback style, as the mini-program calls it). */
export interface RequestSubscribeMessageOption {
  tmplIds: string[];
  success?(res: SubscribeMessageSuccess): void;
  /** `errCode` 10001 (no ids), 20003 (more than 3), 20001 (an id the account does not have), 20004
   * (the user turned subscription messages off). */
  fail?(failure: WxFailure): void;
  complete?(): void;
}

/** The part of `wx` the adapter adds beside WxPort: one-time subscription messages. */
export interface SubscribePort {
  requestSubscribeMessage(option: RequestSubscribeMessageOption): void;
}

/** One wx.requestSubscribeMessage call: the ids asked for and what the phone answered. */
export interface SubscribeRecord {
  tmplIds: string[];
  result?: SubscribeMessageSuccess;
  failure?: string;
}

/** `before`: the request never leaves the phone. `after`: the function runs, its answer is lost. */
export type NetworkFaultTiming = 'before' | 'after';

export interface CallRecord {
  /** The function (callFunction's name, or the last path segment of a wx.request URL). */
  name: string;
  transport: 'cloud' | 'https';
  /** wx.request only: the HTTP status and the Authorization header that was sent. */
  status?: number;
  authorization?: string;
  data: Record<string, unknown>;
  /** The function's `result` when the host answered (even if the adapter then dropped it). */
  result?: unknown;
  /** What callFunction (or wx.request's fail) rejected with, if it did. */
  failure?: string;
  /** callFunction: sent with the identity headers; wx.request: sent with its Authorization header. */
  withIdentity: boolean;
}

export interface WxAdapterOptions {
  hostUrl: string;
  simUrl: string;
  openid: string;
  appid: string;
  unionid?: string;
  database?: () => DatabasePort;
}

export interface WxAdapter {
  wx: WxPort & SubscribePort;
  calls: CallRecord[];
  storage: Map<string, string>;
  /** What the next wx.requestPayment reports; stays until changed. */
  payOutcome: PayOutcome;
  /** The user's choice in wx.requestSubscribeMessage for a template id absent from `subscribeChoices`. */
  subscribeChoice: SubscribeChoice;
  /** The user's choice per template id; stays until changed. */
  subscribeChoices: Map<string, SubscribeChoice>;
  /** The user turned 订阅消息 off in the mini-program's settings: every request fails with 20004. */
  subscribeMessagesOff: boolean;
  subscribeRequests: SubscribeRecord[];
  /** The next `count` callFunction or wx.request calls lose the network. */
  failNextCalls(count: number, timing: NetworkFaultTiming): void;
  /** The next `count` calls reach the host without an invocation identity (as after a lost context);
   * for wx.request, without the Authorization header. */
  dropIdentityForNextCalls(count: number): void;
  loginCodesIssued(): number;
}

async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

function wxFailure(errMsg: string, errCode?: number): WxFailure {
  return errCode === undefined ? { errMsg } : { errMsg, errCode };
}

export function createWxAdapter(options: WxAdapterOptions): WxAdapter {
  const storage = new Map<string, string>();
  const calls: CallRecord[] = [];
  const faults: NetworkFaultTiming[] = [];
  let identityDrops = 0;
  let loginCodes = 0;

  const adapter: WxAdapter = {
    calls,
    storage,
    payOutcome: 'success',
    subscribeChoice: 'accept',
    subscribeChoices: new Map(),
    subscribeMessagesOff: false,
    subscribeRequests: [],
    failNextCalls(count, timing) {
      for (let i = 0; i < count; i++) faults.push(timing);
    },
    dropIdentityForNextCalls(count) {
      identityDrops += count;
    },
    loginCodesIssued: () => loginCodes,
    wx: {
      async login() {
        const { status, json } = await postJson(`${options.simUrl}/sim/login-codes`, {
          openid: options.openid,
        });
        if (status !== 200) throw wxFailure(`login:fail simulator answered ${status}`);
        loginCodes++;
        return { code: (json as { code: string }).code, errMsg: 'login:ok' };
      },

      // The user confirms receipt in WeChat's component: the simulator records it and pushes
      // trade_manage_order_settlement to the message-push URL, as WeChat does.
      async openBusinessView(param: BusinessViewParam) {
        const no = param.extraData.merchant_trade_no;
        if (param.businessType !== 'weappOrderConfirm' || !no)
          throw wxFailure(`openBusinessView:fail the adapter opens weappOrderConfirm by merchant_trade_no`);
        const res = await fetch(`${options.simUrl}/sim/shipping/${encodeURIComponent(no)}/confirm`, {
          method: 'POST',
        });
        const detail = await res.text();
        if (!res.ok) throw wxFailure(`openBusinessView:fail ${res.status} ${detail.slice(0, 200)}`);
        return { errMsg: 'openBusinessView:ok', extraData: { status: 'success' } };
      },
      async requestPayment(param: RequestPaymentParam) {
        const { status, json } = await postJson(`${options.simUrl}/sim/pay`, {
          openid: options.openid,
          ...param,
          outcome: adapter.payOutcome,
        });
        const errMsg =
          (json as { errMsg?: string } | undefined)?.errMsg ??
          `requestPayment:fail simulator answered ${status}`;
        // Like the phone: resolve on ok, reject with the errMsg object otherwise.
        if (errMsg === 'requestPayment:ok') return { errMsg };
        throw wxFailure(errMsg);
      },

      requestSubscribeMessage(option: RequestSubscribeMessageOption) {
        const record: SubscribeRecord = { tmplIds: [...(option.tmplIds ?? [])] };
        adapter.subscribeRequests.push(record);
        // Like the phone: callbacks, called later, never both.
        subscribeDialog(option.tmplIds).then(
          (res) => {
            record.result = res;
            option.success?.(res);
            option.complete?.();
          },
          (failure: WxFailure) => {
            record.failure = failure.errMsg;
            option.fail?.(failure);
            option.complete?.();
          },
        );
      },

      request(option: RequestOption) {
        const fault = faults.shift();
        const withIdentity = identityDrops === 0;
        if (!withIdentity) identityDrops--;
        const header = { ...option.header };
        if (!withIdentity)
          for (const k of Object.keys(header)) if (k.toLowerCase() === 'authorization') delete header[k];
        const name = decodeURIComponent(new URL(option.url).pathname.split('/').pop() ?? '');
        const auth = Object.entries(header).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
        const record: CallRecord = {
          name,
          data: option.data,
          transport: 'https',
          withIdentity: auth !== undefined,
          ...(auth !== undefined ? { authorization: auth } : {}),
        };
        calls.push(record);
        const lost = 'request:fail timeout';
        const run = async (): Promise<RequestSuccess> => {
          if (fault === 'before') throw wxFailure(lost);
          let res: Response;
          try {
            res = await fetch(option.url, {
              method: option.method,
              headers: header,
              body: JSON.stringify(option.data),
              signal: AbortSignal.timeout(option.timeout),
            });
          } catch (error) {
            throw wxFailure(`request:fail ${(error as Error).message}`);
          }
          const text = await res.text();
          let data: unknown = text;
          // dataType 'json': the phone parses JSON answers and hands back text it cannot parse.
          try {
            data = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          record.status = res.status;
          record.result = data;
          if (fault === 'after') throw wxFailure(lost);
          const headers: Record<string, string> = {};
          res.headers.forEach((v, k) => (headers[k] = v));
          return { statusCode: res.status, data, header: headers, errMsg: 'request:ok' };
        };
        // Like the phone: callbacks, called later, never both.
        run().then(
          (res) => option.success(res),
          (failure: WxFailure) => {
            record.failure = failure.errMsg;
            option.fail(failure);
          },
        );
        return {};
      },

      getStorageSync(key) {
        const raw = storage.get(key);
        return raw === undefined ? '' : (JSON.parse(raw) as unknown);
      },
      setStorageSync(key, value) {
        storage.set(key, JSON.stringify(value));
      },
      removeStorageSync(key) {
        storage.delete(key);
      },

      cloud: {
        database() {
          if (!options.database) throw new Error('this adapter was created without a database');
          return options.database();
        },

        async callFunction({ name, data }): Promise<CallFunctionSuccess> {
          const fault = faults.shift();
          const withIdentity = identityDrops === 0;
          if (!withIdentity) identityDrops--;
          const record: CallRecord = { name, data, transport: 'cloud', withIdentity };
          calls.push(record);
          const lost = 'cloud.callFunction:fail request:fail timeout';
          if (fault === 'before') {
            record.failure = lost;
            throw wxFailure(lost, -1);
          }
          const headers: Record<string, string> = withIdentity
            ? {
                'x-wx-openid': options.openid,
                'x-wx-appid': options.appid,
                ...(options.unionid ? { 'x-wx-unionid': options.unionid } : {}),
              }
            : {};
          const { status, json } = await postJson(
            `${options.hostUrl}/functions/${encodeURIComponent(name)}`,
            data,
            headers,
          );
          if (status !== 200) {
            const body = (json ?? {}) as Partial<WxFailure>;
            record.failure = body.errMsg ?? `cloud.callFunction:fail host answered ${status}`;
            throw wxFailure(record.failure, body.errCode);
          }
          const answer = json as { result: unknown; requestId: string };
          record.result = answer.result;
          if (fault === 'after') {
            record.failure = lost;
            throw wxFailure(lost, -1);
          }
          return { errMsg: 'cloud.callFunction:ok', result: answer.result, requestID: answer.requestId };
        },
      },
    },
  };
  /**
   * WeChat checks the ids before it shows the dialog (nothing is granted when one is wrong); then each
   * template the user allows becomes one send at the simulator.
   */
  async function subscribeDialog(tmplIds: unknown): Promise<SubscribeMessageSuccess> {
    const fail = (detail: string, errCode: number) =>
      wxFailure(`requestSubscribeMessage:fail ${detail}`, errCode);
    if (!Array.isArray(tmplIds) || tmplIds.length === 0) throw fail("TmplIds can't be empty", 10001);
    if (tmplIds.length > 3) throw fail('Templates count out of max bounds', 20003);
    if (adapter.subscribeMessagesOff) throw fail('The main switch is switched off', 20004);
    const res = await fetch(`${options.simUrl}/sim/templates`);
    if (!res.ok) throw fail(`simulator answered ${res.status}`, 10002);
    const known = new Set(
      ((await res.json()) as { templates: Array<{ templateId: string }> }).templates.map((t) => t.templateId),
    );
    if (!tmplIds.every((id) => typeof id === 'string' && known.has(id)))
      throw fail('No template data return, verify the template id exist', 20001);
    const answer: SubscribeMessageSuccess = { errMsg: 'requestSubscribeMessage:ok' };
    for (const id of tmplIds as string[]) {
      const choice = adapter.subscribeChoices.get(id) ?? adapter.subscribeChoice;
      if (choice === 'accept') {
        const { status, json } = await postJson(`${options.simUrl}/sim/subscriptions`, {
          openid: options.openid,
          templateId: id,
        });
        if (status !== 200)
          throw fail(`simulator answered ${status}: ${(json as { error?: string })?.error ?? ''}`, 10002);
      }
      answer[id] = choice;
    }
    return answer;
  }

  return adapter;
}
