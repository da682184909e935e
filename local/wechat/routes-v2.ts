// WeChat Pay API v2 (legacy) on its real paths: XML in and out, MD5 / HMAC-SHA256 signatures.
// Protocol failures (bad XML, bad signature) answer return_code FAIL; business failures answer
// return_code SUCCESS + result_code FAIL + err_code, signed like every SUCCESS answer.
import { randomAlnum, v2Sign, v2SignValid, type V2SignType } from './crypto';
import { V2BusinessError, V2ReturnError } from './errors';
import type { ApiTarget } from './faults';
import { hang, sendText, type Ctx, type Route } from './http';
import { notifyUrlProblem } from './loopback';
import type { MerchantAccount } from './merchant';
import { v2PaidFields, v2RefundStatus } from './resources';
import type { Simulator } from './simulator';
import { canonicalJson, TRADE_STATE_DESC, type SimOrder, type SimRefund } from './state';
import { parseCompactCst, spacedCst } from './time';
import { buildFlatXml, parseFlatXml, XmlFormatError, type FlatXml } from './xml';
import { OUT_REFUND_NO } from './validate-v3';

type Fields = Record<string, string | number | undefined>;

interface V2Request {
  fields: FlatXml;
  merchant: MerchantAccount;
  signType: V2SignType;
}

const OUT_TRADE_NO_V2 = /^[A-Za-z0-9_\-|*]{1,32}$/;

function sendXml(ctx: Ctx, xml: string, status = 200): void {
  sendText(ctx.res, status, xml, 'text/xml; charset=utf-8');
}

function returnFail(ctx: Ctx, message: string, extra: Fields = {}, status = 200): void {
  sendXml(ctx, buildFlatXml({ return_code: 'FAIL', return_msg: message, ...extra }), status);
}

function signedAnswer(req: V2Request, fields: Fields): string {
  const out: Fields = {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: req.fields.appid,
    mch_id: req.merchant.mchid,
    nonce_str: randomAlnum(32),
    ...fields,
  };
  out.sign = v2Sign(out, req.merchant.apiV2Key, req.signType);
  return buildFlatXml(out);
}

function need(f: FlatXml, name: string): string {
  const v = f[name];
  if (v === undefined || v === '') throw new V2BusinessError('LACK_PARAMS', `缺少参数${name}`);
  return v;
}

function maxLen(f: FlatXml, name: string, max: number): void {
  const v = f[name];
  if (v !== undefined && [...v].length > max)
    throw new V2BusinessError('PARAM_ERROR', `${name}参数长度有误，不能超过${max}个字符`);
}

function fee(f: FlatXml, name: string): number {
  const v = need(f, name);
  if (!/^[1-9]\d{0,11}$/.test(v))
    throw new V2BusinessError('PARAM_ERROR', `${name}参数格式错误，应为大于0的整数（单位：分）`);
  return Number(v);
}

type V2Handler = (req: V2Request) => Fields;

