// The adapter's wx.requestSubscribeMessage against the real WeChat simulator: each accepted template
// grants one send there, a rejected one nothing; the answer has WeChat's shape; bad ids fail as the
// phone does, before anything is granted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startHarness, type SimHarness } from '../../local/wechat/testing';
import type { WxFailure } from '../../miniprogram/miniprogram/lib/wx-port';
import { createWxAdapter, type SubscribeMessageSuccess, type WxAdapter } from './wx-adapter';

const PAID = 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg';
const REFUNDED = 'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4';
const SHIPPED = 'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E';

let h: SimHarness;

before(async () => {
  h = await startHarness();
});
after(() => h.close());

async function phone(): Promise<{ adapter: WxAdapter; openid: string }> {
  const openid = await h.user();
  const adapter = createWxAdapter({
    // requestSubscribeMessage talks to the simulator only
    hostUrl: 'http://127.0.0.1:9',
    simUrl: h.url,
    openid,
    appid: h.env.WX_APPID,
  });
  return { adapter, openid };
}

/** Calls it the way the mini-program does (callbacks); settles when `complete` runs, after the other. */
function ask(
  adapter: WxAdapter,
  tmplIds: string[],
): Promise<{ ok: SubscribeMessageSuccess } | { fail: WxFailure }> {
  return new Promise((resolve, reject) => {
    let outcome: { ok: SubscribeMessageSuccess } | { fail: WxFailure } | undefined;
    adapter.wx.requestSubscribeMessage({
      tmplIds,
      success: (ok) => (outcome = outcome ? undefined : { ok }),
      fail: (fail) => (outcome = outcome ? undefined : { fail }),
      complete: () =>
        outcome ? resolve(outcome) : reject(new Error('complete without exactly one callback')),
    });
  });
}

async function remaining(openid: string): Promise<Record<string, number>> {
  const r = await h.sim('GET', `/sim/subscriptions?openid=${encodeURIComponent(openid)}`);
  assert.equal(r.status, 200, r.text);
  return Object.fromEntries(
    (r.json.subscriptions as Array<{ templateId: string; remaining: number }>).map((s) => [
      s.templateId,
      s.remaining,
    ]),
  );
}

test('accepted templates are granted one send each; rejected ones none', async () => {
  const { adapter, openid } = await phone();
  adapter.subscribeChoices.set(REFUNDED, 'reject');
  const answer = await ask(adapter, [PAID, REFUNDED]);
  assert.deepEqual(answer, {
    ok: { errMsg: 'requestSubscribeMessage:ok', [PAID]: 'accept', [REFUNDED]: 'reject' },
  });
  assert.deepEqual(await remaining(openid), { [PAID]: 1, [REFUNDED]: 0, [SHIPPED]: 0 });
  adapter.subscribeChoice = 'reject';
  adapter.subscribeChoices.clear();
  assert.deepEqual(await ask(adapter, [SHIPPED]), {
    ok: { errMsg: 'requestSubscribeMessage:ok', [SHIPPED]: 'reject' },
  });
  assert.deepEqual(
    adapter.subscribeRequests.map((r) => r.tmplIds),
    [[PAID, REFUNDED], [SHIPPED]],
  );
});

test('a granted send reaches the user; the next one is refused (43101)', async () => {
  const { adapter, openid } = await phone();
  assert.ok('ok' in (await ask(adapter, [SHIPPED])));
  const token = await h.sim('POST', '/cgi-bin/stable_token', {
    grant_type: 'client_credential',
    appid: h.env.WX_APPID,
    secret: h.env.WX_APPSECRET,
  });
  const body = {
    touser: openid,
    template_id: SHIPPED,
    data: {
      thing1: { value: '测试商品' },
      character_string2: { value: 'WX1' },
      time3: { value: '2026-11-30 15:01' },
    },
  };
  const path = `/cgi-bin/message/subscribe/send?access_token=${token.json.access_token}`;
  assert.equal((await h.sim('POST', path, body)).json.errcode, 0);
  assert.equal((await h.sim('POST', path, body)).json.errcode, 43101);
});

test('no ids, more than 3, an unknown id or messages turned off fail as on the phone and grant nothing', async () => {
  const { adapter, openid } = await phone();
  const cases: Array<[string[], number, RegExp]> = [
    [[], 10001, /TmplIds can't be empty/],
    [[PAID, REFUNDED, SHIPPED, PAID], 20003, /count out of max bounds/],
    [[PAID, 'not-a-template'], 20001, /verify the template id exist/],
  ];
  for (const [ids, errCode, message] of cases) {
    const answer = await ask(adapter, ids);
    assert.ok('fail' in answer, JSON.stringify(answer));
    assert.equal(answer.fail.errCode, errCode);
    assert.match(answer.fail.errMsg, /^requestSubscribeMessage:fail /);
    assert.match(answer.fail.errMsg, message);
  }
  adapter.subscribeMessagesOff = true;
  const off = await ask(adapter, [PAID]);
  assert.ok('fail' in off && off.fail.errCode === 20004, JSON.stringify(off));
  assert.deepEqual(await remaining(openid), { [PAID]: 0, [REFUNDED]: 0, [SHIPPED]: 0 });
  assert.equal(adapter.subscribeRequests.filter((r) => r.failure).length, 4);
});
