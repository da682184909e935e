// Payment notifications for benchmarks: NOTPAY orders written as createPayment writes them, and for
// each one a validly signed and encrypted TRANSACTION.SUCCESS as WeChat Pay would send it.
import { createPrivateKey, createSecretKey, randomBytes } from 'node:crypto';
import type { LocalData } from '../../local/setup/local-data';
import type { LocalDatabase } from '../../local/cloudbase/sdk-env';
import { newOrder } from '../../shared/domain/order';
import { buildTestNotification, rfc3339China } from '../../shared/wxpay/v3/testing';

export interface Note {
  body: string;
  headers: Record<string, string>;
}

export async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

/** `n` NOTPAY orders tagged `batch` and one signed, encrypted payment notification for each. */
export async function prepareBatch(
  db: LocalDatabase,
  local: LocalData,
  batch: string,
  n: number,
): Promise<Note[]> {
  const env = local.env;
  const privateKey = createPrivateKey(local.keys.publicKeyPrivate);
  const apiV3Key = createSecretKey(Buffer.from(env.WXPAY_APIV3_KEY, 'utf8'));
  const now = new Date();
  // Built by the domain's own constructor, exactly as createPayment writes them (version 0, NOTPAY).
  const orders = Array.from({ length: n }, (_, i) => {
    const priceFen = 100 + (i % 50);
    const doc = newOrder({
      outTradeNo: `${batch}${String(i).padStart(6, '0')}`,
      openid: `oBench${batch}${i % 97}`,
      appid: env.WX_APPID,
      items: [{ productId: 'bench', name: 'bench', priceFen, quantity: 1 }],
      amountFen: priceFen,
      description: 'bench',
      apiVersion: 'v3',
      now,
    });
    return { ...doc, benchBatch: batch };
  });
  // one insert per 500 orders: seeding is not what is measured
  const chunks = Array.from({ length: Math.ceil(n / 500) }, (_, i) => orders.slice(i * 500, i * 500 + 500));
  await pool(chunks, 2, (chunk) => db.collection('orders').add(chunk as never));
  return orders.map((o) => {
    const n = buildTestNotification({
      privateKey,
      serial: env.WXPAY_PUBLIC_KEY_ID,
      apiV3Key,
      eventType: 'TRANSACTION.SUCCESS',
      resource: {
        appid: env.WX_APPID,
        mchid: env.WXPAY_MCHID,
        out_trade_no: o._id,
        transaction_id: `42000${randomBytes(11).toString('hex')}`.slice(0, 28),
        trade_type: 'JSAPI',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        bank_type: 'OTHERS',
        success_time: rfc3339China(Date.now()),
        payer: { openid: o.openid },
        amount: { total: o.amountFen, payer_total: o.amountFen, currency: 'CNY', payer_currency: 'CNY' },
      },
    });
    return { body: n.body, headers: { 'content-type': 'application/json', ...n.headers } };
  });
}