function v2Route(sim: Simulator, path: string, target: ApiTarget, handler: V2Handler): Route {
  return {
    method: 'POST',
    pattern: new RegExp(`^${path.replace(/\//g, '\\/')}$`),
    handler: async (ctx) => {
      sim.state.countCall(target);
      const fault = sim.faults.take(target, ['timeout', 'lostResponse', '5xx', 'rateLimit']);
      if (fault?.kind === 'timeout') {
        if (fault.delayMs === undefined) return void (await hang(ctx));
        await new Promise((r) => setTimeout(r, fault.delayMs));
      }
      let req: V2Request | undefined;
      try {
        let fields: FlatXml;
        try {
          fields = parseFlatXml(ctx.body);
        } catch (err) {
          if (err instanceof XmlFormatError) throw new V2ReturnError(`XML格式错误: ${err.message}`);
          throw err;
        }
        const merchant = sim.registry.merchants.get(fields.mch_id ?? '');
        if (!merchant) throw new V2ReturnError('mch_id参数错误，商户号不存在');
        if (!merchant.apiV2Key) throw new V2ReturnError('商户未设置APIv2密钥');
        const signType = (fields.sign_type ?? 'MD5') as V2SignType;
        if (signType !== 'MD5' && signType !== 'HMAC-SHA256')
          throw new V2ReturnError('sign_type参数错误，仅支持MD5和HMAC-SHA256');
        if (!fields.sign || !v2SignValid(fields, merchant.apiV2Key, signType)) {
          return returnFail(ctx, '签名错误', {
            err_code: 'SIGNERROR',
            err_code_des: '签名错误，请检查签名参数和方法是否都符合签名算法要求',
          });
        }
        req = { fields, merchant, signType };
        if (!fields.appid || !merchant.appids.has(fields.appid))
          throw new V2BusinessError('APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配');
        need(fields, 'nonce_str');
        maxLen(fields, 'nonce_str', 32);
        if (fault?.kind === '5xx')
          return sendXml(
            ctx,
            signedAnswer(req, {
              result_code: 'FAIL',
              err_code: 'SYSTEMERROR',
              err_code_des: '系统超时，请用相同参数再次调用',
            }),
            500,
          );
        if (fault?.kind === 'rateLimit')
          throw new V2BusinessError('FREQUENCY_LIMITED', '请求频率超限，请降低频率后重试');
        const answer = signedAnswer(req, { result_code: 'SUCCESS', ...handler(req) });
        if (fault?.kind === 'lostResponse') return void (await hang(ctx));
        sendXml(ctx, answer);
      } catch (err) {
        if (err instanceof V2ReturnError) return returnFail(ctx, err.message);
        if (err instanceof V2BusinessError && req)
          return sendXml(
            ctx,
            signedAnswer(req, { result_code: 'FAIL', err_code: err.errCode, err_code_des: err.errCodeDes }),
          );
        if (err instanceof V2BusinessError) return returnFail(ctx, err.errCodeDes);
        console.error('[wechat-sim] v2 handler failed:', err);
        returnFail(ctx, '系统错误', {}, 500);
      }
    },
  };
}

function findOrder(sim: Simulator, req: V2Request): SimOrder {
  const f = req.fields;
  const order = f.transaction_id
    ? sim.state.orderByTransactionId(req.merchant.mchid, f.transaction_id)
    : f.out_trade_no
      ? sim.state.order(req.merchant.mchid, f.out_trade_no)
      : undefined;
  if (!f.transaction_id && !f.out_trade_no)
    throw new V2BusinessError('LACK_PARAMS', 'transaction_id和out_trade_no必须二选一');
  if (!order) throw new V2BusinessError('ORDERNOTEXIST', '此交易订单号不存在');
  return order;
}

