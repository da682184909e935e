// WeChat Pay API v3 on its real paths: every request's Authorization checked, every answer signed.
import { randomAlnum, aeadEncrypt } from './crypto';
import { V3Error, v3 } from './errors';
import type { ApiTarget } from './faults';
import { hang, parseJsonObject, sendText, type Ctx, type Route } from './http';
import { verifyRequest } from './authorization';
import { notifyUrlProblem } from './loopback';
import type { MerchantAccount } from './merchant';
import { refundJson, transactionJson } from './resources';
import { requestId } from './signer';
import type { Simulator } from './simulator';
import { canonicalJson, type SimRefund } from './state';
import { rfc3339Cst } from './time';
import { validateJsapi, validateRefund } from './validate-v3';

export function sendV3(sim: Simulator, ctx: Ctx, status: number, body?: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string> = { ...sim.signer.sign(text), 'Request-ID': requestId() };
  if (text) sendText(ctx.res, status, text, 'application/json; charset=utf-8', headers);
  else {
    ctx.res.writeHead(status, headers);
    ctx.res.end();
  }
}

type V3Handler = (
  ctx: Ctx,
  merchant: MerchantAccount,
) => Promise<{ status: number; body?: unknown }> | { status: number; body?: unknown };

/** Wraps a handler with fault injection, signature verification and WeChat's error answers. */
function v3Route(
  sim: Simulator,
  method: string,
  pattern: RegExp,
  target: ApiTarget,
  handler: V3Handler,
): Route {
  return {
    method,
    pattern,
    handler: async (ctx) => {
      sim.state.countCall(target);
      try {
        const fault = sim.faults.take(target, ['timeout', 'lostResponse', '5xx', 'rateLimit']);
        if (fault?.kind === 'timeout') {
          if (fault.delayMs === undefined) return void (await hang(ctx));
          await new Promise((r) => setTimeout(r, fault.delayMs));
        }
        if (fault?.kind === '5xx') throw v3.system();
        if (fault?.kind === 'rateLimit') throw v3.frequency();
        const merchant = verifiedMerchant(ctx, sim);
        const out = await handler(ctx, merchant);
        if (fault?.kind === 'lostResponse') return void (await hang(ctx));
        sendV3(sim, ctx, out.status, out.body);
      } catch (err) {
        if (err instanceof V3Error) return sendV3(sim, ctx, err.status, err.body());
        console.error('[wechat-sim] v3 handler failed:', err);
        sendV3(sim, ctx, 500, v3.system().body());
      }
    },
  };
}

export function header(ctx: Ctx, name: string): string | undefined {
  const v = ctx.req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The merchant whose signature the request carries, verified as WeChat Pay does (else 401 SIGN_ERROR). */
export function verifiedMerchant(ctx: Ctx, sim: Simulator): MerchantAccount {
  return verifyRequest(
    {
      method: ctx.method,
      pathWithQuery: ctx.target,
      authorization: header(ctx, 'authorization'),
      body: ctx.body,
    },
    sim.registry.merchants,
  );
}

function jsonBody(ctx: Ctx): Record<string, unknown> {
  const body = parseJsonObject(ctx.body);
  if (!body)
    throw new V3Error(400, 'PARAM_ERROR', '请求体不是合法的JSON对象', {
      location: 'body',
      issue: 'body must be a JSON object',
    });
  return body;
}

function queryMchid(ctx: Ctx, merchant: MerchantAccount): void {
  const mchid = ctx.url.searchParams.get('mchid');
  if (!mchid) throw v3.param('mchid', '为必填参数，不能为空', undefined, 'query');
  if (mchid !== merchant.mchid) throw v3.param('mchid', '与签名的商户号不一致', mchid, 'query');
}

function decodePath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw v3.param('path', '路径参数编码错误', segment, 'path');
  }
}

