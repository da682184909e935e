// WeChat's server APIs (api.weixin.qq.com) that the kit calls besides login: `/cgi-bin/stable_token`
// and the 发货信息管理服务 on their real paths (`?access_token=`), and the same APIs reached as 云调用
// through `/_cloudcall/<apiName>` (the CloudBase platform, i.e. the emulator, forwards
// `cloud.openapi.<apiName>` there). Errors answer HTTP 200 `{errcode, errmsg}` as WeChat does.
import { randomBytes } from 'node:crypto';
import { hang, parseJsonObject, sendJson, type Ctx, type Route } from './http';
import type { AccessCheck, CallOrigin, OpenApiAccess } from './openapi-access';
import type { MessagePusher } from './message-push';
import { PhoneCodeError } from './phone-numbers';
import { ShippingError, type ShippingBook } from './shipping';
import type { Simulator } from './simulator';
import type { SimOrder } from './state';
import { SubscribeError } from './subscriptions';

export interface OpenApiDeps {
  sim: Simulator;
  access: OpenApiAccess;
  shipping: ShippingBook;
  pusher: MessagePusher;
}

type ApiHandler = (appid: string, body: Record<string, unknown>) => Record<string, unknown>;

export interface OpenApi {
  /** The HTTPS path. */
  path: string;
  /** The key of `/sim/stats` `openapi` (default: the path's last segment). */
  statKey?: string;
  /** `cloud.openapi.<cloudName>` in a CloudBase function. */
  cloudName: string;
  faultTarget?: 'shipping' | 'phone' | 'subscribe';
  /** What a `rateLimit` fault answers (default 45009, the daily API quota). */
  quotaErrcode?: number;
  /** Throws an error with a numeric `errcode` (ShippingError, PhoneCodeError, SubscribeError) for
   * WeChat's refusals. */
  handler: ApiHandler;
}

