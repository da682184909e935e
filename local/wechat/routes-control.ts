// The control API under /sim/ (docs/local-stack.md#control-api): test users, login codes, the payer's side of
// wx.requestPayment, deliveries, refunds, faults, the clock and the signing mode.
import { ControlError, controlBody, jsonControlRoutes, type ControlHandler } from './control-api';
import type { Route } from './http';
import { SIGNING_MODES, type SigningMode } from './signer';
import type { PayOutcome, Simulator } from './simulator';
import type { SimOrder, SimRefund } from './state';

function optString(b: Record<string, unknown>, key: string): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new ControlError(400, `${key} must be a non-empty string`);
  return v;
}

function reqString(b: Record<string, unknown>, key: string): string {
  const v = optString(b, key);
  if (v === undefined) throw new ControlError(400, `${key} is required`);
  return v;
}

const OUTCOMES: readonly PayOutcome[] = ['success', 'cancel', 'fail', 'userpaying'];

function outcomeOf(b: Record<string, unknown>): PayOutcome {
  const o = b.outcome ?? 'success';
  if (!OUTCOMES.includes(o as PayOutcome))
    throw new ControlError(400, `outcome must be one of ${OUTCOMES.join(', ')}`);
  return o as PayOutcome;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function orderView(sim: Simulator, o: SimOrder) {
  return {
    outTradeNo: o.outTradeNo,
    apiVersion: o.apiVersion,
    mchid: o.mchid,
    appid: o.appid,
    openid: o.openid,
    description: o.description,
    total: o.total,
    currency: o.currency,
    tradeState: sim.state.tradeState(o),
    prepayId: o.prepayId,
    prepayExpiresAt: iso(o.prepayExpiresAt),
    notifyUrl: o.notifyUrl,
    createdAt: iso(o.createdAt),
    // The ledger the crash tests check local state against: money received and refunds by state.
    paid: o.transactionId !== undefined,
    ...(o.transactionId
      ? { transactionId: o.transactionId, successTime: iso(o.successTime), payerTotal: o.payerTotal }
      : {}),
    refunded: refundSum(sim, o, 'SUCCESS'),
    refunding: refundSum(sim, o, 'PROCESSING'),
  };
}

function refundSum(sim: Simulator, o: SimOrder, status: SimRefund['status']): number {
  return sim.state
    .refundsOf(o)
    .filter((r) => r.status === status)
    .reduce((s, r) => s + r.amount, 0);
}

export function refundView(r: SimRefund) {
  return {
    mchid: r.mchid,
    outRefundNo: r.outRefundNo,
    refundId: r.refundId,
    apiVersion: r.apiVersion,
    outTradeNo: r.outTradeNo,
    transactionId: r.transactionId,
    amount: r.amount,
    total: r.total,
    status: r.status,
    reason: r.reason,
    notifyUrl: r.notifyUrl,
    createdAt: iso(r.createdAt),
    successTime: iso(r.successTime),
  };
}

function findOrder(sim: Simulator, outTradeNo: string): SimOrder | undefined {
  for (const o of sim.state.orders.values()) if (o.outTradeNo === outTradeNo) return o;
  return undefined;
}

function findRefund(sim: Simulator, outRefundNo: string): SimRefund | undefined {
  for (const r of sim.state.refunds.values()) if (r.outRefundNo === outRefundNo) return r;
  return undefined;
}

export function controlRoutes(sim: Simulator): Route[] {
  const routes: Array<[string, RegExp, ControlHandler]> = [
    [
      'GET',
      /^\/sim\/health$/,
      () => [
        200,
        {
          ok: true,
          signingMode: sim.signer.signingMode,
          timeScale: sim.clock.timeScale,
          now: new Date(sim.clock.now()).toISOString(),
        },
      ],
    ],
    [
      'POST',
      /^\/sim\/users$/,
      (ctx) => {
        const b = controlBody(ctx);
        const appid = optString(b, 'appid') ?? sim.defaultAppid();
        if (b.withUnionid !== undefined && typeof b.withUnionid !== 'boolean')
          throw new ControlError(400, 'withUnionid must be a boolean');
        const u = sim.createUser(appid, b.withUnionid === true);
        return [200, { openid: u.openid, appid: u.appid, ...(u.unionid ? { unionid: u.unionid } : {}) }];
      },
    ],
    [
      'GET',
      /^\/sim\/users$/,
      () => [
        200,
        [...sim.state.users.values()].map((u) => ({
          openid: u.openid,
          appid: u.appid,
          ...(u.unionid ? { unionid: u.unionid } : {}),
          createdAt: iso(u.createdAt),
        })),
      ],
    ],
    [
      'POST',
      /^\/sim\/login-codes$/,
      (ctx) => {
        const openid = reqString(controlBody(ctx), 'openid');
        if (!sim.state.users.has(openid))
          throw new ControlError(404, `unknown test user ${openid}; create one with POST /sim/users`);
        const c = sim.issueLoginCode(openid);
        return [200, { code: c.code, expiresAt: iso(c.expiresAt) }];
      },
    ],
    [
      'POST',
      /^\/sim\/pay$/,
      (ctx) => {
        const b = controlBody(ctx);
        const fields = ['openid', 'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'] as const;
        for (const f of fields) {
          if (typeof b[f] !== 'string')
            return [
              200,
              {
                errMsg: `requestPayment:fail parameter error: parameter.${f} should be String instead of ${b[f] === undefined ? 'Undefined' : typeof b[f]}`,
              },
            ];
        }
        const p = Object.fromEntries(fields.map((f) => [f, b[f] as string])) as Record<
          (typeof fields)[number],
          string
        >;
        const outcome = outcomeOf(b);
        const m = /^prepay_id=(.+)$/.exec(p.package);
        const order = m ? sim.state.orderByPrepayId(m[1]) : undefined;
        if (!order) return [200, { errMsg: 'requestPayment:fail prepay_id无效或已过期' }];
        if (!sim.paySignValid(order, p)) return [200, { errMsg: 'requestPayment:fail 支付验证签名失败' }];
        if (order.openid !== p.openid)
          return [200, { errMsg: 'requestPayment:fail 当前支付用户与下单用户不一致' }];
        return [200, { errMsg: sim.pay(order, outcome) }];
      },
    ],
    [
      'POST',
      /^\/sim\/pay-order$/,
      (ctx) => {
        const b = controlBody(ctx);
        const order = findOrder(sim, reqString(b, 'outTradeNo'));
        if (!order)
          throw new ControlError(
            404,
            `no order ${String(b.outTradeNo)} at the simulator (was the prepay call made?)`,
          );
        const errMsg = sim.pay(order, outcomeOf(b));
        return [200, { errMsg, order: orderView(sim, order) }];
      },
    ],
    [
      'GET',
      /^\/sim\/orders$/,
      (ctx) => [
        200,
        [...sim.state.orders.values()]
          .filter(
            (o) =>
              (!ctx.url.searchParams.get('openid') || o.openid === ctx.url.searchParams.get('openid')) &&
              (!ctx.url.searchParams.get('outTradeNo') ||
                o.outTradeNo === ctx.url.searchParams.get('outTradeNo')),
          )
          .map((o) => orderView(sim, o)),
      ],
    ],
    [
      'GET',
      /^\/sim\/refunds$/,
      (ctx) => [
        200,
        [...sim.state.refunds.values()]
          .filter(
            (r) =>
              !ctx.url.searchParams.get('outTradeNo') ||
              r.outTradeNo === ctx.url.searchParams.get('outTradeNo'),
          )
          .map(refundView),
      ],
    ],
    [
      'POST',
      /^\/sim\/refunds\/([^/]+)\/complete$/,
      (ctx) => {
        const b = controlBody(ctx);
        const status = (b.status ?? 'SUCCESS') as string;
        if (!['SUCCESS', 'ABNORMAL', 'CLOSED'].includes(status))
          throw new ControlError(400, 'status must be SUCCESS, ABNORMAL or CLOSED');
        const no = decodeURIComponent(ctx.params[0]);
        const r = findRefund(sim, no);
        if (!r) throw new ControlError(404, `no refund ${no}`);
        if (!sim.completeRefund(r, status as 'SUCCESS' | 'ABNORMAL' | 'CLOSED'))
          throw new ControlError(409, `refund ${no} is already ${r.status}`);
        return [200, refundView(r)];
      },
    ],
    [
      'GET',
      /^\/sim\/deliveries$/,
      (ctx) => {
        const q = ctx.url.searchParams;
        return [
          200,
          sim.notifier.list({
            outTradeNo: q.get('outTradeNo') || undefined,
            outRefundNo: q.get('outRefundNo') || undefined,
          }),
        ];
      },
    ],
    [
      'GET',
      /^\/sim\/deliveries\/([^/]+)$/,
      (ctx) => {
        const d = sim.notifier.get(ctx.params[0]);
        if (!d) throw new ControlError(404, `no delivery ${ctx.params[0]}`);
        return [200, d];
      },
    ],
    [
      'POST',
      /^\/sim\/deliveries\/([^/]+)\/replay$/,
      async (ctx) => {
        const d = await sim.notifier.replay(ctx.params[0]);
        if (!d) throw new ControlError(404, `no delivery ${ctx.params[0]}`);
        return [200, d];
      },
    ],
    [
      'POST',
      /^\/sim\/faults$/,
      (ctx) => {
        try {
          return [200, sim.faults.add(controlBody(ctx))];
        } catch (err) {
          if (err instanceof ControlError) throw err;
          throw new ControlError(400, (err as Error).message);
        }
      },
    ],
    ['GET', /^\/sim\/faults$/, () => [200, sim.faults.list()]],
    [
      'DELETE',
      /^\/sim\/faults$/,
      () => {
        sim.faults.clear();
        return [200, { cleared: true }];
      },
    ],
    [
      'POST',
      /^\/sim\/clock$/,
      (ctx) => {
        const b = controlBody(ctx);
        if (b.timeScale !== undefined) {
          if (typeof b.timeScale !== 'number' || !(b.timeScale > 0) || b.timeScale > 1e7)
            throw new ControlError(400, 'timeScale must be a number > 0 (≤ 1e7)');
          sim.clock.setScale(b.timeScale);
        }
        if (b.advanceSeconds !== undefined) {
          if (
            typeof b.advanceSeconds !== 'number' ||
            !(b.advanceSeconds >= 0) ||
            !Number.isFinite(b.advanceSeconds)
          )
            throw new ControlError(400, 'advanceSeconds must be a number ≥ 0');
          sim.clock.advance(b.advanceSeconds);
        }
        return [200, { now: new Date(sim.clock.now()).toISOString(), timeScale: sim.clock.timeScale }];
      },
    ],
    [
      'GET',
      /^\/sim\/clock$/,
      () => [200, { now: new Date(sim.clock.now()).toISOString(), timeScale: sim.clock.timeScale }],
    ],
    [
      'POST',
      /^\/sim\/mode$/,
      (ctx) => {
        const mode = controlBody(ctx).signingMode;
        if (!SIGNING_MODES.includes(mode as SigningMode))
          throw new ControlError(400, `signingMode must be one of ${SIGNING_MODES.join(', ')}`);
        try {
          sim.signer.setMode(mode as SigningMode);
        } catch (err) {
          throw new ControlError(400, (err as Error).message);
        }
        return [200, { signingMode: sim.signer.signingMode }];
      },
    ],
    ['GET', /^\/sim\/mode$/, () => [200, { signingMode: sim.signer.signingMode }]],
    [
      'POST',
      /^\/sim\/reset$/,
      () => {
        sim.reset();
        return [200, { reset: true }];
      },
    ],
  ];
  return jsonControlRoutes('control handler', routes);
}
