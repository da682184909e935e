// Control API for fulfilment (docs/local-stack.md#control-api, as extended by issue 14): WeChat's view of an order's
// shipping, the user's confirm receipt and the settlement (each pushed to the mini-program's
// message-push URL as WeChat does), reminders, the push target, token expiry and call statistics.
import { createHash } from 'node:crypto';
import { ControlError, controlBody, jsonControlRoutes, type ControlHandler } from './control-api';
import type { Route } from './http';
import { pushUrlProblem } from './message-push';
import type { OpenApiDeps } from './routes-openapi';
import type { SimOrder } from './state';

function findOrder(d: OpenApiDeps, outTradeNo: string | null): SimOrder {
  if (!outTradeNo) throw new ControlError(400, 'outTradeNo is required');
  const order = [...d.sim.state.orders.values()].find((o) => o.outTradeNo === outTradeNo);
  if (!order || d.shipping.orderState(order) === undefined)
    throw new ControlError(404, `WeChat has no paid order ${outTradeNo}`);
  return order;
}

/** The mini-program's original id (gh_…), derived from its appid so it is stable. */
function originalId(appid: string): string {
  return `gh_${createHash('sha256').update(appid).digest('hex').slice(0, 12)}`;
}

function envelope(order: SimOrder, event: string, nowMs: number) {
  return {
    ToUserName: originalId(order.appid),
    FromUserName: order.openid,
    CreateTime: Math.floor(nowMs / 1000),
    MsgType: 'event',
    Event: event,
  };
}

const sec = (ms: number | undefined) => (ms === undefined ? undefined : Math.floor(ms / 1000));

/** trade_manage_order_settlement: on confirm receipt (no settlement_time yet) and on settlement. */
function settlementMessage(d: OpenApiDeps, order: SimOrder, nowMs: number) {
  const r = d.shipping.record(order)!;
  return {
    ...envelope(order, 'trade_manage_order_settlement', nowMs),
    transaction_id: order.transactionId,
    merchant_id: order.mchid,
    sub_merchant_id: '',
    merchant_trade_no: order.outTradeNo,
    pay_time: sec(order.successTime),
    shipped_time: sec(r.uploads[0]?.receivedAt),
    estimated_settlement_time: sec((r.confirmedAt ?? nowMs) + 24 * 3600_000),
    confirm_receive_method: r.confirmMethod,
    confirm_receive_time: sec(r.confirmedAt),
    ...(r.settledAt !== undefined ? { settlement_time: sec(r.settledAt) } : {}),
  };
}

export function shippingControlRoutes(d: OpenApiDeps): Route[] {
  const now = () => d.sim.clock.now();
  const routes: Array<[string, RegExp, ControlHandler]> = [
    [
      'GET',
      /^\/sim\/shipping$/,
      (ctx) => {
        const order = findOrder(d, ctx.url.searchParams.get('outTradeNo'));
        return [
          200,
          {
            orderState: d.shipping.orderState(order),
            uploads: (d.shipping.record(order)?.uploads ?? []).map((u) => ({
              logisticsType: u.logisticsType,
              deliveryMode: u.deliveryMode,
              shippingList: u.shippingList.map((s) => ({
                ...(s.trackingNo !== undefined ? { trackingNo: s.trackingNo } : {}),
                ...(s.expressCompany !== undefined ? { expressCompany: s.expressCompany } : {}),
                itemDesc: s.itemDesc,
              })),
              uploadTime: u.uploadTime,
            })),
          },
        ];
      },
    ],
    [
      'POST',
      /^\/sim\/shipping\/([^/]+)\/confirm$/,
      (ctx) => {
        const order = findOrder(d, decodeURIComponent(ctx.params[0]));
        if (!d.shipping.confirm(order, now()))
          throw new ControlError(
            409,
            `order ${order.outTradeNo} is in state ${d.shipping.orderState(order)}, not 2 (已发货): nothing to confirm`,
          );
        const push = d.pusher.push(
          'trade_manage_order_settlement',
          settlementMessage(d, order, now()),
          order.outTradeNo,
        );
        d.sim.emitOrder(order);
        return [200, { orderState: d.shipping.orderState(order), push: push.id }];
      },
    ],
    [
      'POST',
      /^\/sim\/shipping\/([^/]+)\/settle$/,
      (ctx) => {
        const order = findOrder(d, decodeURIComponent(ctx.params[0]));
        if (!d.shipping.settle(order, now()))
          throw new ControlError(
            409,
            `order ${order.outTradeNo} is in state ${d.shipping.orderState(order)}; only shipped (2) or confirmed (3) orders settle`,
          );
        const push = d.pusher.push(
          'trade_manage_order_settlement',
          settlementMessage(d, order, now()),
          order.outTradeNo,
        );
        d.sim.emitOrder(order);
        return [200, { orderState: d.shipping.orderState(order), push: push.id }];
      },
    ],
    [
      'POST',
      /^\/sim\/shipping\/([^/]+)\/remind-shipping$/,
      (ctx) => {
        const order = findOrder(d, decodeURIComponent(ctx.params[0]));
        const push = d.pusher.push(
          'trade_manage_remind_shipping',
          {
            ...envelope(order, 'trade_manage_remind_shipping', now()),
            transaction_id: order.transactionId,
            merchant_id: order.mchid,
            sub_merchant_id: '',
            merchant_trade_no: order.outTradeNo,
            pay_time: sec(order.successTime),
            msg: '你好，你有一笔待发货订单，请尽快录入发货信息',
          },
          order.outTradeNo,
        );
        return [200, { push: push.id }];
      },
    ],
    [
      'POST',
      /^\/sim\/message-push$/,
      (ctx) => {
        const b = controlBody(ctx);
        const problem = pushUrlProblem(b.url);
        if (problem) throw new ControlError(400, problem);
        if (typeof b.token !== 'string' || !/^[A-Za-z0-9]{3,32}$/.test(b.token))
          throw new ControlError(400, 'token must be 3–32 letters or digits (消息推送 Token)');
        d.pusher.target = { url: b.url as string, token: b.token };
        return [200, { url: b.url }];
      },
    ],
    [
      'GET',
      /^\/sim\/message-push$/,
      (ctx) => [
        200,
        {
          url: d.pusher.target?.url ?? null,
          deliveries: d.pusher.list(ctx.url.searchParams.get('outTradeNo') ?? undefined),
        },
      ],
    ],
    ['POST', /^\/sim\/tokens\/expire$/, () => [200, { expired: d.access.expireAll() }]],
    // One stats route for the whole simulator: tokens and server-API calls (issue 14) beside the
    // Pay API requests per fault target (certificate downloads and the like).
    [
      'GET',
      /^\/sim\/stats$/,
      () => [
        200,
        {
          ...d.access.stats(),
          apiCalls: Object.fromEntries([...d.sim.state.apiCalls].sort(([a], [b]) => a.localeCompare(b))),
        },
      ],
    ],
  ];
  return jsonControlRoutes('shipping control', routes);
}