export function v2Routes(sim: Simulator): Route[] {
  const now = () => sim.clock.now();

  const unifiedorder: V2Handler = (req) => {
    const f = req.fields;
    const body = need(f, 'body');
    maxLen(f, 'body', 128);
    const outTradeNo = need(f, 'out_trade_no');
    if (!OUT_TRADE_NO_V2.test(outTradeNo))
      throw new V2BusinessError(
        'PARAM_ERROR',
        'out_trade_no参数格式错误，32个字符内，只能是数字、大小写字母_-|*',
      );
    const total = fee(f, 'total_fee');
    if (f.fee_type !== undefined && f.fee_type !== 'CNY')
      throw new V2BusinessError('PARAM_ERROR', 'fee_type仅支持CNY');
    need(f, 'spbill_create_ip');
    const notifyUrl = need(f, 'notify_url');
    maxLen(f, 'notify_url', 256);
    maxLen(f, 'attach', 127);
    const problem = notifyUrlProblem(notifyUrl, sim.options.allowHttpLoopbackNotify);
    if (problem) throw new V2BusinessError('PARAM_ERROR', problem);
    const tradeType = need(f, 'trade_type');
    if (tradeType !== 'JSAPI')
      throw new V2BusinessError('PARAM_ERROR', `trade_type参数错误：模拟器只支持JSAPI，收到${tradeType}`);
    const openid = need(f, 'openid');
    const user = sim.state.users.get(openid);
    if (!user || user.appid !== f.appid) throw new V2BusinessError('PARAM_ERROR', 'appid和openid不匹配');
    let timeExpire: number | undefined;
    if (f.time_expire !== undefined) {
      timeExpire = parseCompactCst(f.time_expire);
      if (timeExpire === undefined)
        throw new V2BusinessError('PARAM_ERROR', 'time_expire参数格式错误，应为yyyyMMddHHmmss');
      if (timeExpire <= now()) throw new V2BusinessError('INVALID_TIME', '订单失效时间不能早于当前时间');
    }
    const { nonce_str: _n, sign: _s, sign_type: _t, time_start: _ts, ...stable } = f;
    const fingerprint = canonicalJson(stable);
    const existing = sim.state.order(req.merchant.mchid, outTradeNo);
    if (existing) {
      if (existing.state === 'SUCCESS') throw new V2BusinessError('ORDERPAID', '该订单已支付');
      if (existing.state === 'CLOSED') throw new V2BusinessError('ORDERCLOSED', '该订单已关闭');
      if (existing.apiVersion !== 'v2' || existing.fingerprint !== fingerprint)
        throw new V2BusinessError('OUT_TRADE_NO_USED', '商户订单号重复');
      sim.renewExpiredPrepay(existing);
      existing.v2SignType = req.signType;
      sim.emitOrder(existing);
      return { prepay_id: existing.prepayId, trade_type: 'JSAPI' };
    }
    const order = sim.createOrder({
      apiVersion: 'v2',
      v2SignType: req.signType,
      mchid: req.merchant.mchid,
      appid: f.appid,
      outTradeNo,
      description: body,
      ...(f.attach !== undefined ? { attach: f.attach } : {}),
      notifyUrl,
      openid,
      total,
      currency: 'CNY',
      ...(timeExpire !== undefined ? { timeExpire } : {}),
      fingerprint,
    });
    return { prepay_id: order.prepayId, trade_type: 'JSAPI' };
  };

  const orderquery: V2Handler = (req) => {
    const order = findOrder(sim, req);
    const state = sim.state.tradeState(order);
    const paid = order.successTime !== undefined;
    return {
      trade_state: state,
      trade_state_desc: TRADE_STATE_DESC[state],
      out_trade_no: order.outTradeNo,
      ...(paid
        ? v2PaidFields(order)
        : { total_fee: order.total, fee_type: order.currency, openid: order.openid, attach: order.attach }),
    };
  };

  const closeorder: V2Handler = (req) => {
    const outTradeNo = need(req.fields, 'out_trade_no');
    const order = sim.state.order(req.merchant.mchid, outTradeNo);
    if (!order) throw new V2BusinessError('ORDERNOTEXIST', '订单不存在');
    if (order.state === 'SUCCESS') throw new V2BusinessError('ORDERPAID', '订单已支付，不能发起关单');
    if (order.state === 'CLOSED') throw new V2BusinessError('ORDERCLOSED', '订单已关闭，无法重复关闭');
    order.state = 'CLOSED';
    sim.emitOrder(order);
    return { result_msg: 'OK' };
  };

  const refundAnswer = (r: SimRefund): Fields => ({
    transaction_id: r.transactionId,
    out_trade_no: r.outTradeNo,
    out_refund_no: r.outRefundNo,
    refund_id: r.refundId,
    refund_fee: r.amount,
    total_fee: r.total,
    cash_fee: r.total,
    cash_refund_fee: r.amount,
    coupon_refund_fee: 0,
    coupon_refund_count: 0,
  });

  const refund: V2Handler = (req) => {
    const f = req.fields;
    const order = findOrder(sim, req);
    const outRefundNo = need(f, 'out_refund_no');
    if (!OUT_REFUND_NO.test(outRefundNo))
      throw new V2BusinessError(
        'PARAM_ERROR',
        'out_refund_no参数格式错误，64个字符内，只能是数字、大小写字母_-|*@',
      );
    const total = fee(f, 'total_fee');
    const amount = fee(f, 'refund_fee');
    maxLen(f, 'refund_desc', 80);
    if (f.refund_fee_type !== undefined && f.refund_fee_type !== 'CNY')
      throw new V2BusinessError('PARAM_ERROR', 'refund_fee_type仅支持CNY');
    if (amount > total) throw new V2ReturnError('invalid refund_fee');
    if (f.notify_url) {
      const problem = notifyUrlProblem(f.notify_url, sim.options.allowHttpLoopbackNotify);
      if (problem) throw new V2BusinessError('PARAM_ERROR', problem);
    }
    const fingerprint = canonicalJson({
      outTradeNo: order.outTradeNo,
      total,
      amount,
      notify: f.notify_url,
      desc: f.refund_desc,
    });
    const existing = sim.state.refund(req.merchant.mchid, outRefundNo);
    if (existing) {
      if (
        existing.outTradeNo !== order.outTradeNo ||
        existing.amount !== amount ||
        existing.total !== total
      ) {
        throw new V2BusinessError('REFUND_FEE_MISMATCH', '订单金额或退款金额与之前请求不一致，请核实后再试');
      }
      return refundAnswer(existing);
    }
    if (order.state !== 'SUCCESS')
      throw new V2BusinessError('TRADE_STATE_ERROR', '订单状态错误，未支付或已关闭的订单不能退款');
    if (total !== order.total)
      throw new V2BusinessError('REFUND_FEE_MISMATCH', '订单金额或退款金额与之前请求不一致，请核实后再试');
    const committed = sim.state.refundedOrPending(order);
    if (committed >= order.total) throw new V2BusinessError('ERROR', '订单已全额退款');
    if (committed + amount > order.total)
      throw new V2BusinessError('INVALID_REQUEST', 'refund_fee大于可退金额');
    if (sim.faults.take('v2refund', ['notEnough']))
      throw new V2BusinessError('NOTENOUGH', '基本账户余额不足，请充值后重新发起');
    const record: SimRefund = {
      apiVersion: 'v2',
      mchid: req.merchant.mchid,
      outRefundNo,
      refundId: sim.newRefundId(),
      outTradeNo: order.outTradeNo,
      transactionId: order.transactionId!,
      amount,
      total,
      currency: 'CNY',
      ...(f.refund_desc ? { reason: f.refund_desc } : {}),
      ...(f.notify_url ? { notifyUrl: f.notify_url } : {}),
      fingerprint,
      status: 'PROCESSING',
      createdAt: now(),
    };
    sim.saveRefund(record);
    return refundAnswer(record);
  };

  const refundquery: V2Handler = (req) => {
    const f = req.fields;
    let refunds: SimRefund[];
    let order: SimOrder | undefined;
    if (f.refund_id || f.out_refund_no) {
      const r = [...sim.state.refunds.values()].find(
        (x) =>
          x.mchid === req.merchant.mchid &&
          (f.refund_id ? x.refundId === f.refund_id : x.outRefundNo === f.out_refund_no),
      );
      refunds = r ? [r] : [];
      order = r && sim.state.order(r.mchid, r.outTradeNo);
    } else if (f.transaction_id || f.out_trade_no) {
      order = f.transaction_id
        ? sim.state.orderByTransactionId(req.merchant.mchid, f.transaction_id)
        : sim.state.order(req.merchant.mchid, f.out_trade_no);
      refunds = order ? sim.state.refundsOf(order) : [];
    } else {
      throw new V2BusinessError(
        'LACK_PARAMS',
        'refund_id、out_refund_no、transaction_id、out_trade_no必须四选一',
      );
    }
    if (!order || refunds.length === 0) throw new V2BusinessError('REFUNDNOTEXIST', '退款订单查询失败');
    const out: Fields = {
      transaction_id: order.transactionId,
      out_trade_no: order.outTradeNo,
      total_fee: order.total,
      cash_fee: order.payerTotal,
      refund_count: refunds.length,
      total_refund_count: refunds.length,
    };
    refunds.forEach((r, i) => {
      out[`out_refund_no_${i}`] = r.outRefundNo;
      out[`refund_id_${i}`] = r.refundId;
      out[`refund_channel_${i}`] = 'ORIGINAL';
      out[`refund_fee_${i}`] = r.amount;
      out[`settlement_refund_fee_${i}`] = r.amount;
      out[`refund_status_${i}`] = v2RefundStatus(r.status);
      out[`refund_account_${i}`] = 'REFUND_SOURCE_UNSETTLED_FUNDS';
      out[`refund_recv_accout_${i}`] = '支付用户零钱';
      if (r.successTime !== undefined) out[`refund_success_time_${i}`] = spacedCst(r.successTime);
    });
    return out;
  };

  return [
    v2Route(sim, '/pay/unifiedorder', 'unifiedorder', unifiedorder),
    v2Route(sim, '/pay/orderquery', 'orderquery', orderquery),
    v2Route(sim, '/pay/closeorder', 'closeorder', closeorder),
    v2Route(sim, '/secapi/pay/refund', 'v2refund', refund),
    v2Route(sim, '/pay/refundquery', 'refundquery', refundquery),
  ];
}
