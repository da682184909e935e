// Fulfilment end to end on the local stack (issue 14): `ship` through the function host, its upload
// reaching the simulator as 云调用 through the emulator (and over HTTPS with a stable_token), the
// one allowed change, confirm and settle pushed by the simulator to wxMessage, and bad input to both
// functions answered with clear errors while nothing changes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ApiResult, CreatePaymentResponse, RefundResponse } from '../shared/contracts/api';
import { CART, startE2E, type E2E, type TestUser } from './support/e2e';
import { pick, rng } from './support/fuzz';

let e: E2E;
let admin: TestUser;
let user: TestUser;

before(async () => {
  e = await startE2E({ host: { maxInstancesPerFunction: 8 } });
  admin = await e.newUser();
  user = await e.newUser();
  e.setEnv({ ADMIN_OPENIDS: admin.openid });
});
// A buyer per test: one buyer for the whole file would meet the limit of 10 payments a minute.
beforeEach(async () => {
  user = await e.newUser();
});
after(async () => {
  await e?.close();
});

interface Fulfilment {
  type: string;
  status: string;
  uploads: number;
  shipments?: Array<{ trackingNo: string; expressCompany: string; itemDesc: string }>;
}
interface ShipResult {
  orderId: string;
  fulfilment: Fulfilment;
}
interface SimShipping {
  orderState: number;
  uploads: Array<{
    logisticsType: number;
    deliveryMode: number;
    shippingList: Array<Record<string, string>>;
  }>;
}
interface Stats {
  stableTokens: number;
  openapi: Record<string, { cloud: number; https: number }>;
}

const ship = (who: TestUser, data: unknown) => e.call<ShipResult>('ship', data, { openid: who.openid });
const simShipping = (no: string) => e.sim<SimShipping>('GET', `/sim/shipping?outTradeNo=${no}`);
const stats = () => e.sim<Stats>('GET', '/sim/stats');
/** What ship or wxMessage could change (notifications of payments still arriving are not theirs). */
const fulfilmentState = async () =>
  JSON.stringify({
    orders: await e.dump('orders'),
    tokens: await e.dump('wechatTokens'),
    messages: (await e.dump('notifications')).filter((n) => String(n._id).startsWith('wxmsg_')),
  });
const orderDoc = async (no: string) =>
  (await e.dump('orders')).find((d) => d._id === no) as { fulfilment?: Fulfilment; status: string };

async function paidOrder(buyer: TestUser = user): Promise<CreatePaymentResponse> {
  const created = await e.createPayment(buyer, CART);
  assert.equal(await e.pay(buyer, created.payment), 'requestPayment:ok');
  await e.waitFor(
    () => e.getOrder(buyer, created.orderId),
    (o) => o.status === 'SUCCESS',
    'paid',
  );
  return created;
}

function errorOf<T>(r: ApiResult<T>): { code: string; message: string } {
  assert.equal(r.ok, false, JSON.stringify(r));
  return (r as { ok: false; error: { code: string; message: string } }).error;
}

/** A message push as WeChat signs it, straight to the host's /wx/message. */
function pushUrl(query: Record<string, string> = {}, token = e.stack.env.WX_MESSAGE_TOKEN): string {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = randomBytes(6).toString('hex');
  const signature = createHash('sha1').update([token, timestamp, nonce].sort().join('')).digest('hex');
  return `/wx/message?${new URLSearchParams({ signature, timestamp, nonce, ...query }).toString()}`;
}

const STICKERS = [{ productId: 'sticker-pack', quantity: 1 }];
const uploadCalls = async () => (await stats()).openapi.upload_shipping_info?.cloud ?? 0;

interface Delivery {
  state: string;
  attempts: Array<{ kind: string; status: number; durationMs: number; error?: string }>;
}

/** A sticker pack (virtual goods) paid at the simulator; its notification is on its way. */
async function payStickers(): Promise<string> {
  const created = await e.createPayment(user, STICKERS);
  assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
  return created.orderId;
}

function assertVirtualUpload(view: SimShipping) {
  assert.equal(view.uploads.length, 1, JSON.stringify(view));
  assert.deepEqual(
    { ...view.uploads[0], uploadTime: undefined },
    {
      logisticsType: 3,
      deliveryMode: 1,
      shippingList: [{ itemDesc: '贴纸包 Sticker pack' }],
      uploadTime: undefined,
    },
  );
  assert.equal(view.orderState, 2);
}

