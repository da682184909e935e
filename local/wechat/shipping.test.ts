// 发货信息管理服务 and stable_token in the simulator: WeChat's validation and errcodes, the one allowed
// change, confirm/settle pushed to the message-push URL with a valid signature, faults and statistics.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, startReceiver, waitUntil, type Receiver, type SimHarness } from './testing';

let h: SimHarness;
let rx: Receiver;
const PUSH_TOKEN = 'pushToken123';

before(async () => {
  h = await startHarness();
  rx = await startReceiver('/wx/message');
  rx.respond = () => ({ status: 200, body: 'success' });
  const set = await h.sim('POST', '/sim/message-push', { url: rx.url, token: PUSH_TOKEN });
  assert.equal(set.status, 200, set.text);
});
after(async () => {
  await rx.close();
  await h.close();
});

const token = (force = false) => h.accessToken(force);

async function paidOrder(): Promise<{ outTradeNo: string; openid: string; transactionId: string }> {
  const openid = await h.user();
  const outTradeNo = `S${Date.now()}${Math.floor(Math.random() * 1000)}`;
  const created = await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '快递商品',
    out_trade_no: outTradeNo,
    notify_url: 'http://127.0.0.1:9/pay/notify',
    amount: { total: 300, currency: 'CNY' },
    payer: { openid },
  });
  assert.equal(created.status, 200, created.text);
  const paid = await h.sim('POST', '/sim/pay-order', { outTradeNo });
  assert.equal(paid.status, 200, paid.text);
  const q = await h.v3('GET', `/v3/pay/transactions/out-trade-no/${outTradeNo}?mchid=${h.env.WXPAY_MCHID}`);
  return { outTradeNo, openid, transactionId: q.json.transaction_id as string };
}

function express(o: { outTradeNo: string; openid: string }, trackingNo = 'ZT123456', extra = {}) {
  return {
    order_key: { order_number_type: 1, mchid: h.env.WXPAY_MCHID, out_trade_no: o.outTradeNo },
    logistics_type: 1,
    delivery_mode: 1,
    shipping_list: [{ tracking_no: trackingNo, express_company: 'ZTO', item_desc: '拿铁咖啡豆' }],
    upload_time: '2026-11-30T10:00:00.000+08:00',
    payer: { openid: o.openid },
    ...extra,
  };
}

const upload = async (body: unknown, access: string) =>
  (await h.sim('POST', `/wxa/sec/order/upload_shipping_info?access_token=${access}`, body)).json;

test('stable_token: credentials checked; the same token until force_refresh, which retires the old one', async () => {
  const bad = await h.sim('POST', '/cgi-bin/stable_token', {
    grant_type: 'client_credential',
    appid: h.env.WX_APPID,
    secret: 'wrong',
  });
  assert.equal(bad.json.errcode, 40125);
  const noApp = await h.sim('POST', '/cgi-bin/stable_token', {
    grant_type: 'client_credential',
    appid: 'wx0000000000000000',
    secret: 'x',
  });
  assert.equal(noApp.json.errcode, 40013);
  const a = await token();
  assert.equal(await token(), a, 'normal mode hands back the valid token');
  const b = await token(true);
  assert.notEqual(b, a);
  const o = await paidOrder();
  assert.equal((await upload(express(o), a)).errcode, 40001, 'the replaced token is refused');
  assert.equal((await upload(express(o), 'nope')).errcode, 40001);
  const missing = await h.sim('POST', '/wxa/sec/order/upload_shipping_info', express(o));
  assert.equal(missing.json.errcode, 41001);
  const expired = await h.sim('POST', '/sim/tokens/expire');
  assert.ok(expired.json.expired >= 1);
  assert.equal((await upload(express(o), b)).errcode, 42001);
});

