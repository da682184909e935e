// wxMessage: WeChat's message push for 发货信息管理 (JSON, plaintext mode). The signature is checked
// before the body is read; confirm receipt and settlement (`trade_manage_order_settlement`) are
// applied to the order through conditional updates and recorded in `notifications` (applied or
// duplicate); reminders are logged and recorded. WeChat retries until it gets 200 "success", so a
// storage failure answers 500 and a replay is harmless.
import { createHash } from 'node:crypto';
import type { NotificationRepository } from '../db/notifications';
import { isStorageError } from '../db/errors';
import { MERCHANT_NO_PATTERN } from '../domain/ids';
import { textResponse, type TriggerRequest, type TriggerResponse } from '../http/trigger';
import type { Secret } from '../config/secret';
import { verifyMessageSignature } from '../wechat/message-push';
import { applySettlementEvent, type FulfilmentStore } from './fulfilment';

export const SETTLEMENT_EVENT = 'trade_manage_order_settlement';
export const REMINDER_EVENTS = ['trade_manage_remind_shipping', 'trade_manage_remind_access_api'] as const;

const ok = () => textResponse(200, 'success', 'text/plain; charset=utf-8');
const refuse = (status: number, message: string) =>
  textResponse(
    status,
    JSON.stringify({ code: status === 401 ? 'UNAUTHENTICATED' : 'INVALID_ARGUMENT', message }),
    'application/json; charset=utf-8',
  );

function seconds(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null || value === 0) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 4_102_444_800)
    throw new BadMessage(`${field} must be a Unix time in seconds`);
  return new Date(value * 1000);
}

class BadMessage extends Error {}

function text(value: unknown, field: string, pattern: RegExp): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new BadMessage(`${field} is missing or malformed`);
  return value;
}

export interface WxMessageDeps extends FulfilmentStore {
  notifications: NotificationRepository;
}

export async function handleWxMessage(
  deps: WxMessageDeps,
  req: TriggerRequest,
  token: Secret,
  now: Date,
): Promise<TriggerResponse> {
  if (!verifyMessageSignature(token, req.query))
    return refuse(401, 'bad or missing signature: the 消息推送 Token must equal WX_MESSAGE_TOKEN');
  // The URL check when message push is configured: echo `echostr`.
  if (req.method === 'GET') {
    const echo = req.query.echostr;
    if (!echo || !/^[A-Za-z0-9_-]{1,128}$/.test(echo)) return refuse(400, 'echostr is missing');
    return textResponse(200, echo, 'text/plain; charset=utf-8');
  }
  if (req.method !== 'POST') return refuse(400, `method ${req.method} is not used by message push`);
  if (req.query.encrypt_type === 'aes')
    return refuse(
      400,
      'safe-mode (encrypted) messages are not supported yet; set 消息加密方式 to 明文模式 with 数据格式 JSON',
    );
  let message: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(req.rawBody.toString('utf8'));
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    message = parsed as Record<string, unknown>;
  } catch {
    return refuse(400, 'the body must be a JSON object: set 消息推送 数据格式 to JSON');
  }
  const event = message.Event;
  if (typeof event !== 'string') return ok(); // not an event message; nothing of ours
  const id = `wxmsg_${createHash('sha256').update(req.rawBody).digest('hex').slice(0, 40)}`;
  try {
    if (event === SETTLEMENT_EVENT) {
      const outTradeNo = text(message.merchant_trade_no, 'merchant_trade_no', MERCHANT_NO_PATTERN);
      const transactionId =
        message.transaction_id === undefined
          ? undefined
          : text(message.transaction_id, 'transaction_id', /^[0-9A-Za-z]{1,64}$/);
      const confirmedAt = seconds(message.confirm_receive_time, 'confirm_receive_time');
      const settledAt = seconds(message.settlement_time, 'settlement_time');
      const outcome = await applySettlementEvent(
        deps,
        {
          outTradeNo,
          ...(transactionId ? { transactionId } : {}),
          ...(confirmedAt ? { confirmedAt } : {}),
          ...(settledAt ? { settledAt } : {}),
        },
        now,
      );
      await deps.notifications.record({
        _id: id,
        eventType: event,
        outTradeNo,
        outcome: outcome,
        receivedAt: now,
      });
      if (outcome.startsWith('anomaly'))
        deps.log.warn(`${event} for ${outTradeNo}: ${outcome}; acknowledged, order unchanged`);
      return ok();
    }
    if ((REMINDER_EVENTS as readonly string[]).includes(event)) {
      const outTradeNo =
        typeof message.merchant_trade_no === 'string' && MERCHANT_NO_PATTERN.test(message.merchant_trade_no)
          ? message.merchant_trade_no
          : undefined;
      const msg = typeof message.msg === 'string' ? message.msg.slice(0, 200) : '';
      deps.log.warn(`WeChat reminds: ${event}${outTradeNo ? ` for order ${outTradeNo}` : ''}: ${msg}`);
      await deps.notifications.record({
        _id: id,
        eventType: event,
        ...(outTradeNo ? { outTradeNo } : {}),
        outcome: 'applied',
        receivedAt: now,
      });
      return ok();
    }
    return ok(); // other events (e.g. subscription messages) are not for this function
  } catch (err) {
    if (err instanceof BadMessage) return refuse(400, err.message);
    if (isStorageError(err)) {
      deps.log.error(`${event}: ${err.message}; answering 500 so WeChat retries`);
      return textResponse(
        500,
        JSON.stringify({ code: 'INTERNAL', message: 'storage failed; retry' }),
        'application/json; charset=utf-8',
      );
    }
    throw err;
  }
}
