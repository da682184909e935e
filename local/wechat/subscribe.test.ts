// 订阅消息 in the simulator: the user's one-time subscriptions (control API), WeChat's send API on
// its real path and as 云调用, each refusal code, a subscription spent only by a successful send,
// faults on target `subscribe`, the `/sim/stats` key `subscribeSend` and the message log.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { rng, pick } from '../../test/support/fuzz';
import { startHarness, type SimHarness } from './testing';

const PAID = 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg';
const REFUNDED = 'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4';
const SHIPPED = 'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E';

const paidData = {
  thing1: { value: '测试商品 ×2' },
  amount2: { value: '¥0.02' },
  time3: { value: '2026-11-30 15:01' },
  character_string4: { value: 'WX20261130150100abc' },
};

let h: SimHarness;

before(async () => {
  h = await startHarness();
});
after(() => h.close());
beforeEach(async () => {
  await h.sim('POST', '/sim/reset');
});

const token = () => h.accessToken();

async function subscribe(openid: string, templateId: string): Promise<number> {
  const r = await h.sim('POST', '/sim/subscriptions', { openid, templateId });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(Object.keys(r.json as object).sort(), ['openid', 'remaining', 'templateId']);
  assert.equal(r.json.openid, openid);
  assert.equal(r.json.templateId, templateId);
  return r.json.remaining as number;
}

async function send(body: unknown, accessToken: string): Promise<Record<string, any>> {
  const r = await h.sim('POST', `/cgi-bin/message/subscribe/send?access_token=${accessToken}`, body);
  assert.equal(r.status, 200, 'WeChat answers errors with HTTP 200');
  return r.json;
}