describe('virtual goods ship themselves', () => {
  it('uploaded exactly once after payment: dropped notification (orders.get), duplicate storm, failed first upload retried by reconcile', async () => {
    const calls = await uploadCalls();

    // 1. Every delivery of the notification is dropped: orders.get confirms the payment and ships it.
    await e.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1000 });
    let dropped: string;
    try {
      dropped = await payStickers();
      const got = await e.getOrder(user, dropped);
      assert.equal(got.status, 'SUCCESS');
      assert.equal(got.fulfilment.type, 'virtual');
      assert.equal(got.fulfilment.status, 'SHIPPED', 'uploaded in the invocation that confirmed the payment');
      assert.ok(got.fulfilment.shippedAt);
      assertVirtualUpload(await simShipping(dropped));
      assert.equal((await e.getOrder(user, dropped)).fulfilment.status, 'SHIPPED');
    } finally {
      // its dropped delivery would otherwise keep retrying and could take the storm's fault below
      await e.clearFaults();
    }
    assertVirtualUpload(await simShipping(dropped));

    // 2. The notification arrives 21 times, many at once.
    await e.armNotifyFault({ kind: 'duplicate', count: 20 });
    const stormed = await payStickers();
    await e.waitFor(
      // state and attempts only (not the body), so that a timeout says what WeChat saw
      async () =>
        (await e.sim<Delivery[]>('GET', `/sim/deliveries?outTradeNo=${stormed}`)).map((d) => ({
          state: d.state,
          attempts: d.attempts.map(
            (a) => `${a.kind}:${a.status}${a.error ? `:${a.error}` : ''}:${a.durationMs}ms`,
          ),
        })),
      (ds) =>
        ds.length === 1 &&
        ds[0].state === 'delivered' &&
        ds[0].attempts.filter((a) => a.startsWith('duplicate:')).length === 20,
      'storm delivered',
      30_000,
    );
    assert.equal((await orderDoc(stormed)).fulfilment?.status, 'SHIPPED');
    assertVirtualUpload(await simShipping(stormed));

    // 3. WeChat's shipping API fails the first upload: paid all the same; reconcile uploads it.
    await e.sim('POST', '/sim/faults', { target: 'shipping', kind: '5xx', count: 1 });
    const failed = await payStickers();
    const paid = await e.waitFor(
      () => orderDoc(failed),
      (d) => d.status === 'SUCCESS',
      'paid by its notification',
    );
    assert.equal(paid.fulfilment?.status, 'PENDING');
    assert.equal(paid.fulfilment?.uploads, 0);
    assert.deepEqual(await simShipping(failed), { orderState: 1, uploads: [] });
    const report = await e.reconcile(0);
    assert.equal(report.shippingUploaded, 1, JSON.stringify(report));
    assertVirtualUpload(await simShipping(failed));
    assert.equal((await orderDoc(failed)).fulfilment?.status, 'SHIPPED');
    const again = await e.reconcile(0);
    assert.equal(again.shippingUploaded, 0, 'idempotent');
    assert.equal(again.shippingChecked, 0, 'nothing left to upload');

    assert.equal(
      (await uploadCalls()) - calls,
      4,
      'one upload each, plus the one WeChat failed; the storm and the repeated reads uploaded nothing',
    );
    for (const no of [dropped, stormed, failed]) assertVirtualUpload(await simShipping(no));

    // Confirm and settle reach the virtual order through wxMessage, and orders.get shows them.
    await e.sim('POST', `/sim/shipping/${dropped}/confirm`);
    await e.waitFor(
      () => e.getOrder(user, dropped),
      (o) => o.fulfilment.status === 'CONFIRMED' && o.fulfilment.confirmedAt !== undefined,
      'confirmed through wxMessage',
    );
    await e.sim('POST', `/sim/shipping/${dropped}/settle`);
    const settled = await e.waitFor(
      () => e.getOrder(user, dropped),
      (o) => o.fulfilment.status === 'SETTLED',
      'settled through wxMessage',
    );
    assert.ok(settled.fulfilment.settledAt && settled.fulfilment.shippedAt);
    assert.equal((await simShipping(dropped)).orderState, 4);
  });

  it('a refunded order is never shipped', async () => {
    await e.sim('POST', '/sim/faults', { target: 'shipping', kind: '5xx', count: 1 });
    const no = await payStickers();
    await e.waitFor(
      () => orderDoc(no),
      (d) => d.status === 'SUCCESS',
      'paid by its notification',
    );
    const r = await e.call<RefundResponse>('refund', { orderId: no }, { openid: user.openid });
    assert.ok(r.ok, JSON.stringify(r));
    await e.waitFor(
      () => e.getOrder(user, no),
      (o) => o.status === 'REFUNDED',
      'refunded',
    );
    const calls = await uploadCalls();
    const report = await e.reconcile(0);
    assert.equal(report.shippingUploaded, 0, JSON.stringify(report));
    assert.equal(await uploadCalls(), calls, 'nothing went to WeChat');
    assert.deepEqual(await simShipping(no), { orderState: 5, uploads: [] });
    const view = await e.getOrder(user, no);
    assert.deepEqual(view.fulfilment, { type: 'virtual', status: 'PENDING' });
  });
});

