// Signing modes: platform certificate, WeChat Pay public key, and a migration using both — for
// responses and notifications, switchable at run time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, startReceiver, testLocalData, type Receiver, type SimHarness } from './testing';
import { startWechatSimulator } from './server';

let h: SimHarness;
let rx: Receiver;

before(async () => {
  h = await startHarness();
  rx = await startReceiver();
});
after(async () => {
  await rx.close();
  await h.close();
});

async function signedBy(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await h.v3('GET', '/v3/certificates');
    assert.equal(r.status, 200);
    out.push(h.verify(r.headers, r.text));
  }
  return out;
}

test('default is publicKey (WXPAY_PUBLIC_KEY_ID present); switching to certificate and migration at run time', async () => {
  assert.equal((await h.sim('GET', '/sim/mode')).json.signingMode, 'publicKey');
  assert.deepEqual(await signedBy(2), ['publicKey', 'publicKey']);
  const r = await h.v3('GET', '/v3/certificates');
  assert.equal(r.headers['wechatpay-serial'], h.env.WXPAY_PUBLIC_KEY_ID);

  assert.equal(
    (await h.sim('POST', '/sim/mode', { signingMode: 'certificate' })).json.signingMode,
    'certificate',
  );
  assert.deepEqual(await signedBy(2), ['certificate', 'certificate']);

  await h.sim('POST', '/sim/mode', { signingMode: 'migration' });
  const seen = await signedBy(4);
  assert.deepEqual(new Set(seen), new Set(['certificate', 'publicKey']));
  for (let i = 1; i < seen.length; i++) assert.notEqual(seen[i], seen[i - 1], 'alternates');

  const bad = await h.sim('POST', '/sim/mode', { signingMode: 'rsa' });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /certificate, publicKey, migration/);
});

test('notifications follow the mode: in migration both keys sign, each verifiable', async () => {
  await h.sim('POST', '/sim/mode', { signingMode: 'migration' });
  const openid = await h.user();
  const modes = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const no = `M${Date.now()}${i}`;
    await h.v3('POST', '/v3/pay/transactions/jsapi', {
      appid: h.env.WX_APPID,
      mchid: h.env.WXPAY_MCHID,
      description: 'm',
      out_trade_no: no,
      notify_url: rx.url,
      amount: { total: 1 },
      payer: { openid },
    });
    await h.sim('POST', '/sim/pay-order', { outTradeNo: no });
  }
  const got = await rx.waitFor(4);
  for (const n of got) modes.add(h.verify(n.headers, n.body));
  assert.deepEqual(modes, new Set(['certificate', 'publicKey']));
  // the serial tells the receiver which key to use: the public key id or the certificate serial
  for (const n of got)
    assert.match(
      String(n.headers['wechatpay-serial']),
      new RegExp(`^(${h.env.WXPAY_PUBLIC_KEY_ID}|[0-9A-F]{40})$`),
    );
});

test('without WXPAY_PUBLIC_KEY_ID the default is certificate and public-key modes are refused', async () => {
  const { data } = await testLocalData();
  const env = { ...data.env };
  delete env.WXPAY_PUBLIC_KEY_ID;
  const sim = await startWechatSimulator({ localData: { env, keys: data.keys } });
  try {
    const mode = (await fetch(`${sim.url}/sim/mode`).then((r) => r.json())) as { signingMode: string };
    assert.equal(mode.signingMode, 'certificate');
    const r = await fetch(`${sim.url}/sim/mode`, {
      method: 'POST',
      body: JSON.stringify({ signingMode: 'publicKey' }),
    });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /WXPAY_PUBLIC_KEY_ID/);
  } finally {
    await sim.close();
  }
  await assert.rejects(
    startWechatSimulator({ localData: { env, keys: data.keys }, signingMode: 'migration' }),
    /WXPAY_PUBLIC_KEY_ID/,
  );
});