export function v3Routes(sim: Simulator): Route[] {
  const now = () => sim.clock.now();

  const jsapi: V3Handler = (ctx, merchant) => {
    const req = validateJsapi(jsonBody(ctx));
    if (req.mchid !== merchant.mchid) throw v3.param('mchid', '与签名的商户号不一致', req.mchid);
    if (!merchant.appids.has(req.appid)) throw v3.appidMchid();
    const user = sim.state.users.get(req.openid);
    if (!user || user.appid !== req.appid)
      throw new V3Error(400, 'PARAM_ERROR', 'openid与appid不匹配', {
        field: 'payer.openid',
        value: req.openid,
        issue: 'openid不存在或不属于该appid',
        location: 'body',
      });
    const urlProblem = notifyUrlProblem(req.notify_url, sim.options.allowHttpLoopbackNotify);
    if (urlProblem) throw v3.param('notify_url', urlProblem, req.notify_url);
    if (req.timeExpireMs !== undefined && req.timeExpireMs <= now())
      throw v3.param('time_expire', '订单失效时间不能早于当前时间', req.time_expire);
    const fingerprint = canonicalJson({ ...req, timeExpireMs: undefined });
    const existing = sim.state.order(merchant.mchid, req.out_trade_no);
    if (existing) {
      if (existing.apiVersion !== 'v3' || existing.fingerprint !== fingerprint)
        throw v3.invalid('201 商户订单号重复');
      if (existing.state === 'SUCCESS') throw v3.orderPaid();
      if (existing.state === 'CLOSED') throw v3.orderClosed();
      if (sim.renewExpiredPrepay(existing)) sim.emitOrder(existing);
      return { status: 200, body: { prepay_id: existing.prepayId } };
    }
    const order = sim.createOrder({
      apiVersion: 'v3',
      mchid: merchant.mchid,
      appid: req.appid,
      outTradeNo: req.out_trade_no,
      description: req.description,
      ...(req.attach !== undefined ? { attach: req.attach } : {}),
      notifyUrl: req.notify_url,
      openid: req.openid,
      total: req.total,
      currency: req.currency,
      ...(req.timeExpireMs !== undefined ? { timeExpire: req.timeExpireMs } : {}),
      fingerprint,
    });
    return { status: 200, body: { prepay_id: order.prepayId } };
  };

  const queryByOutTradeNo: V3Handler = (ctx, merchant) => {
    queryMchid(ctx, merchant);
    const order = sim.state.order(merchant.mchid, decodePath(ctx.params[0]));
    if (!order) throw v3.orderNotExist();
    return { status: 200, body: transactionJson(order, sim.state.tradeState(order)) };
  };

  const queryById: V3Handler = (ctx, merchant) => {
    queryMchid(ctx, merchant);
    const order = sim.state.orderByTransactionId(merchant.mchid, decodePath(ctx.params[0]));
    if (!order) throw v3.orderNotExist();
    return { status: 200, body: transactionJson(order, sim.state.tradeState(order)) };
  };

  const close: V3Handler = (ctx, merchant) => {
    const body = jsonBody(ctx);
    const mchid = body.mchid;
    if (typeof mchid !== 'string' || !mchid) throw v3.param('mchid', '为必填参数，不能为空', mchid);
    if (mchid !== merchant.mchid) throw v3.param('mchid', '与签名的商户号不一致', mchid);
    const order = sim.state.order(merchant.mchid, decodePath(ctx.params[0]));
    if (!order) throw v3.orderNotExist();
    if (order.state === 'SUCCESS') throw v3.orderPaid();
    if (order.state !== 'CLOSED') {
      order.state = 'CLOSED';
      sim.emitOrder(order);
    }
    return { status: 204 };
  };

  const refund: V3Handler = (ctx, merchant) => {
    const req = validateRefund(jsonBody(ctx));
    if (req.notify_url !== undefined) {
      const problem = notifyUrlProblem(req.notify_url, sim.options.allowHttpLoopbackNotify);
      if (problem) throw v3.param('notify_url', problem, req.notify_url);
    }
    const order =
      req.transaction_id !== undefined
        ? sim.state.orderByTransactionId(merchant.mchid, req.transaction_id)
        : sim.state.order(merchant.mchid, req.out_trade_no!);
    if (!order || (req.out_trade_no !== undefined && order.outTradeNo !== req.out_trade_no)) {
      throw v3.resourceNotExist('订单不存在');
    }
    const fingerprint = canonicalJson({ ...req, transaction_id: undefined, out_trade_no: order.outTradeNo });
    const existing = sim.state.refund(merchant.mchid, req.out_refund_no);
    if (existing) {
      if (existing.fingerprint !== fingerprint)
        throw v3.invalid('商户退款单号重复，且退款参数与原请求不一致，请核实后再试');
      return { status: 200, body: refundJson(existing) };
    }
    if (order.state !== 'SUCCESS')
      throw v3.invalid(order.state === 'CLOSED' ? '订单已关闭，不能申请退款' : '订单未支付，不能申请退款');
    if (req.total !== order.total) throw v3.invalid('订单金额total与原订单金额不一致');
    if (sim.state.refundedOrPending(order) + req.refund > order.total)
      throw v3.invalid('申请退款金额超过订单可退金额');
    if (sim.faults.take('refund', ['notEnough'])) throw v3.notEnough();
    const record: SimRefund = {
      apiVersion: 'v3',
      mchid: merchant.mchid,
      outRefundNo: req.out_refund_no,
      refundId: sim.newRefundId(),
      outTradeNo: order.outTradeNo,
      transactionId: order.transactionId!,
      amount: req.refund,
      total: order.total,
      currency: req.currency,
      ...(req.reason !== undefined ? { reason: req.reason } : {}),
      ...(req.notify_url !== undefined ? { notifyUrl: req.notify_url } : {}),
      fingerprint,
      status: 'PROCESSING',
      createdAt: now(),
    };
    sim.saveRefund(record);
    return { status: 200, body: refundJson(record) };
  };

  const refundQuery: V3Handler = (ctx, merchant) => {
    const r = sim.state.refund(merchant.mchid, decodePath(ctx.params[0]));
    if (!r) throw v3.resourceNotExist('退款单不存在');
    return { status: 200, body: refundJson(r) };
  };

  const certificates: V3Handler = (_ctx, merchant) => {
    const p = sim.registry.platform;
    const nonce = randomAlnum(12);
    return {
      status: 200,
      body: {
        data: [
          {
            serial_no: p.certificateSerial,
            effective_time: rfc3339Cst(Date.parse(p.certificate.validFrom)),
            expire_time: rfc3339Cst(Date.parse(p.certificate.validTo)),
            encrypt_certificate: {
              algorithm: 'AEAD_AES_256_GCM',
              nonce,
              associated_data: 'certificate',
              ciphertext: aeadEncrypt(merchant.apiV3Key, nonce, 'certificate', p.certificatePem),
            },
          },
        ],
      },
    };
  };

  return [
    v3Route(sim, 'POST', /^\/v3\/pay\/transactions\/jsapi$/, 'jsapi', jsapi),
    v3Route(sim, 'GET', /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/, 'query', queryByOutTradeNo),
    v3Route(sim, 'GET', /^\/v3\/pay\/transactions\/id\/([^/]+)$/, 'query', queryById),
    v3Route(sim, 'POST', /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)\/close$/, 'close', close),
    v3Route(sim, 'POST', /^\/v3\/refund\/domestic\/refunds$/, 'refund', refund),
    v3Route(sim, 'GET', /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/, 'refundQuery', refundQuery),
    v3Route(sim, 'GET', /^\/v3\/certificates$/, 'certificates', certificates),
  ];
}

/** Unknown /v3/ paths answer as WeChat does, signed. */
export function v3NotFound(sim: Simulator, ctx: Ctx): void {
  sendV3(sim, ctx, 404, v3.notFound().body());
}