async function cloudSend(body: unknown, appid: string | null = h.env.WX_APPID) {
  const res = await fetch(`${h.url}/_cloudcall/subscribeMessage.send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(appid ? { 'x-wx-cloud-appid': appid } : {}) },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, any>;
}

async function messages(openid?: string): Promise<Array<Record<string, any>>> {
  const r = await h.sim('GET', `/sim/messages${openid ? `?openid=${encodeURIComponent(openid)}` : ''}`);
  assert.equal(r.status, 200, r.text);
  return r.json.messages as Array<Record<string, any>>;
}

async function remaining(openid: string, templateId: string): Promise<number> {
  const r = await h.sim('GET', `/sim/subscriptions?openid=${encodeURIComponent(openid)}`);
  assert.equal(r.status, 200, r.text);
  return (r.json.subscriptions as Array<{ templateId: string; remaining: number }>).find(
    (s) => s.templateId === templateId,
  )!.remaining;
}

test('an allowed template is sent once: msgid, the message log, then 43101', async () => {
  const t = await token();
  const openid = await h.user();
  assert.equal(await subscribe(openid, PAID), 1);
  const body = { touser: openid, template_id: PAID, page: 'pages/order/order?id=WX1', data: paidData };
  const ok = await send(body, t);
  assert.equal(ok.errcode, 0, JSON.stringify(ok));
  assert.equal(ok.errmsg, 'ok');
  assert.ok(Number.isSafeInteger(ok.msgid) && ok.msgid > 0, `msgid ${ok.msgid}`);

  const spent = await send(body, t);
  assert.equal(spent.errcode, 43101, 'a one-time subscription is spent by one send');
  assert.match(spent.errmsg, /^user refuse to accept the msg rid: /);

  const log = await messages(openid);
  assert.equal(log.length, 1);
  assert.deepEqual(
    { ...log[0], sentAt: undefined },
    {
      msgid: ok.msgid,
      openid,
      templateId: PAID,
      page: 'pages/order/order?id=WX1',
      data: paidData,
      miniprogramState: 'formal',
      lang: 'zh_CN',
      sentAt: undefined,
    },
  );
  assert.ok(Math.abs(Date.parse(log[0].sentAt) - Date.now()) < 60_000);
});

test('grants add up per template and user; messages list in send order, filtered by openid', async () => {
  const t = await token();
  const alice = await h.user();
  const bob = await h.user();
  assert.equal(await subscribe(alice, REFUNDED), 1);
  assert.equal(await subscribe(alice, REFUNDED), 2);
  assert.equal(await subscribe(bob, SHIPPED), 1);
  const refundData = { ...paidData, amount2: { value: '¥0.01' } };
  const shipData = {
    thing1: { value: '测试商品' },
    character_string2: { value: 'WX1' },
    time3: { value: '2026年11月30日 15:01' },
  };
  assert.equal((await send({ touser: alice, template_id: REFUNDED, data: refundData }, t)).errcode, 0);
  const viaCloud = await cloudSend({
    touser: bob,
    template_id: SHIPPED,
    data: shipData,
    miniprogram_state: 'developer',
    lang: 'en_US',
  });
  assert.equal(viaCloud.errcode, 0, JSON.stringify(viaCloud));
  assert.equal((await send({ touser: alice, template_id: REFUNDED, data: refundData }, t)).errcode, 0);
  assert.equal((await send({ touser: alice, template_id: REFUNDED, data: refundData }, t)).errcode, 43101);
  assert.equal(
    (await send({ touser: bob, template_id: PAID, data: paidData }, t)).errcode,
    43101,
    'a grant is for its template only',
  );

  const all = await messages();
  assert.deepEqual(
    all.map((m) => [m.openid, m.templateId]),
    [
      [alice, REFUNDED],
      [bob, SHIPPED],
      [alice, REFUNDED],
    ],
  );
  assert.deepEqual(
    { page: all[1].page, state: all[1].miniprogramState, lang: all[1].lang },
    { page: null, state: 'developer', lang: 'en_US' },
  );
  assert.equal((await messages(bob)).length, 1);
  assert.equal((await messages(alice)).length, 2);
  assert.equal(new Set(all.map((m) => m.msgid)).size, 3, 'msgids are unique');
});

test('each refusal has WeChat code and spends nothing', async () => {
  const t = await token();
  const openid = await h.user();
  const stranger = await h.sim('POST', '/sim/users', { appid: 'wx_some_other_app' });
  await subscribe(openid, PAID);
  const base = { touser: openid, template_id: PAID, data: paidData };
  const cases: Array<[string, unknown, number, RegExp?]> = [
    ['unknown openid', { ...base, touser: 'o_nobody' }, 40003],
    ['no touser', { ...base, touser: undefined }, 40003],
    ["another app's user", { ...base, touser: stranger.json.openid }, 40003],
    ['unknown template', { ...base, template_id: 'not-a-template' }, 40037],
    ['page outside the app', { ...base, page: 'https://example.com' }, 41030],
    ['page not a string', { ...base, page: 42 }, 41030],
    ['bad miniprogram_state', { ...base, miniprogram_state: 'prod' }, 47003, /miniprogram_state/],
    ['bad lang', { ...base, lang: 'fr' }, 47003, /lang/],
    ['no data', { ...base, data: undefined }, 47003, /data must be an object/],
    [
      'missing key',
      { ...base, data: { ...paidData, time3: undefined } },
      47003,
      /data\.time3\.value is missing/,
    ],
    [
      'unknown key',
      { ...base, data: { ...paidData, thing9: { value: 'x' } } },
      47003,
      /data\.thing9 is not a key/,
    ],
    [
      'value not a string',
      { ...base, data: { ...paidData, amount2: { value: 1 } } },
      47003,
      /must be a string/,
    ],
    [
      'thing over 20',
      { ...base, data: { ...paidData, thing1: { value: '商'.repeat(21) } } },
      47003,
      /^argument invalid! data\.thing1\.value exceeds 20 characters/,
    ],
    [
      'amount with 3 decimals',
      { ...base, data: { ...paidData, amount2: { value: '¥0.001' } } },
      47003,
      /amount2/,
    ],
    [
      'time without a clock',
      { ...base, data: { ...paidData, time3: { value: '2026-11-30' } } },
      47003,
      /time3/,
    ],
    [
      'order number with spaces',
      { ...base, data: { ...paidData, character_string4: { value: 'WX 1' } } },
      47003,
      /character_string4/,
    ],
  ];
  for (const [name, body, errcode, message] of cases) {
    const answer = await send(body, t);
    assert.equal(answer.errcode, errcode, `${name}: ${JSON.stringify(answer)}`);
    assert.match(answer.errmsg, / rid: /, name);
    if (message) assert.match(answer.errmsg, message, name);
    assert.equal(answer.msgid, undefined, name);
  }
  assert.equal(await remaining(openid, PAID), 1, 'failed sends do not spend the subscription');
  assert.equal((await messages()).length, 0);
  assert.equal((await send(base, t)).errcode, 0);
  assert.equal(await remaining(openid, PAID), 0);

  const notJson = await h.sim('POST', `/cgi-bin/message/subscribe/send?access_token=${t}`, '[1]');
  assert.equal(notJson.json.errcode, 47001);
});

test('access: 41001, 40001, 42001 over HTTPS; 云调用 needs the appid', async () => {
  const openid = await h.user();
  await subscribe(openid, PAID);
  const body = { touser: openid, template_id: PAID, data: paidData };
  const missing = await h.sim('POST', '/cgi-bin/message/subscribe/send', body);
  assert.equal(missing.json.errcode, 41001);
  assert.equal((await send(body, 'forged')).errcode, 40001);
  const t = await token();
  assert.equal((await h.sim('POST', '/sim/clock', { advanceSeconds: 7201 })).status, 200);
  assert.equal((await send(body, t)).errcode, 42001);
  assert.equal((await cloudSend(body, null)).errcode, 40013);
  assert.equal(await remaining(openid, PAID), 1, 'refused calls spend nothing');
  assert.equal((await cloudSend(body)).errcode, 0);
});

/** 'answered', or the error name when no answer came within 300 ms ('TimeoutError'). */
function sendWithin300ms(body: unknown, accessToken: string): Promise<string> {
  return fetch(`${h.url}/cgi-bin/message/subscribe/send?access_token=${accessToken}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(300),
  }).then(
    () => 'answered',
    (err: Error) => err.name,
  );
}

