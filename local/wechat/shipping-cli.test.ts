// `npm run sim -- confirm|settle|shipping|stats` against a running simulator (in-process runSimCli).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimCli } from '../../scripts/sim';
import { startHarness, startReceiver, type Receiver, type SimHarness } from './testing';

let h: SimHarness;
let rx: Receiver;

before(async () => {
  h = await startHarness();
  rx = await startReceiver('/wx/message');
  rx.respond = () => ({ status: 200, body: 'success' });
  await h.sim('POST', '/sim/message-push', { url: rx.url, token: 'cliToken' });
});
after(async () => {
  await rx.close();
  await h.close();
});

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSimCli(args, { baseUrl: h.url, log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

test('CLI: shipping, confirm, settle, stats', async () => {
  const openid = await h.user();
  const no = `CLIS${Date.now()}`;
  await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: 'cli',
    out_trade_no: no,
    notify_url: 'http://127.0.0.1:9/pay/notify',
    amount: { total: 5 },
    payer: { openid },
  });
  assert.match((await cli('confirm', no)).stderr, /404: WeChat has no paid order/);
  await h.sim('POST', '/sim/pay-order', { outTradeNo: no });
  assert.match((await cli('shipping', no)).stdout, /order_state 1 待发货/);
  assert.match((await cli('confirm', no)).stderr, /409: .*not 2 \(已发货\)/);
  const up = await h.sim(
    'POST',
    `/wxa/sec/order/upload_shipping_info?access_token=${await h.accessToken()}`,
    {
      order_key: { order_number_type: 1, mchid: h.env.WXPAY_MCHID, out_trade_no: no },
      logistics_type: 1,
      delivery_mode: 1,
      shipping_list: [{ tracking_no: 'JT0001', express_company: 'JTSD', item_desc: '芝士蛋糕' }],
      upload_time: '2026-11-30T09:00:00+08:00',
      payer: { openid },
    },
  );
  assert.equal(up.json.errcode, 0, up.text);
  const shipped = await cli('shipping', no);
  assert.match(shipped.stdout, /order_state 2 已发货/);
  assert.match(shipped.stdout, /2026-11-30T09:00:00\+08:00 {2}logistics 1 mode 1 {2}JTSD JT0001 芝士蛋糕/);
  const confirmed = await cli('confirm', no);
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.match(confirmed.stdout, /receipt confirmed, order_state 3/);
  assert.match((await cli('settle', no)).stdout, /settled, order_state 4/);
  await rx.waitFor(2);
  assert.deepEqual(
    rx.received.map((r) => (JSON.parse(r.body) as { Event: string }).Event),
    ['trade_manage_order_settlement', 'trade_manage_order_settlement'],
  );
  const stats = await cli('stats');
  assert.match(stats.stdout, /stable_token answers: 1/);
  assert.match(stats.stdout, /upload_shipping_info\s+云调用 0 {2}https 1/);
  assert.equal((await cli('fault', 'shipping', '5xx')).code, 0);
});