describe('fulfilment', () => {
  it('云调用: an express order ships, changes once, refuses a third; confirm and settle reach it through wxMessage', async () => {
    const order = await paidOrder();
    const before = await stats();
    assert.equal(
      errorOf(await ship(user, { orderId: order.orderId, shipments: [] })).code,
      'PERMISSION_DENIED',
    );
    assert.deepEqual(await simShipping(order.orderId), { orderState: 1, uploads: [] });

    const first = await ship(admin, {
      orderId: order.orderId,
      shipments: [{ trackingNo: 'ZT0001', expressCompany: 'ZTO' }],
    });
    assert.ok(first.ok, JSON.stringify(first));
    assert.equal(first.data.fulfilment.status, 'SHIPPED');
    assert.equal(first.data.fulfilment.uploads, 1);
    let view = await simShipping(order.orderId);
    assert.equal(view.orderState, 2);
    assert.deepEqual(view.uploads[0].shippingList, [
      { trackingNo: 'ZT0001', expressCompany: 'ZTO', itemDesc: '拿铁咖啡 Latte、芝士蛋糕 Cheesecake' },
    ]);

    const change = await ship(admin, {
      orderId: order.orderId,
      shipments: [
        { trackingNo: 'SF100', expressCompany: 'SF', consignorContact: '13800001234', itemDesc: '拿铁' },
        { trackingNo: 'SF101', expressCompany: 'SF', consignorContact: '13800001234', itemDesc: '蛋糕' },
      ],
    });
    assert.ok(change.ok, JSON.stringify(change));
    assert.equal(change.data.fulfilment.uploads, 2);
    view = await simShipping(order.orderId);
    assert.equal(view.uploads.length, 2);
    assert.equal(view.uploads[1].deliveryMode, 2, 'two packages: split delivery');

    const third = errorOf(
      await ship(admin, {
        orderId: order.orderId,
        shipments: [{ trackingNo: 'YT9', expressCompany: 'YTO' }],
      }),
    );
    assert.equal(third.code, 'CONFLICT');
    assert.match(third.message, /one change/);
    assert.equal((await simShipping(order.orderId)).uploads.length, 2);
    const after = await stats();
    assert.equal(after.stableTokens, before.stableTokens, '云调用 needs no access_token');
    assert.equal(
      after.openapi.upload_shipping_info.cloud - (before.openapi.upload_shipping_info?.cloud ?? 0),
      2,
      'the refused third never reached WeChat',
    );

    await e.sim('POST', `/sim/shipping/${order.orderId}/confirm`);
    await e.waitFor(
      () => orderDoc(order.orderId),
      (d) => d.fulfilment?.status === 'CONFIRMED',
      'confirmed through wxMessage',
    );
    await e.sim('POST', `/sim/shipping/${order.orderId}/settle`);
    await e.waitFor(
      () => orderDoc(order.orderId),
      (d) => d.fulfilment?.status === 'SETTLED',
      'settled through wxMessage',
    );
    const records = (await e.dump('notifications')).filter(
      (n) => n.outTradeNo === order.orderId && n.eventType !== 'TRANSACTION.SUCCESS',
    );
    assert.deepEqual(
      records.map((n) => [n.eventType, n.outcome]),
      [
        ['trade_manage_order_settlement', 'applied'],
        ['trade_manage_order_settlement', 'applied'],
      ],
    );
    // WeChat pushes the settlement again: acknowledged, nothing changes.
    const pushes = await e.sim<{ deliveries: Array<{ message: unknown }> }>(
      'GET',
      `/sim/message-push?outTradeNo=${order.orderId}`,
    );
    const snapshot = JSON.stringify(await orderDoc(order.orderId));
    const again = await e.http('POST', pushUrl(), JSON.stringify(pushes.deliveries[1].message), {
      'content-type': 'application/json',
    });
    assert.equal(again.status, 200);
    assert.equal(again.body, 'success');
    assert.equal(JSON.stringify(await orderDoc(order.orderId)), snapshot);
  });

  it('unpaid and refunded orders are never shipped; bad input to ship changes nothing', async () => {
    const unpaid = await e.createPayment(user, CART);
    assert.equal(
      errorOf(
        await ship(admin, {
          orderId: unpaid.orderId,
          shipments: [{ trackingNo: 'A1', expressCompany: 'ZTO' }],
        }),
      ).code,
      'CONFLICT',
    );
    const refunded = await paidOrder();
    const r = await e.call<RefundResponse>('refund', { orderId: refunded.orderId }, { openid: admin.openid });
    assert.ok(r.ok, JSON.stringify(r));
    await e.waitFor(
      () => e.getOrder(user, refunded.orderId),
      (o) => o.status === 'REFUNDED',
      'refunded',
    );
    const refusal = errorOf(
      await ship(admin, {
        orderId: refunded.orderId,
        shipments: [{ trackingNo: 'A1', expressCompany: 'ZTO' }],
      }),
    );
    assert.equal(refusal.code, 'CONFLICT');
    assert.match(refusal.message, /refunded/);
    assert.deepEqual((await simShipping(refunded.orderId)).uploads, []);

    const target = await paidOrder();
    const ok = { trackingNo: 'ZT1', expressCompany: 'ZTO' };
    const bad: Array<[unknown, string]> = [
      [{}, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId }, 'INVALID_ARGUMENT'],
      [{ orderId: { $ne: null }, shipments: [ok] }, 'INVALID_ARGUMENT'],
      [{ orderId: 'short', shipments: [ok] }, 'INVALID_ARGUMENT'],
      [{ orderId: 'NO_SUCH_ORDER_1', shipments: [ok] }, 'NOT_FOUND'],
      [{ orderId: target.orderId, shipments: 'ZT1' }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: Array.from({ length: 16 }, () => ok) }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, trackingNo: 'a b' }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, trackingNo: 'x'.repeat(129) }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, trackingNo: { $gt: '' } }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, expressCompany: 'UPS' }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, itemDesc: '字'.repeat(121) }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, expressCompany: 'SF' }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, consignorContact: 'tel' }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [{ ...ok, admin: true }] }, 'INVALID_ARGUMENT'],
      [{ orderId: target.orderId, shipments: [null] }, 'INVALID_ARGUMENT'],
    ];
    const db = await fulfilmentState();
    for (const [data, code] of bad) {
      const err = errorOf(await ship(admin, data));
      assert.equal(err.code, code, `${JSON.stringify(data).slice(0, 120)} → ${err.message}`);
      assert.ok(!/\n\s+at /.test(err.message), 'no stack trace');
    }
    assert.equal(
      errorOf(await ship(user, { orderId: target.orderId, shipments: [{ $where: 1 }] })).code,
      'PERMISSION_DENIED',
    );
    assert.ok((await fulfilmentState()) === db, 'nothing changed');
    assert.deepEqual((await simShipping(target.orderId)).uploads, []);
  });

  it('wxMessage: bad signature, bad body and bad fields get clear errors and change nothing', async () => {
    const order = await paidOrder();
    const body = (extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        ToUserName: 'gh_x',
        FromUserName: user.openid,
        CreateTime: Math.floor(Date.now() / 1000),
        MsgType: 'event',
        Event: 'trade_manage_order_settlement',
        merchant_trade_no: order.orderId,
        confirm_receive_time: Math.floor(Date.now() / 1000),
        ...extra,
      });
    const json = { 'content-type': 'application/json' };
    const db = await fulfilmentState();
    const forged = await e.http('POST', pushUrl({}, 'wrongToken'), body(), json);
    assert.equal(forged.status, 401);
    assert.match(forged.body, /WX_MESSAGE_TOKEN/);
    assert.equal((await e.http('POST', '/wx/message', body(), json)).status, 401);
    const notJson = await e.http('POST', pushUrl(), '<xml><Event>x</Event></xml>', json);
    assert.equal(notJson.status, 400);
    assert.match(notJson.body, /JSON/);
    for (const extra of [
      { merchant_trade_no: { $ne: null } },
      { merchant_trade_no: '../x' },
      { confirm_receive_time: 'yesterday' },
      { settlement_time: -5 },
      { transaction_id: ['1'] },
    ]) {
      const res = await e.http('POST', pushUrl(), body(extra), json);
      assert.equal(res.status, 400, `${JSON.stringify(extra)} → ${res.body}`);
    }
    assert.ok((await fulfilmentState()) === db, 'nothing changed');
    const echo = await fetch(`${e.hostUrl}${pushUrl({ echostr: 'abc123' })}`);
    assert.equal(await echo.text(), 'abc123', 'the message-push URL check');
    const reminder = await e.http(
      'POST',
      pushUrl(),
      body({ Event: 'trade_manage_remind_shipping', msg: '请尽快发货' }),
      json,
    );
    assert.equal(reminder.body, 'success');
  });

  it('fuzz: generated bad input to ship and wxMessage is refused and changes nothing', async () => {
    const target = await paidOrder();
    const r = rng(14);
    const junk: unknown[] = [
      null,
      true,
      [],
      {},
      { $ne: null },
      { $gt: '' },
      '',
      ' ',
      'x'.repeat(300),
      -1,
      1.5,
      '\u0000',
    ];
    const good = { trackingNo: 'ZT1', expressCompany: 'ZTO' };
    const db = await fulfilmentState();
    for (let i = 0; i < 40; i++) {
      const shipment: Record<string, unknown> = { ...good };
      shipment[pick(r, ['trackingNo', 'expressCompany', 'itemDesc', 'consignorContact'])] = pick(r, junk);
      const data =
        r() < 0.3
          ? { orderId: pick(r, junk), shipments: [good] }
          : { orderId: target.orderId, shipments: r() < 0.2 ? pick(r, junk) : [shipment] };
      const res = await ship(admin, data);
      const err = errorOf(res);
      assert.ok(
        ['INVALID_ARGUMENT', 'NOT_FOUND'].includes(err.code),
        `${JSON.stringify(data)} → ${err.code}`,
      );
      assert.ok(!/\n\s+at /.test(err.message));
    }
    const json = { 'content-type': 'application/json' };
    for (let i = 0; i < 20; i++) {
      const message: Record<string, unknown> = {
        MsgType: 'event',
        Event: 'trade_manage_order_settlement',
        merchant_trade_no: target.orderId,
        confirm_receive_time: 1,
      };
      message[pick(r, ['merchant_trade_no', 'confirm_receive_time', 'settlement_time', 'transaction_id'])] =
        pick(
          r,
          junk.filter((j) => j !== null && j !== '' && j !== undefined),
        );
      const res = await e.http('POST', pushUrl(), JSON.stringify(message), json);
      assert.equal(res.status, 400, `${JSON.stringify(message)} → ${res.status} ${res.body}`);
    }
    assert.ok((await fulfilmentState()) === db, 'nothing changed');
  });

  it('https mode: a storm of cold instances fetches one stable_token, shared through wechatTokens', async () => {
    const orders = [];
    for (let i = 0; i < 6; i++) orders.push(await paidOrder());
    const before = await stats();
    e.setEnv({ WECHAT_OPENAPI_MODE: 'https' }); // recycles every instance: all cold
    try {
      const results = await Promise.all(
        orders.map((o, i) =>
          ship(admin, { orderId: o.orderId, shipments: [{ trackingNo: `JD${i}00`, expressCompany: 'JD' }] }),
        ),
      );
      for (const r of results) assert.ok(r.ok, JSON.stringify(r));
      const after = await stats();
      assert.equal(after.stableTokens - before.stableTokens, 1);
      assert.equal(
        after.openapi.upload_shipping_info.https - (before.openapi.upload_shipping_info?.https ?? 0),
        orders.length,
      );
      const tokens = await e.dump('wechatTokens');
      assert.equal(tokens.length, 1);
      assert.equal(tokens[0]._id, e.stack.env.WX_APPID);
    } finally {
      e.setEnv({ WECHAT_OPENAPI_MODE: undefined });
    }
  });
});