function rid(): string {
  const h = randomBytes(12).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 16)}-${h.slice(16, 24)}`;
}

function errorBody(errcode: number, errmsg: string) {
  const r = rid();
  return { errcode, errmsg: `${errmsg} rid: ${r}` };
}

const seconds = (ms: number | undefined) => (ms === undefined ? 0 : Math.floor(ms / 1000));

export function orderJson(d: OpenApiDeps, order: SimOrder) {
  const record = d.shipping.record(order);
  const last = record?.uploads[record.uploads.length - 1];
  return {
    transaction_id: order.transactionId,
    merchant_id: order.mchid,
    sub_merchant_id: '',
    merchant_trade_no: order.outTradeNo,
    description: order.description,
    paid_amount: order.payerTotal ?? order.total,
    openid: order.openid,
    trade_create_time: seconds(order.createdAt),
    pay_time: seconds(order.successTime),
    in_complaint: false,
    order_state: d.shipping.orderState(order),
    shipping: {
      delivery_mode: last?.deliveryMode ?? 1,
      logistics_type: last?.logisticsType ?? 0,
      finish_shipping: (record?.uploads.length ?? 0) > 0,
      goods_desc: last?.shippingList.map((s) => s.itemDesc).join('；') ?? '',
      finish_shipping_count: record?.uploads.length ?? 0,
      shipping_list: (last?.shippingList ?? []).map((s) => ({
        tracking_no: s.trackingNo ?? '',
        express_company: s.expressCompany ?? '',
        goods_desc: s.itemDesc,
        upload_time: seconds(last?.receivedAt),
        contact: {
          consignor_contact: s.contact?.consignorContact ?? '',
          receiver_contact: s.contact?.receiverContact ?? '',
        },
      })),
    },
  };
}

function apis(d: OpenApiDeps): OpenApi[] {
  const now = () => d.sim.clock.now();
  return [
    {
      path: '/wxa/sec/order/upload_shipping_info',
      cloudName: 'wxa.sec.order.uploadShippingInfo',
      faultTarget: 'shipping',
      handler: (appid, body) => {
        d.shipping.upload(appid, body, now());
        const order = d.shipping.findOrder(appid, body.order_key);
        d.sim.emitOrder(order);
        return {};
      },
    },
    {
      path: '/wxa/sec/order/get_order',
      cloudName: 'wxa.sec.order.getOrder',
      faultTarget: 'shipping',
      handler: (appid, body) => ({ order: orderJson(d, d.shipping.findOrder(appid, body, true)) }),
    },
    {
      path: '/wxa/sec/order/get_order_list',
      cloudName: 'wxa.sec.order.getOrderList',
      faultTarget: 'shipping',
      handler: (appid, body) => getOrderList(d, appid, body),
    },
    {
      path: '/wxa/sec/order/is_trade_managed',
      cloudName: 'wxa.sec.order.isTradeManaged',
      faultTarget: 'shipping',
      handler: (appid, body) => {
        if (body.appid !== appid)
          throw new ShippingError(10060014, '参数错误: appid 必须是调用方小程序的 appid');
        return { is_trade_managed: true };
      },
    },
    {
      path: '/wxa/sec/order/notify_confirm_receive',
      cloudName: 'wxa.sec.order.notifyConfirmReceive',
      faultTarget: 'shipping',
      handler: (appid, body) => {
        const order = d.shipping.findOrder(appid, body, true);
        d.shipping.remindConfirm(order, body.received_time);
        return {};
      },
    },
  ];
}

function getOrderList(d: OpenApiDeps, appid: string, body: Record<string, unknown>) {
  const pageSize = body.page_size ?? 100;
  if (!Number.isInteger(pageSize) || (pageSize as number) < 1 || (pageSize as number) > 100)
    throw new ShippingError(10060014, '参数错误: page_size 为 1–100 的整数');
  const range = body.pay_time_range as { begin_time?: unknown; end_time?: unknown } | undefined;
  const state = body.order_state;
  if (state !== undefined && ![1, 2, 3, 4, 5].includes(state as number))
    throw new ShippingError(10060014, '参数错误: order_state 只能是 1–5');
  const start = body.last_index === undefined || body.last_index === '' ? 0 : Number(body.last_index);
  if (!Number.isInteger(start) || start < 0) throw new ShippingError(10060014, '参数错误: last_index 无效');
  const list = [...d.sim.state.orders.values()]
    .filter((o) => o.appid === appid && o.state === 'SUCCESS')
    .filter((o) => body.openid === undefined || o.openid === body.openid)
    .filter((o) => state === undefined || d.shipping.orderState(o) === state)
    .filter((o) => {
      const t = seconds(o.successTime);
      if (range && typeof range.begin_time === 'number' && t < range.begin_time) return false;
      if (range && typeof range.end_time === 'number' && t >= range.end_time) return false;
      return true;
    })
    .sort((a, b) => (a.successTime ?? 0) - (b.successTime ?? 0));
  const page = list.slice(start, start + (pageSize as number));
  const next = start + page.length;
  return {
    last_index: String(next),
    has_more: next < list.length,
    order_list: page.map((o) => orderJson(d, o)),
  };
}

async function serve(d: OpenApiDeps, api: OpenApi, ctx: Ctx, access: AccessCheck, origin: CallOrigin) {
  if ('errcode' in access) return sendJson(ctx.res, 200, errorBody(access.errcode, access.errmsg));
  const statKey = api.statKey ?? api.path.slice(api.path.lastIndexOf('/') + 1);
  d.access.count(statKey, origin);
  const fault = api.faultTarget
    ? d.sim.faults.take(api.faultTarget, ['timeout', 'lostResponse', '5xx', 'rateLimit'])
    : undefined;
  if (fault?.kind === 'timeout') {
    if (fault.delayMs === undefined) return void (await hang(ctx));
    await new Promise((r) => setTimeout(r, fault.delayMs));
  }
  if (fault?.kind === '5xx') return sendJson(ctx.res, 200, errorBody(-1, 'system error'));
  if (fault?.kind === 'rateLimit')
    return sendJson(ctx.res, 200, errorBody(api.quotaErrcode ?? 45009, 'reach max api daily quota limit'));
  const body = ctx.body.trim() === '' ? {} : parseJsonObject(ctx.body);
  if (!body)
    return sendJson(ctx.res, 200, errorBody(47001, 'data format error: the body must be a JSON object'));
  let answer: Record<string, unknown>;
  try {
    answer = { errcode: 0, errmsg: 'ok', ...api.handler(access.appid, body) };
  } catch (err) {
    if (!(err instanceof ShippingError || err instanceof PhoneCodeError || err instanceof SubscribeError))
      throw err;
    answer = errorBody(err.errcode, err.message);
  }
  if (fault?.kind === 'lostResponse') return void (await hang(ctx));
  sendJson(ctx.res, 200, answer);
}

/** `more`: APIs that live in their own module (phone numbers, subscription messages), served exactly
 * like the table's. */
export function openApiRoutes(d: OpenApiDeps, more: OpenApi[] = []): Route[] {
  const table = [...apis(d), ...more];
  const byCloudName = new Map(table.map((a) => [a.cloudName, a]));
  const escape = (s: string) => s.replace(/[/.]/g, (c) => `\\${c}`);
  return [
    {
      method: 'POST',
      pattern: /^\/cgi-bin\/stable_token$/,
      handler: (ctx) => {
        const body = parseJsonObject(ctx.body);
        if (!body) return sendJson(ctx.res, 200, errorBody(47001, 'data format error'));
        const answer = d.access.stableToken(body);
        sendJson(
          ctx.res,
          200,
          typeof answer.errcode === 'number' ? errorBody(answer.errcode, String(answer.errmsg)) : answer,
        );
      },
    },
    ...table.map((api): Route => ({
      method: 'POST',
      pattern: new RegExp(`^${escape(api.path)}$`),
      handler: (ctx) =>
        serve(d, api, ctx, d.access.checkToken(ctx.url.searchParams.get('access_token')), 'https'),
    })),
    {
      method: 'POST',
      pattern: /^\/_cloudcall\/([A-Za-z0-9.]+)$/,
      handler: (ctx) => {
        const api = byCloudName.get(ctx.params[0]);
        if (!api)
          return sendJson(
            ctx.res,
            200,
            errorBody(
              -604101,
              `function has no permission to call this API: ${ctx.params[0]} is not a 云调用 API`,
            ),
          );
        const appid = ctx.req.headers['x-wx-cloud-appid'];
        return serve(
          d,
          api,
          ctx,
          d.access.checkCloudCall(typeof appid === 'string' ? appid : undefined),
          'cloud',
        );
      },
    },
  ];
}