test('upload_shipping_info: WeChat validation errcodes, nothing recorded on error', async () => {
  const t = await token(true);
  const o = await paidOrder();
  const cases: Array<[unknown, number]> = [
    [express({ ...o, outTradeNo: 'unknown-order' }), 10060001],
    [express(o, 'ZT1', { logistics_type: 9 }), 10060005],
    [express(o, 'ZT1', { delivery_mode: 3 }), 268485224],
    [express(o, 'ZT1', { logistics_type: 3, delivery_mode: 2, is_all_delivered: true }), 10060006],
    [express(o, 'ZT1', { delivery_mode: 2 }), 10060007],
    [express(o, 'ZT1', { upload_time: '2026-11-30 10:00:00' }), 268485216],
    [express(o, 'ZT1', { upload_time: '2026-11-30T10:00:00' }), 268485216],
    [express(o, 'x'.repeat(129)), 10060026],
    [
      express(o, 'ZT1', { shipping_list: [{ tracking_no: 'A1', express_company: 'ZTO', item_desc: '' }] }),
      10060008,
    ],
    [
      express(o, 'ZT1', {
        shipping_list: [{ tracking_no: 'A1', express_company: 'ZTO', item_desc: '字'.repeat(121) }],
      }),
      10060009,
    ],
    [
      express(o, 'ZT1', {
        delivery_mode: 2,
        is_all_delivered: true,
        shipping_list: Array.from({ length: 16 }, (_, i) => ({
          tracking_no: `T${i}`,
          express_company: 'YTO',
          item_desc: 'x',
        })),
      }),
      10060024,
    ],
    [
      express(o, 'ZT1', { shipping_list: [{ tracking_no: 'A1', express_company: 'SF', item_desc: 'x' }] }),
      10060014,
    ],
    [
      express(o, 'ZT1', {
        shipping_list: [
          {
            tracking_no: 'A1',
            express_company: 'SF',
            item_desc: 'x',
            contact: { consignor_contact: '13800001234' },
          },
        ],
      }),
      10060014,
    ],
    [express(o, 'ZT1', { payer: { openid: 'someone-else' } }), 10060014],
    [express(o, 'ZT1', { order_key: { order_number_type: 3 } }), 10060014],
    ['[1,2]', 47001],
  ];
  for (const [body, errcode] of cases) {
    const r = await upload(body, t);
    assert.equal(r.errcode, errcode, `${JSON.stringify(body).slice(0, 200)} → ${JSON.stringify(r)}`);
    assert.match(r.errmsg, /rid: /);
  }
  const view = await h.sim('GET', `/sim/shipping?outTradeNo=${o.outTradeNo}`);
  assert.deepEqual(view.json, { orderState: 1, uploads: [] });
  assert.equal((await h.sim('GET', '/sim/shipping?outTradeNo=never-paid')).status, 404);
  const sf = await upload(
    express(o, 'SF100', {
      shipping_list: [
        {
          tracking_no: 'SF100',
          express_company: 'SF',
          item_desc: 'x',
          contact: { receiver_contact: '138****0000' },
        },
      ],
    }),
    t,
  );
  assert.equal(sf.errcode, 0, JSON.stringify(sf));
});

test('one change of shipping info is allowed, a third upload is refused with 10060003', async () => {
  const t = await token();
  const o = await paidOrder();
  assert.equal((await upload(express(o, 'ZT0001'), t)).errcode, 0);
  assert.equal(
    (await upload(express(o, 'ZT0002', { upload_time: '2026-11-30T11:00:00+08:00' }), t)).errcode,
    0,
  );
  const third = await upload(express(o, 'ZT0003'), t);
  assert.equal(third.errcode, 10060003);
  const view = await h.sim('GET', `/sim/shipping?outTradeNo=${o.outTradeNo}`);
  assert.equal(view.json.orderState, 2);
  assert.deepEqual(
    view.json.uploads.map((u: { shippingList: Array<{ trackingNo: string }>; uploadTime: string }) => [
      u.shippingList[0].trackingNo,
      u.uploadTime,
    ]),
    [
      ['ZT0001', '2026-11-30T10:00:00.000+08:00'],
      ['ZT0002', '2026-11-30T11:00:00+08:00'],
    ],
  );
  const got = await h.sim('POST', `/wxa/sec/order/get_order?access_token=${t}`, {
    transaction_id: o.transactionId,
  });
  assert.equal(got.json.errcode, 0);
  assert.equal(got.json.order.order_state, 2);
  assert.equal(got.json.order.shipping.shipping_list[0].tracking_no, 'ZT0002');
  const list = await h.sim('POST', `/wxa/sec/order/get_order_list?access_token=${t}`, { openid: o.openid });
  assert.equal(list.json.order_list.length, 1);
  const managed = await h.sim('POST', `/wxa/sec/order/is_trade_managed?access_token=${t}`, {
    appid: h.env.WX_APPID,
  });
  assert.equal(managed.json.is_trade_managed, true);
});

test('virtual goods ship in one upload; confirm and settle are pushed with a valid signature', async () => {
  const t = await token();
  const o = await paidOrder();
  assert.equal(
    (await h.sim('POST', `/sim/shipping/${o.outTradeNo}/confirm`)).status,
    409,
    'nothing shipped yet',
  );
  const r = await upload(
    express(o, '', { logistics_type: 3, shipping_list: [{ item_desc: '贴纸包 Sticker pack' }] }),
    t,
  );
  assert.equal(r.errcode, 0, JSON.stringify(r));
  const remind = await h.sim('POST', `/wxa/sec/order/notify_confirm_receive?access_token=${t}`, {
    merchant_id: h.env.WXPAY_MCHID,
    merchant_trade_no: o.outTradeNo,
    received_time: Math.floor(Date.now() / 1000),
  });
  assert.equal(remind.json.errcode, 0, remind.text);
  const before = rx.received.length;
  const confirmed = await h.sim('POST', `/sim/shipping/${o.outTradeNo}/confirm`);
  assert.equal(confirmed.json.orderState, 3);
  const settled = await h.sim('POST', `/sim/shipping/${o.outTradeNo}/settle`);
  assert.equal(settled.json.orderState, 4);
  await rx.waitFor(before + 2);
  const pushes = rx.received.slice(before).map((x) => ({ ...x, json: JSON.parse(x.body) }));
  for (const p of pushes) {
    assert.equal(p.json.Event, 'trade_manage_order_settlement');
    assert.equal(p.json.merchant_trade_no, o.outTradeNo);
    assert.equal(p.json.transaction_id, o.transactionId);
  }
  assert.equal(pushes[0].json.settlement_time, undefined);
  assert.equal(typeof pushes[0].json.confirm_receive_time, 'number');
  assert.equal(typeof pushes[1].json.settlement_time, 'number');
  const deliveries = await h.sim('GET', `/sim/message-push?outTradeNo=${o.outTradeNo}`);
  assert.deepEqual(
    deliveries.json.deliveries.map((d: { status: string }) => d.status),
    ['delivered', 'delivered'],
  );
  const view = await h.sim('GET', `/sim/shipping?outTradeNo=${o.outTradeNo}`);
  assert.deepEqual(view.json.uploads[0].shippingList, [{ itemDesc: '贴纸包 Sticker pack' }]);
  assert.equal((await upload(express(o, 'ZT9'), t)).errcode, 10060002, 'no change after confirm');
});

