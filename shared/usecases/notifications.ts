// Notifications (docs/product.md#notifications): verify over the raw body, decrypt, check against our
// records, apply through the same transitions as queries, log once per notification id, and answer
// so that WeChat stops (204 / v2 SUCCESS) or retries (5xx / v2 FAIL). A verified notification that
// contradicts our records is acknowledged as an anomaly and changes no money state.
import { createHash } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { isConfigError } from '../config/errors';
import type { PaymentFacts } from '../domain/order';
import type { RefundFacts } from '../domain/refund';
import { isStorageError } from '../db/errors';
import { hasApplied, recordNotification, type NotificationOutcome } from '../db/notifications';
import { getRefund } from '../db/refunds';
import { describeForLog } from '../http/errors';
import {
  emptyResponse,
  jsonResponse,
  xmlResponse,
  type TriggerRequest,
  type TriggerResponse,
} from '../http/trigger';
import { WxpayError } from '../wxpay/errors';
import { paymentFactsOf } from './gateway-v3';
import { getNotificationParser } from './gateways';
import { outcomeOf, applyPayment } from './payments';
import { applyRefundReport } from './refunds';

type Kind = 'pay' | 'refund';

interface Verified {
  id: string;
  eventType: string;
  outTradeNo?: string;
  outRefundNo?: string;
  appid?: string;
  mchid: string;
  payment?: PaymentFacts;
  refund?: RefundFacts;
}

function httpStatusOf(err: unknown): number | undefined {
  const s = (err as { httpStatus?: unknown }).httpStatus;
  return s === 400 || s === 401 ? s : undefined;
}

function answer(version: 'v2' | 'v3', status: number, message?: string): TriggerResponse {
  if (version === 'v3')
    return status === 204
      ? emptyResponse(204)
      : jsonResponse(status, { code: 'FAIL', message: message ?? 'failed' });
  // v2: WeChat stops retrying on return_code SUCCESS and retries otherwise.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { V2_ACK_SUCCESS, v2AckFail } = require('../wxpay/v2/ack') as typeof import('../wxpay/v2/ack');
  return status === 204
    ? xmlResponse(200, V2_ACK_SUCCESS)
    : xmlResponse(status, v2AckFail(message ?? 'failed'));
}

async function verifyV3(kind: Kind, req: TriggerRequest, config: AppConfig): Promise<Verified> {
  const parser = getNotificationParser(config);
  if (kind === 'pay') {
    const n = await parser.parseTransaction(req.headers, req.rawBody);
    const t = n.resource;
    return {
      id: n.envelope.id,
      eventType: n.envelope.event_type,
      outTradeNo: t.out_trade_no,
      appid: t.appid,
      mchid: t.mchid,
      payment: paymentFactsOf(t),
    };
  }
  const n = await parser.parseRefund(req.headers, req.rawBody);
  const r = n.resource;
  const refund: RefundFacts = { status: r.refund_status, refundId: r.refund_id, refundFen: r.amount.refund };
  if (r.success_time) refund.successAt = new Date(r.success_time);
  return {
    id: n.envelope.id,
    eventType: n.envelope.event_type,
    outTradeNo: r.out_trade_no,
    outRefundNo: r.out_refund_no,
    mchid: r.mchid,
    refund,
  };
}

function digest(parts: string[]): string {
  return `v2-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 40)}`;
}

function verifyV2(kind: Kind, req: TriggerRequest, config: AppConfig): Verified {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const v2 = require('../wxpay/v2/notify') as typeof import('../wxpay/v2/notify');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parseV2Time, v2RefundStatus } = require('./gateway-v2') as typeof import('./gateway-v2');
  const c = config.payV2();
  if (kind === 'pay') {
    const n = v2.parseV2PaymentNotification(req.rawBody, { apiV2Key: c.apiV2Key, signType: c.signType });
    const payment: PaymentFacts = {
      transactionId: n.transactionId,
      amountTotalFen: n.totalFee,
      payerOpenid: n.openid,
      paidAt: parseV2Time(n.timeEnd) ?? new Date(),
    };
    if (n.cashFee !== undefined) payment.payerTotalFen = n.cashFee;
    const v: Verified = {
      id: digest(['pay', n.outTradeNo, n.transactionId, n.resultCode]),
      eventType: `TRANSACTION.${n.resultCode}`,
      outTradeNo: n.outTradeNo,
      appid: n.appid,
      mchid: n.mchId,
    };
    if (n.resultCode === 'SUCCESS') v.payment = payment;
    return v;
  }
  const n = v2.parseV2RefundNotification(req.rawBody, { apiV2Key: c.apiV2Key });
  const status = v2RefundStatus(n.refundStatus);
  const refund: RefundFacts = { status, refundId: n.refundId, refundFen: n.refundFee };
  const at = parseV2Time(n.successTime);
  if (at) refund.successAt = at;
  return {
    id: digest(['refund', n.outRefundNo, n.refundStatus]),
    eventType: `REFUND.${status}`,
    outTradeNo: n.outTradeNo,
    outRefundNo: n.outRefundNo,
    appid: n.appid,
    mchid: n.mchId,
    refund,
  };
}

