// uploadVirtualShipping and the settlement event against the real emulator and simulator: one upload
// under concurrency, a failed upload retried, a lost answer recorded without a second upload.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../local/cloudbase/server';
import { startHarness, type SimHarness } from '../../local/wechat/testing';
import { Secret } from '../config/secret';
import { COLLECTIONS } from '../db/collections';
import { repositoriesOf } from '../db/repositories';
import { consoleLogger } from '../log';
import { newFulfilment, type FulfilledOrder } from '../domain/fulfilment';
import { newOrder } from '../domain/order';
import { createOpenApiClient, TOKENS_COLLECTION } from '../wechat/openapi';
import { databaseTokenStore } from '../wechat/openapi/token-store';
import {
  applySettlementEvent,
  findPendingVirtualUploads,
  retryVirtualUploads,
  uploadVirtualShipping,
  type FulfilmentDeps,
} from './fulfilment';

let emu: CloudbaseEmulator;
let h: SimHarness;
let deps: FulfilmentDeps;

before(async () => {
  h = await startHarness();
  emu = await startCloudbaseEmulator({ collections: [...Object.values(COLLECTIONS), TOKENS_COLLECTION] });
  const db = openLocalDatabase(emu.url);
  deps = {
    db,
    orders: repositoriesOf(db).orders,
    log: consoleLogger('fulfilment-test'),
    mchid: h.env.WXPAY_MCHID,
    callOpenApi: createOpenApiClient({
      store: databaseTokenStore(() => db),
      config: {
        mode: 'https',
        baseUrl: h.url,
        appid: h.env.WX_APPID,
        appSecret: new Secret(h.env.WX_APPSECRET),
      },
    }),
  };
});
after(async () => {
  await emu.close();
  await h.close();
});

/** A virtual order paid at the simulator and recorded SUCCESS in our database. */
async function paidVirtualOrder(): Promise<FulfilledOrder> {
  const openid = await h.user();
  const outTradeNo = `V${Date.now()}${Math.floor(Math.random() * 1e4)}`;
  await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '贴纸包',
    out_trade_no: outTradeNo,
    notify_url: 'http://127.0.0.1:9/pay/notify',
    amount: { total: 1, currency: 'CNY' },
    payer: { openid },
  });
  await h.sim('POST', '/sim/pay-order', { outTradeNo });
  const q = await h.v3('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${h.env.WXPAY_MCHID}`);
  const now = new Date();
  const order: FulfilledOrder = {
    ...newOrder({
      outTradeNo,
      openid,
      items: [{ productId: 'sticker-pack', name: '贴纸包 Sticker pack', priceFen: 1, quantity: 1 }],
      amountFen: 1,
      description: '贴纸包',
      apiVersion: 'v3',
      now,
    }),
    status: 'SUCCESS',
    transactionId: q.json.transaction_id as string,
    paidAt: now,
    fulfilment: newFulfilment('virtual'),
  };
  await deps.orders.insert(order);
  return order;
}

const simShipping = async (no: string) =>
  (await h.sim('GET', `/sim/shipping?outTradeNo=${no}`)).json as { orderState: number; uploads: unknown[] };
const stored = async (no: string) => (await deps.orders.get(no)) as FulfilledOrder;