test('faults on target subscribe answer transient errors and spend nothing; stats count subscribeSend', async () => {
  const t = await token();
  const openid = await h.user();
  await subscribe(openid, PAID);
  const body = { touser: openid, template_id: PAID, data: paidData };
  assert.equal((await h.sim('POST', '/sim/faults', { target: 'subscribe', kind: '5xx' })).status, 200);
  assert.equal((await send(body, t)).errcode, -1);
  await h.sim('POST', '/sim/faults', { target: 'subscribe', kind: 'rateLimit' });
  assert.equal((await send(body, t)).errcode, 45009);
  await h.sim('POST', '/sim/faults', { target: 'subscribe', kind: 'timeout' });
  const hung = await sendWithin300ms(body, t);
  assert.equal(hung, 'TimeoutError', 'a timeout fault never answers');
  assert.equal(await remaining(openid, PAID), 1);
  assert.deepEqual(await messages(openid), [], 'a timeout fault sends nothing');
  assert.equal((await cloudSend(body)).errcode, 0);
  await subscribe(openid, PAID);
  await h.sim('POST', '/sim/faults', { target: 'subscribe', kind: 'lostResponse' });
  const lost = await sendWithin300ms(body, t);
  assert.equal(lost, 'TimeoutError', 'the answer of a lostResponse send never arrives');
  assert.equal((await messages(openid)).length, 2, 'but WeChat sent the message');
  assert.equal(await remaining(openid, PAID), 0, 'and spent the subscription');
  const stats = await h.sim('GET', '/sim/stats');
  assert.deepEqual((stats.json as { openapi: unknown }).openapi, { subscribeSend: { cloud: 1, https: 4 } });
});

test('control: 404 for an unknown user, 400 for a bad template or body; reset clears everything', async () => {
  const openid = await h.user();
  const unknown = await h.sim('POST', '/sim/subscriptions', { openid: 'o_nobody', templateId: PAID });
  assert.equal(unknown.status, 404);
  assert.match(String(unknown.json.error), /POST \/sim\/users/);
  const badTemplate = await h.sim('POST', '/sim/subscriptions', { openid, templateId: 'nope' });
  assert.equal(badTemplate.status, 400);
  assert.match(String(badTemplate.json.error), new RegExp(PAID));
  const noTemplate = await h.sim('POST', '/sim/subscriptions', { openid });
  assert.equal(noTemplate.status, 400);
  const notJson = await h.sim('POST', '/sim/subscriptions', 'nope');
  assert.equal(notJson.status, 400);
  assert.equal((await h.sim('GET', '/sim/subscriptions?openid=o_nobody')).status, 404);

  const templates = await h.sim('GET', '/sim/templates');
  assert.deepEqual(
    (templates.json.templates as Array<{ templateId: string; title: string }>).map((x) => x.title),
    ['订单支付成功通知', '退款成功通知', '订单发货通知'],
  );

  await subscribe(openid, PAID);
  assert.equal((await send({ touser: openid, template_id: PAID, data: paidData }, await token())).errcode, 0);
  await h.sim('POST', '/sim/reset');
  assert.deepEqual(await messages(), []);
  const again = await h.user();
  assert.equal(await subscribe(again, PAID), 1);
});

