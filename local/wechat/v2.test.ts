// API v2 (XML): signatures both ways, error shapes, and the v2 notifications (signed payment XML,
// refund req_info decrypted with openssl), with acknowledgement rules.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { httpCall, startHarness, startReceiver, waitUntil, type Receiver, type SimHarness } from './testing';

let h: SimHarness;
let rx: Receiver;
let openid: string;
const ACK =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';

before(async () => {
  h = await startHarness({ timeScale: 1000, refundDelayMs: 1e10 }); // refunds stay PROCESSING until completed by hand
  rx = await startReceiver();
  rx.respond = () => ({ status: 200, body: ACK });
  openid = await h.user();
});
after(async () => {
  await rx.close();
  await h.close();
});

type SignType = 'MD5' | 'HMAC-SHA256';
// Independent of the simulator's code: the documented algorithm written out again here.
function sign(fields: Record<string, string>, signType: SignType, key = h.env.WXPAY_APIV2_KEY): string {
  const s =
    Object.keys(fields)
      .filter((k) => k !== 'sign' && fields[k] !== '')
      .sort()
      .map((k) => `${k}=${fields[k]}`)
      .join('&') + `&key=${key}`;
  return (
    signType === 'MD5' ? createHash('md5').update(s, 'utf8') : createHmac('sha256', key).update(s, 'utf8')
  )
    .digest('hex')
    .toUpperCase();
}
function parse(xml: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of xml.matchAll(/<(\w+)>(?:<!\[CDATA\[([\s\S]*?)\]\]>|([^<]*))<\/\1>/g))
    if (m[1] !== 'xml' && m[1] !== 'root') out[m[1]] = m[2] ?? m[3];
  return out;
}
async function call(
  path: string,
  fields: Record<string, string | number>,
  signType: SignType = 'MD5',
  tamper = false,
) {
  const f: Record<string, string> = {
    appid: h.env.WX_APPID,
    mch_id: h.env.WXPAY_MCHID,
    nonce_str: Math.random().toString(36).slice(2),
    ...(signType === 'HMAC-SHA256' ? { sign_type: signType } : {}),
    ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])),
  };
  f.sign = sign(f, signType);
  if (tamper) f.body = `${f.body}!`;
  const xml = `<xml>${Object.entries(f)
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')}</xml>`;
  const r = await httpCall('POST', h.url + path, xml, { 'Content-Type': 'text/xml' });
  const data = parse(r.text);
  if (data.return_code === 'SUCCESS')
    assert.equal(data.sign, sign(data, signType), `answer to ${path} is signed with ${signType}`);
  return { status: r.status, data };
}
let seq = 0;
const order = (extra: Record<string, string | number> = {}) => ({
  body: 'v2商品',
  out_trade_no: `X${Date.now()}${seq++}`,
  total_fee: 1000,
  spbill_create_ip: '127.0.0.1',
  notify_url: rx.url,
  trade_type: 'JSAPI',
  openid,
  ...extra,
});

test('v2 protocol failures: bad signature, bad XML, unknown merchant → return_code FAIL', async () => {
  const bad = await call('/pay/unifiedorder', order(), 'MD5', true);
  assert.equal(bad.data.return_code, 'FAIL');
  assert.equal(bad.data.return_msg, '签名错误');
  assert.equal(bad.data.err_code, 'SIGNERROR');
  const xml = await httpCall('POST', `${h.url}/pay/orderquery`, '<xml><a>', { 'Content-Type': 'text/xml' });
  assert.equal(parse(xml.text).return_code, 'FAIL');
  const unknown = await httpCall('POST', `${h.url}/pay/orderquery`, '<xml><mch_id>1</mch_id></xml>');
  assert.equal(parse(unknown.text).return_code, 'FAIL');
  // HMAC signature sent but sign_type says MD5 → FAIL
  const f = order();
  const r = await call('/pay/unifiedorder', { ...f, sign_type: 'MD5' }, 'HMAC-SHA256');
  assert.equal(r.data.return_code, 'FAIL');
});