describe('virtual goods ship themselves', () => {
  it('ten concurrent invocations upload once', async () => {
    const order = await paidVirtualOrder();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => uploadVirtualShipping(deps, order, new Date())),
    );
    assert.equal(outcomes.filter((o) => o === 'uploaded').length, 1, outcomes.join());
    assert.ok(outcomes.every((o) => o === 'uploaded' || o === 'already'));
    const view = await simShipping(order._id);
    assert.equal(view.uploads.length, 1);
    assert.deepEqual(view.uploads[0], {
      logisticsType: 3,
      deliveryMode: 1,
      shippingList: [{ itemDesc: '贴纸包 Sticker pack' }],
      uploadTime: (view.uploads[0] as { uploadTime: string }).uploadTime,
    });
    assert.match(
      (view.uploads[0] as { uploadTime: string }).uploadTime,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00$/,
    );
    const f = (await stored(order._id)).fulfilment!;
    assert.equal(f.status, 'SHIPPED');
    assert.equal(f.uploads, 1);
    assert.equal(await uploadVirtualShipping(deps, order._id, new Date()), 'already');
  });

  it('a failed upload is left for reconcile, which uploads it later; a lost answer is not uploaded twice', async () => {
    const order = await paidVirtualOrder();
    await h.sim('POST', '/sim/faults', { target: 'shipping', kind: '5xx' });
    assert.equal(await uploadVirtualShipping(deps, order, new Date()), 'failed');
    assert.equal((await simShipping(order._id)).uploads.length, 0);
    assert.ok(
      (await findPendingVirtualUploads(deps, 50)).some((o) => o._id === order._id),
      'reconcile finds it',
    );
    const later = new Date(Date.now() + 31_000); // the first attempt's claim has run out
    assert.equal(await uploadVirtualShipping(deps, order._id, later), 'uploaded');
    assert.equal((await simShipping(order._id)).uploads.length, 1);
    assert.ok(!(await findPendingVirtualUploads(deps, 50)).some((o) => o._id === order._id));

    // WeChat takes the upload but the answer never arrives (the client times out).
    const lost = await paidVirtualOrder();
    await h.sim('POST', '/sim/faults', { target: 'shipping', kind: 'lostResponse' });
    const quick: FulfilmentDeps = {
      ...deps,
      callOpenApi: createOpenApiClient({
        store: databaseTokenStore(() => deps.db),
        config: {
          mode: 'https',
          baseUrl: h.url,
          appid: h.env.WX_APPID,
          appSecret: new Secret(h.env.WX_APPSECRET),
        },
        timeoutMs: 300,
      }),
    };
    const aborted = uploadVirtualShipping(quick, lost, new Date());
    assert.equal(await aborted, 'failed');
    assert.equal((await simShipping(lost._id)).uploads.length, 1, 'WeChat has it');
    assert.equal(await uploadVirtualShipping(deps, lost._id, new Date(Date.now() + 31_000)), 'uploaded');
    assert.equal((await simShipping(lost._id)).uploads.length, 1, 'asked WeChat first, did not upload again');
  });

  it('reconcile retries every pending virtual upload once WeChat answers again', async () => {
    const a = await paidVirtualOrder();
    const b = await paidVirtualOrder();
    await h.sim('POST', '/sim/faults', { target: 'shipping', kind: '5xx', count: 2 });
    assert.equal(await uploadVirtualShipping(deps, a, new Date()), 'failed');
    assert.equal(await uploadVirtualShipping(deps, b, new Date()), 'failed');
    const later = new Date(Date.now() + 31_000);
    const run = await retryVirtualUploads(deps, later, 50);
    assert.ok(run.uploaded >= 2, JSON.stringify(run));
    assert.equal(run.failed, 0);
    for (const o of [a, b]) assert.equal((await simShipping(o._id)).uploads.length, 1);
    assert.deepEqual(await retryVirtualUploads(deps, later, 50), { checked: 0, uploaded: 0, failed: 0 });
  });

  it('a refunded or physical order is not uploaded', async () => {
    const order = await paidVirtualOrder();
    const db = openLocalDatabase(emu.url);
    await db.collection('orders').doc(order._id).update({ status: 'REFUNDED', refundedFen: 1 });
    assert.equal(await uploadVirtualShipping(deps, order._id, new Date()), 'not-shippable');
    const physical = await paidVirtualOrder();
    await db.collection('orders').doc(physical._id).update({ 'fulfilment.type': 'express' });
    assert.equal(await uploadVirtualShipping(deps, physical._id, new Date()), 'not-virtual');
    assert.equal(
      (await simShipping(order._id)).uploads.length + (await simShipping(physical._id)).uploads.length,
      0,
    );
  });
});

describe('settlement events', () => {
  it('confirm then settle apply once; repeats are duplicates; unknown orders are anomalies', async () => {
    const order = await paidVirtualOrder();
    await uploadVirtualShipping(deps, order, new Date());
    const confirmedAt = new Date('2026-12-01T08:00:00Z');
    assert.equal(
      await applySettlementEvent(deps, { outTradeNo: order._id, confirmedAt }, new Date()),
      'applied',
    );
    assert.equal(
      await applySettlementEvent(deps, { outTradeNo: order._id, confirmedAt }, new Date()),
      'duplicate',
    );
    const settledAt = new Date('2026-12-02T08:00:00Z');
    assert.equal(
      await applySettlementEvent(deps, { outTradeNo: order._id, confirmedAt, settledAt }, new Date()),
      'applied',
    );
    const f = (await stored(order._id)).fulfilment!;
    assert.equal(f.status, 'SETTLED');
    assert.deepEqual(new Date(f.settledAt!), settledAt);
    assert.equal(
      await applySettlementEvent(deps, { outTradeNo: 'NO_SUCH_ORDER' }, new Date()),
      'anomaly:unknown-order',
    );
    assert.equal(
      await applySettlementEvent(deps, { outTradeNo: order._id, transactionId: '999' }, new Date()),
      'anomaly:transaction-mismatch',
    );
  });
});