test('fuzz: any body gets a WeChat answer; only a valid one is sent, and it spends exactly one', async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
  const r = rng(seed);
  const t = await token();
  const openid = await h.user();
  let left = 0;
  const texts = [
    '',
    ' ',
    '测试商品',
    '商'.repeat(20),
    '商'.repeat(21),
    '¥0.01',
    '¥0.001',
    '2026-11-30 15:01',
    '15:01',
    'WX1',
    'WX 1',
    '😀'.repeat(20),
    'a'.repeat(32),
    'a'.repeat(33),
    '\u0000',
    '<script>',
    '1e3',
  ];
  const junk = [undefined, null, 42, true, [], {}, ['x'], { value: 1 }, 'text'];
  const anything = () => (r() < 0.7 ? pick(r, texts) : pick(r, junk));
  const keys = ['thing1', 'amount2', 'time3', 'character_string4', 'thing9', 'character_string2'];
  // Each case is a valid send with 0–2 mutations, so sends, refusals and spent subscriptions all occur.
  const mutations: Array<(b: Record<string, any>) => void> = [
    (b) => {
      if (b.data && typeof b.data === 'object')
        b.data[pick(r, keys)] = r() < 0.8 ? { value: anything() } : anything();
    },
    (b) => {
      if (b.data && typeof b.data === 'object') delete b.data[pick(r, keys)];
    },
    (b) => (b.data = pick(r, junk)),
    (b) => (b.touser = pick(r, [...junk, 'o_nobody'])),
    (b) => (b.template_id = pick(r, [REFUNDED, SHIPPED, '', PAID.toLowerCase(), ...junk])),
    (b) => (b.page = pick(r, ['pages/index/index', '/pages/order/order?id=1', 'http://x', '', ...junk])),
    (b) => (b.miniprogram_state = pick(r, ['developer', 'trial', 'formal', 'prod', ...junk])),
    (b) => (b.lang = pick(r, ['zh_CN', 'en_US', 'de', ...junk])),
  ];
  const codes = new Set<number>();
  for (let i = 0; i < 150; i++) {
    if (r() < 0.3) {
      await subscribe(openid, PAID);
      left += 1;
    }
    const body: Record<string, any> = { touser: openid, template_id: PAID, data: structuredClone(paidData) };
    for (let m = Math.floor(r() * 3); m > 0; m--) pick(r, mutations)(body);
    const answer = await send(body, t);
    const where = `seed ${seed}, case ${i}: ${JSON.stringify(body)} → ${JSON.stringify(answer)}`;
    assert.ok([0, 40003, 40037, 41030, 43101, 47003].includes(answer.errcode), where);
    codes.add(answer.errcode);
    if (answer.errcode === 0) {
      left -= 1;
      const sent = (await messages(openid)).at(-1)!;
      assert.equal(sent.msgid, answer.msgid, where);
      assert.equal(sent.templateId, PAID, where);
      assert.deepEqual(sent.data, JSON.parse(JSON.stringify(body.data)), where);
      for (const [key, entry] of Object.entries(sent.data as Record<string, { value: string }>)) {
        assert.ok(typeof entry.value === 'string' && entry.value.trim() !== '', where);
        if (key === 'thing1') assert.ok([...entry.value].length <= 20, where);
        if (key === 'amount2') assert.match(entry.value, /^¥\d+(\.\d\d?)?$/, where);
      }
    }
    if (answer.errcode === 43101 && body.template_id === PAID) assert.equal(left, 0, where);
    assert.equal(await remaining(openid, PAID), left, where);
  }
  assert.ok(codes.has(0) && codes.has(47003), `seed ${seed}: the cases reach both sends and refusals`);
});