test('v2 business errors: LACK_PARAMS, APPID_MCHID_NOT_MATCH, OUT_TRADE_NO_USED, ORDERNOTEXIST, ORDERPAID, ORDERCLOSED', async () => {
  const { out_trade_no: _o, ...noNo } = order();
  assert.equal((await call('/pay/unifiedorder', noNo)).data.err_code, 'LACK_PARAMS');
  assert.equal(
    (await call('/pay/unifiedorder', order({ appid: 'wx0000000000000000' }))).data.err_code,
    'APPID_MCHID_NOT_MATCH',
  );
  assert.equal(
    (await call('/pay/unifiedorder', order({ body: 'x'.repeat(129) }))).data.err_code,
    'PARAM_ERROR',
  );
  assert.equal(
    (await call('/pay/unifiedorder', order({ notify_url: 'https://pay.example.com/n' }))).data.err_code,
    'PARAM_ERROR',
  );
  const o = order();
  const first = await call('/pay/unifiedorder', o, 'HMAC-SHA256');
  assert.equal(first.data.result_code, 'SUCCESS');
  assert.equal(
    (await call('/pay/unifiedorder', o, 'MD5')).data.prepay_id,
    first.data.prepay_id,
    'same parameters, any sign type → same prepay_id',
  );
  const reused = await call('/pay/unifiedorder', { ...o, total_fee: 999 });
  assert.equal(reused.data.result_code, 'FAIL');
  assert.equal(reused.data.err_code, 'OUT_TRADE_NO_USED');
  assert.equal(
    (await call('/pay/orderquery', { out_trade_no: 'nosuchorder' })).data.err_code,
    'ORDERNOTEXIST',
  );
  assert.equal(
    (await call('/pay/closeorder', { out_trade_no: 'nosuchorder' })).data.err_code,
    'ORDERNOTEXIST',
  );
  await h.sim('POST', '/sim/pay-order', { outTradeNo: o.out_trade_no });
  assert.equal((await call('/pay/closeorder', { out_trade_no: o.out_trade_no })).data.err_code, 'ORDERPAID');
  assert.equal((await call('/pay/unifiedorder', o)).data.err_code, 'ORDERPAID');
  const c = order();
  await call('/pay/unifiedorder', c);
  assert.equal((await call('/pay/closeorder', { out_trade_no: c.out_trade_no })).data.result_code, 'SUCCESS');
  assert.equal(
    (await call('/pay/closeorder', { out_trade_no: c.out_trade_no })).data.err_code,
    'ORDERCLOSED',
  );
  assert.equal((await call('/pay/orderquery', { out_trade_no: c.out_trade_no })).data.trade_state, 'CLOSED');
  // faults: SYSTEMERROR with HTTP 500
  await h.sim('POST', '/sim/faults', { target: 'orderquery', kind: '5xx' });
  const sys = await call('/pay/orderquery', { out_trade_no: c.out_trade_no });
  assert.equal(sys.status, 500);
  assert.equal(sys.data.err_code, 'SYSTEMERROR');
});

test('v2 lostResponse: the order is created but the answer never comes; the same call again gets the same prepay_id', async () => {
  await h.sim('POST', '/sim/faults', { target: 'unifiedorder', kind: 'lostResponse' });
  const o = order();
  const f: Record<string, string> = {
    appid: h.env.WX_APPID,
    mch_id: h.env.WXPAY_MCHID,
    nonce_str: 'lost1',
    ...Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)])),
  };
  f.sign = sign(f, 'MD5');
  const xml = `<xml>${Object.entries(f)
    .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
    .join('')}</xml>`;
  const outcome = await new Promise<string>((resolve) => {
    const req = request(
      `${h.url}/pay/unifiedorder`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'text/xml' } },
      () => resolve('answered'),
    );
    req.setTimeout(500, () => {
      req.destroy();
      resolve('no answer');
    });
    req.on('error', () => undefined);
    req.end(xml);
  });
  assert.equal(outcome, 'no answer');
  const q = await call('/pay/orderquery', { out_trade_no: o.out_trade_no });
  assert.equal(q.data.trade_state, 'NOTPAY', 'WeChat has the order');
  const again = await call('/pay/unifiedorder', o);
  assert.equal(again.data.result_code, 'SUCCESS');
  assert.match(again.data.prepay_id ?? '', /^wx/);
});

test('v2 payment notification: signed XML with the order sign type; only the SUCCESS acknowledgement counts', async () => {
  let answered = 0;
  rx.respond = () => (++answered === 1 ? { status: 200, body: 'ok' } : { status: 200, body: ACK });
  const o = order();
  await call('/pay/unifiedorder', o, 'HMAC-SHA256');
  const start = rx.received.length;
  await h.sim('POST', '/sim/pay-order', { outTradeNo: o.out_trade_no });
  const [n1, n2] = (await rx.waitFor(start + 2, 5000)).slice(start);
  assert.equal(n1.body, n2.body);
  const n = parse(n1.body);
  assert.equal(n.sign_type, 'HMAC-SHA256');
  assert.equal(n.sign, sign(n, 'HMAC-SHA256'));
  assert.equal(n.result_code, 'SUCCESS');
  assert.equal(n.out_trade_no, o.out_trade_no);
  assert.equal(n.total_fee, '1000');
  assert.equal(n.openid, openid);
  assert.match(n.time_end, /^\d{14}$/);
  assert.match(String(n1.headers['content-type']), /xml/);
  await waitUntil(
    async () =>
      (await h.sim('GET', `/sim/deliveries?outTradeNo=${o.out_trade_no}`)).json[0]?.state === 'delivered',
  );
  rx.respond = () => ({ status: 200, body: ACK });
});