test('message push carries signature = sha1(sorted token, timestamp, nonce) in its query', async () => {
  const urls: string[] = [];
  const server = createServer((req, res) => {
    urls.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.end('success'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/wx/message`;
  try {
    await h.sim('POST', '/sim/message-push', { url, token: PUSH_TOKEN });
    const o = await paidOrder();
    await h.sim('POST', `/sim/shipping/${o.outTradeNo}/remind-shipping`);
    await waitUntil(() => urls.length === 1);
    const q = new URL(urls[0], 'http://x').searchParams;
    const expected = createHash('sha1')
      .update([PUSH_TOKEN, q.get('timestamp')!, q.get('nonce')!].sort().join(''))
      .digest('hex');
    assert.equal(q.get('signature'), expected);
    const d = await h.sim('GET', `/sim/message-push?outTradeNo=${o.outTradeNo}`);
    assert.equal(d.json.deliveries[0].message.Event, 'trade_manage_remind_shipping');
    assert.equal(d.json.deliveries[0].status, 'delivered');
    const refused = await h.sim('POST', '/sim/message-push', {
      url: 'http://example.com/x',
      token: PUSH_TOKEN,
    });
    assert.equal(refused.status, 400);
  } finally {
    await h.sim('POST', '/sim/message-push', { url: rx.url, token: PUSH_TOKEN });
    server.close();
    server.closeAllConnections();
  }
});

test('a fully refunded order is state 5 and cannot ship (10060004)', async () => {
  const t = await token();
  const o = await paidOrder();
  const refund = await h.v3('POST', '/v3/refund/domestic/refunds', {
    out_trade_no: o.outTradeNo,
    out_refund_no: `R${o.outTradeNo}`,
    amount: { refund: 300, total: 300, currency: 'CNY' },
  });
  assert.equal(refund.status, 200, refund.text);
  await h.sim('POST', `/sim/refunds/R${o.outTradeNo}/complete`);
  assert.equal((await h.sim('GET', `/sim/shipping?outTradeNo=${o.outTradeNo}`)).json.orderState, 5);
  assert.equal((await upload(express(o), t)).errcode, 10060004);
});

test('faults on target shipping, 云调用 origin, and /sim/stats', async () => {
  await h.sim('POST', '/sim/reset');
  const t = await token();
  const o = await paidOrder();
  assert.equal((await h.sim('POST', '/sim/faults', { target: 'shipping', kind: '5xx' })).status, 200);
  assert.equal((await upload(express(o), t)).errcode, -1);
  await h.sim('POST', '/sim/faults', { target: 'shipping', kind: 'rateLimit' });
  assert.equal((await upload(express(o), t)).errcode, 45009);
  const cloud = await h.sim('POST', '/_cloudcall/wxa.sec.order.uploadShippingInfo', express(o));
  assert.equal(cloud.json.errcode, 40013, 'a 云调用 must name the mini-program');
  const viaCloud = await fetch(`${h.url}/_cloudcall/wxa.sec.order.uploadShippingInfo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-wx-cloud-appid': h.env.WX_APPID },
    body: JSON.stringify(express(o)),
  });
  assert.equal(((await viaCloud.json()) as { errcode: number }).errcode, 0);
  const unknown = await fetch(`${h.url}/_cloudcall/wxa.nothing.here`, {
    method: 'POST',
    headers: { 'x-wx-cloud-appid': h.env.WX_APPID },
    body: '{}',
  });
  assert.equal(((await unknown.json()) as { errcode: number }).errcode, -604101);
  const stats = await h.sim('GET', '/sim/stats');
  const { stableTokens, openapi } = stats.json as { stableTokens: number; openapi: unknown };
  assert.deepEqual(
    { stableTokens, openapi },
    {
      stableTokens: 1,
      openapi: { upload_shipping_info: { cloud: 1, https: 2 } },
    },
  );
});