/**
 * A notification that finds its change already in place (an active query or reconcile got there
 * first) is the one that confirms it: `applied`. Later notifications of the same event: `duplicate`.
 */
async function alreadyOutcome(v: Verified): Promise<NotificationOutcome> {
  const ref = v.outRefundNo
    ? { outRefundNo: v.outRefundNo }
    : v.outTradeNo
      ? { outTradeNo: v.outTradeNo }
      : {};
  return (await hasApplied(v.eventType, ref)) ? 'duplicate' : 'applied';
}

async function apply(kind: Kind, v: Verified, config: AppConfig, now: Date): Promise<NotificationOutcome> {
  const pay = config.apiVersion() === 'v2' ? config.payV2() : config.notifyV3();
  if (v.mchid !== pay.mchid) return 'anomaly:other-merchant';
  if (v.appid !== undefined && v.appid !== pay.appid) return 'anomaly:other-appid';
  if (kind === 'pay') {
    if (!v.payment || !v.outTradeNo) return 'rejected:payment-failed';
    const o = outcomeOf(await applyPayment(v.outTradeNo, v.payment, now));
    return o === 'missing' ? 'anomaly:unknown-order' : o === 'already' ? alreadyOutcome(v) : o;
  }
  if (!v.refund || !v.outRefundNo) return 'rejected:no-refund';
  const stored = await getRefund(v.outRefundNo);
  if (!stored) return 'anomaly:unknown-refund';
  if (stored.outTradeNo !== v.outTradeNo) return 'anomaly:order-mismatch';
  const r = await applyRefundReport(v.outRefundNo, v.refund, now);
  if (r.outcome === 'missing') return 'anomaly:unknown-refund';
  if (r.outcome === 'anomaly') return `anomaly:${r.reason ?? 'contradiction'}`;
  return r.outcome === 'applied' ? 'applied' : alreadyOutcome(v);
}

export async function handleNotification(
  kind: Kind,
  req: TriggerRequest,
  config: AppConfig,
): Promise<TriggerResponse> {
  const tag = kind === 'pay' ? '[payNotify]' : '[refundNotify]';
  let version: 'v2' | 'v3' = 'v3';
  try {
    config.validateFor(kind === 'pay' ? 'payNotify' : 'refundNotify');
    version = config.apiVersion();
  } catch (err) {
    console.error(`${tag} ${describeForLog(err)}`);
    return answer('v3', 500, 'the endpoint is misconfigured; see the function log');
  }
  if (req.method !== 'POST') return answer(version, 400, 'notifications are POSTed');

  let verified: Verified;
  try {
    verified = version === 'v2' ? verifyV2(kind, req, config) : await verifyV3(kind, req, config);
  } catch (err) {
    const status = httpStatusOf(err);
    if (status !== undefined && err instanceof WxpayError) {
      console.warn(`${tag} refused (${status}): ${describeForLog(err)}`);
      return answer(version, status, err.message.slice(0, 500));
    }
    // e.g. the platform-certificate download failed: not the sender's fault, let WeChat retry.
    console.error(`${tag} could not verify: ${describeForLog(err)}`);
    return answer(version, 500, 'verification is temporarily unavailable; retry');
  }

  const now = new Date();
  try {
    const outcome = await apply(kind, verified, config, now);
    const record = {
      _id: verified.id,
      eventType: verified.eventType,
      outcome,
      receivedAt: now,
    } as Parameters<typeof recordNotification>[0];
    if (verified.outTradeNo) record.outTradeNo = verified.outTradeNo;
    if (verified.outRefundNo) record.outRefundNo = verified.outRefundNo;
    await recordNotification(record);
    if (outcome.startsWith('anomaly:')) console.error(`${tag} ${verified.id} acknowledged as ${outcome}`);
    return answer(version, 204);
  } catch (err) {
    console.error(`${tag} ${verified.id} not applied, WeChat will retry: ${describeForLog(err)}`);
    const storage = isStorageError(err) || isConfigError(err);
    return answer(version, storage ? 503 : 500, 'the notification could not be stored; retry');
  }
}
