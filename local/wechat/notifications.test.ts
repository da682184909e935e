// Notification delivery: WeChat's retry schedule (time-scaled), the 5 s answer limit, clock advance,
// replay, and the notify faults (drop, duplicate, delay, reorder, signtest).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, startReceiver, waitUntil, type Receiver, type SimHarness } from './testing';
import { RETRY_SCHEDULE_SECONDS } from './server';

let h: SimHarness;
let rx: Receiver;
let openid: string;
const SCALE = 100;

before(async () => {
  h = await startHarness({ timeScale: SCALE, signingMode: 'certificate' });
  rx = await startReceiver();
  openid = await h.user();
});
after(async () => {
  await rx.close();
  await h.close();
});

let seq = 0;
async function paidOrder(notifyUrl = rx.url): Promise<string> {
  const no = `N${Date.now()}${seq++}`;
  const r = await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: '通知测试',
    out_trade_no: no,
    notify_url: notifyUrl,
    amount: { total: 1 },
    payer: { openid },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((await h.sim('POST', '/sim/pay-order', { outTradeNo: no })).json.errMsg, 'requestPayment:ok');
  return no;
}

const outTradeNoOf = (body: string) => JSON.parse(body).id as string;
async function deliveries(no: string) {
  return (await h.sim('GET', `/sim/deliveries?outTradeNo=${no}`)).json as any[];
}

test(`retries follow WeChat's schedule divided by timeScale (${SCALE}×)`, async () => {
  const failures = 4;
  let seen = 0;
  rx.respond = () => (++seen <= failures ? { status: 500, body: 'busy' } : { status: 204 });
  const start = rx.received.length;
  const no = await paidOrder();
  const got = (await rx.waitFor(start + failures + 1, 8000)).slice(start);
  const gaps = got.slice(1).map((r, i) => r.at - got[i].at);
  const expected = RETRY_SCHEDULE_SECONDS.slice(0, failures).map((s) => (s * 1000) / SCALE);
  // never early; late only by event-loop slack (generous: CI machines can be very busy)
  gaps.forEach((gap, i) =>
    assert.ok(
      gap >= expected[i] - 15 && gap <= expected[i] + 400,
      `gap ${i}: ${gap} ms, expected ≈ ${expected[i]} ms`,
    ),
  );
  assert.ok(gaps[3] > gaps[2] * 3, 'the 3-minute step is clearly longer than the 30-second one');
  assert.equal(
    new Set(got.map((r) => outTradeNoOf(r.body))).size,
    1,
    'every retry carries the same notification id',
  );
  await waitUntil(async () => (await deliveries(no))[0]?.state === 'delivered');
  const [d] = await deliveries(no);
  assert.deepEqual(
    d.attempts.map((a: any) => a.status),
    [500, 500, 500, 500, 204],
  );
  assert.equal(d.attempts[0].answer, 'busy');
  assert.equal(d.nextAttemptAt, undefined);
  assert.equal(d.url, rx.url);
  rx.respond = () => ({ status: 204 });
});

test('a receiver that never says yes ends as failed after 16 attempts; nextAttemptAt shows the schedule meanwhile', async () => {
  rx.respond = () => ({ status: 503 });
  await h.sim('POST', '/sim/clock', { timeScale: 100_000 });
  const no = await paidOrder();
  await waitUntil(async () => (await deliveries(no))[0]?.state === 'failed', 8000);
  const [d] = await deliveries(no);
  assert.equal(d.attempts.length, RETRY_SCHEDULE_SECONDS.length + 1);
  assert.equal(d.nextAttemptAt, undefined);
  // replay after failure: the merchant is back
  rx.respond = () => ({ status: 200, body: '{"code":"SUCCESS"}' });
  const replay = await h.sim('POST', `/sim/deliveries/${d.id}/replay`);
  assert.equal(replay.status, 200);
  assert.equal(replay.json.state, 'delivered');
  assert.equal(replay.json.attempts.at(-1).kind, 'replay');
  assert.equal((await h.sim('POST', '/sim/deliveries/nope/replay')).status, 404);
  await h.sim('POST', '/sim/clock', { timeScale: SCALE });
  rx.respond = () => ({ status: 204 });
});