test('v2 refunds: amount rules and a req_info refund notification that openssl decrypts', async () => {
  const o = order({ total_fee: 500 });
  await call('/pay/unifiedorder', o);
  assert.equal(
    (
      await call('/secapi/pay/refund', {
        out_trade_no: o.out_trade_no,
        out_refund_no: `${o.out_trade_no}r0`,
        total_fee: 500,
        refund_fee: 100,
      })
    ).data.err_code,
    'TRADE_STATE_ERROR',
  );
  await h.sim('POST', '/sim/pay-order', { outTradeNo: o.out_trade_no });
  const base = { out_trade_no: o.out_trade_no, total_fee: 500, notify_url: rx.url };
  const r1 = await call('/secapi/pay/refund', {
    ...base,
    out_refund_no: `${o.out_trade_no}r1`,
    refund_fee: 300,
  });
  assert.equal(r1.data.result_code, 'SUCCESS');
  assert.equal(
    (await call('/secapi/pay/refund', { ...base, out_refund_no: `${o.out_trade_no}r1`, refund_fee: 300 }))
      .data.refund_id,
    r1.data.refund_id,
  );
  assert.equal(
    (await call('/secapi/pay/refund', { ...base, out_refund_no: `${o.out_trade_no}r1`, refund_fee: 200 }))
      .data.err_code,
    'REFUND_FEE_MISMATCH',
  );
  assert.equal(
    (await call('/secapi/pay/refund', { ...base, out_refund_no: `${o.out_trade_no}r2`, refund_fee: 201 }))
      .data.err_code,
    'INVALID_REQUEST',
  );
  assert.equal(
    (
      await call('/secapi/pay/refund', {
        ...base,
        total_fee: 400,
        out_refund_no: `${o.out_trade_no}r3`,
        refund_fee: 1,
      })
    ).data.err_code,
    'REFUND_FEE_MISMATCH',
  );
  assert.equal(
    (await call('/secapi/pay/refund', { ...base, out_refund_no: `${o.out_trade_no}r4`, refund_fee: 501 }))
      .data.return_msg,
    'invalid refund_fee',
  );
  await h.sim('POST', '/sim/faults', { target: 'v2refund', kind: 'notEnough' });
  assert.equal(
    (await call('/secapi/pay/refund', { ...base, out_refund_no: `${o.out_trade_no}r5`, refund_fee: 200 }))
      .data.err_code,
    'NOTENOUGH',
  );
  assert.equal(
    (await call('/secapi/pay/refund', { ...base, out_refund_no: `${o.out_trade_no}r5`, refund_fee: 200 }))
      .data.result_code,
    'SUCCESS',
  );
  assert.equal(
    (await call('/secapi/pay/refund', { ...base, out_refund_no: `${o.out_trade_no}r6`, refund_fee: 1 })).data
      .err_code,
    'ERROR',
    '订单已全额退款',
  );
  assert.equal((await call('/pay/refundquery', { out_refund_no: 'none' })).data.err_code, 'REFUNDNOTEXIST');

  const start = rx.received.length;
  await h.sim('POST', `/sim/refunds/${o.out_trade_no}r1/complete`, { status: 'SUCCESS' });
  const [note] = (await rx.waitFor(start + 1)).slice(start);
  const env = parse(note.body);
  assert.equal(env.return_code, 'SUCCESS');
  assert.equal(env.sign, undefined, 'v2 refund notifications carry no sign; req_info is the proof');
  const keyHex = Buffer.from(
    createHash('md5').update(h.env.WXPAY_APIV2_KEY).digest('hex').toLowerCase(),
  ).toString('hex');
  const plain = execFileSync('openssl', ['enc', '-d', '-aes-256-ecb', '-K', keyHex, '-base64', '-A'], {
    input: env.req_info,
  }).toString();
  const info = parse(plain);
  assert.equal(info.out_refund_no, `${o.out_trade_no}r1`);
  assert.equal(info.refund_status, 'SUCCESS');
  assert.equal(info.refund_fee, '300');
  assert.equal(info.total_fee, '500');
  assert.match(info.success_time, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);

  const q = await call('/pay/refundquery', { out_trade_no: o.out_trade_no });
  assert.equal(q.data.refund_count, '2');
  const statuses = [q.data.refund_status_0, q.data.refund_status_1].sort();
  assert.deepEqual(statuses, ['PROCESSING', 'SUCCESS']);
  assert.equal((await call('/pay/orderquery', { out_trade_no: o.out_trade_no })).data.trade_state, 'REFUND');
  // the same order seen through v3: one order, whichever API asks
  const v3 = await h.v3(
    'GET',
    `/v3/pay/transactions/out-trade-no/${o.out_trade_no}?mchid=${h.env.WXPAY_MCHID}`,
  );
  assert.equal(v3.json.trade_state, 'REFUND');
  assert.equal(v3.json.amount.total, 500);
});