test('advancing the clock brings the next retry forward', async () => {
  await h.sim('POST', '/sim/clock', { timeScale: 1 });
  let first = true;
  rx.respond = () => (first ? ((first = false), { status: 500 }) : { status: 204 });
  const start = rx.received.length;
  const no = await paidOrder();
  await rx.waitFor(start + 1);
  await waitUntil(async () => !!(await deliveries(no))[0]?.nextAttemptAt);
  const [pending] = await deliveries(no);
  assert.equal(pending.state, 'pending');
  assert.ok(Date.parse(pending.nextAttemptAt) - Date.now() > 10_000, 'next attempt ≈ 15 s away at scale 1');
  await h.sim('POST', '/sim/clock', { advanceSeconds: 15 });
  await rx.waitFor(start + 2, 2000);
  await waitUntil(async () => (await deliveries(no))[0]?.state === 'delivered');
  await h.sim('POST', '/sim/clock', { timeScale: SCALE });
});

test('an answer later than 5 s counts as a failure', async () => {
  let slow = true;
  rx.respond = () => (slow ? ((slow = false), { status: 204, delayMs: 5300 }) : { status: 204 });
  const no = await paidOrder();
  await waitUntil(async () => (await deliveries(no))[0]?.state === 'delivered', 9000);
  const [d] = await deliveries(no);
  assert.equal(d.attempts[0].status, 0);
  assert.match(d.attempts[0].error, /5000 ms/);
  assert.ok(d.attempts[0].durationMs >= 4900);
  assert.equal(d.attempts[1].status, 204);
});

test('notify faults: drop, duplicate, delay, reorder, signtest', async () => {
  rx.respond = (r) =>
    String(r.headers['wechatpay-signature']).startsWith('WECHATPAY/SIGNTEST/')
      ? { status: 401 }
      : { status: 204 };

  // drop: the first attempt never leaves, the retry delivers
  await h.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop' });
  let start = rx.received.length;
  let no = await paidOrder();
  await rx.waitFor(start + 1);
  await waitUntil(async () => (await deliveries(no))[0]?.state === 'delivered');
  let [d] = await deliveries(no);
  assert.equal(d.attempts[0].status, 0);
  assert.match(d.attempts[0].error, /drop/);
  assert.equal(rx.received.length - start, 1, 'the dropped attempt never reached the receiver');

  // duplicate: three identical copies at once
  await h.sim('POST', '/sim/faults', { target: 'notify', kind: 'duplicate', count: 2 });
  start = rx.received.length;
  no = await paidOrder();
  const copies = (await rx.waitFor(start + 3)).slice(start);
  assert.equal(new Set(copies.map((c) => c.body)).size, 1);
  assert.ok(copies[2].at - copies[0].at < 500);
  [d] = await deliveries(no);
  assert.equal(d.attempts.length, 3);

  // delay
  await h.sim('POST', '/sim/faults', { target: 'notify', kind: 'delay', delayMs: 400 });
  start = rx.received.length;
  const t0 = Date.now();
  await paidOrder();
  const [late] = (await rx.waitFor(start + 1)).slice(start);
  assert.ok(late.at - t0 >= 400, `delivered after ${late.at - t0} ms`);

  // reorder: A is held back until B went out
  await h.sim('POST', '/sim/faults', { target: 'notify', kind: 'reorder' });
  start = rx.received.length;
  const a = await paidOrder();
  const b = await paidOrder();
  const two = (await rx.waitFor(start + 2)).slice(start);
  const ids = await Promise.all([a, b].map(async (x) => (await deliveries(x))[0].body as string));
  assert.deepEqual(
    two.map((r) => r.body),
    [ids[1], ids[0]],
    'B arrives before A',
  );

  // signtest: a probe with a WECHATPAY/SIGNTEST/ signature first; the receiver rejects it, the real one follows
  await h.sim('POST', '/sim/faults', { target: 'notify', kind: 'signtest' });
  start = rx.received.length;
  no = await paidOrder();
  const [probe, real] = (await rx.waitFor(start + 2)).slice(start);
  assert.match(String(probe.headers['wechatpay-signature']), /^WECHATPAY\/SIGNTEST\//);
  assert.equal(h.verify(real.headers, real.body), 'certificate');
  await waitUntil(async () => (await deliveries(no))[0]?.state === 'delivered');
  [d] = await deliveries(no);
  assert.deepEqual(
    d.attempts.map((x: any) => [x.kind, x.status]),
    [
      ['signtest', 401],
      ['scheduled', 204],
    ],
  );
  rx.respond = () => ({ status: 204 });
});
