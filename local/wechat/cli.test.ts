// `npm run sim -- …` (scripts/sim.ts): every command in-process through runSimCli against a running
// simulator, plus real processes for the exit codes and the error when no simulator runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { runSimCli } from '../../scripts/sim';
import { startHarness, startReceiver, waitUntil, type Receiver, type SimHarness } from './testing';

const ROOT = join(__dirname, '..', '..');
let h: SimHarness;
let rx: Receiver;
const outDir = mkdtempSync(join(tmpdir(), 'wechat-sim-cli-'));
const bundle = join(outDir, 'sim.cjs');

before(async () => {
  // the CLI source compiled once, so a real process start is a plain `node`
  buildSync({
    entryPoints: [join(ROOT, 'scripts', 'sim.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    outfile: bundle,
    logLevel: 'silent',
  });
  h = await startHarness({ refundDelayMs: 1e10 });
  rx = await startReceiver();
});
after(async () => {
  await rx.close();
  await h.close();
  rmSync(outDir, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSimCli(args, { baseUrl: h.url, log: (l) => out.push(l), error: (l) => err.push(l) });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

function processCli(args: string[], url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bundle, ...args],
      { cwd: ROOT, env: { ...process.env, WECHAT_SIM_URL: url }, timeout: 30_000 },
      (e, stdout, stderr) => {
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

test('CLI: user, code, pay, deliveries, notify --replay, refund-complete, fault, clock, mode', async () => {
  const user = await cli('user', '--unionid');
  assert.equal(user.code, 0, user.stderr);
  const openid = /openid\s+(\S+)/.exec(user.stdout)![1];
  assert.match(user.stdout, /unionid\s+\S+/);
  const code = await cli('code', openid);
  assert.match(code.stdout, /^code \w{32} \(valid until .+, one use\)/);
  assert.match((await cli('code', 'oNoSuchUser')).stderr, /404: unknown test user oNoSuchUser/);

  const no = `CLI${Date.now()}`;
  const prepay = await h.v3('POST', '/v3/pay/transactions/jsapi', {
    appid: h.env.WX_APPID,
    mchid: h.env.WXPAY_MCHID,
    description: 'cli',
    out_trade_no: no,
    notify_url: rx.url,
    amount: { total: 250 },
    payer: { openid },
  });
  assert.equal(prepay.status, 200);
  assert.match((await cli('pay', no, '--cancel')).stdout, /requestPayment:fail cancel/);
  const pay = await cli('pay', no);
  assert.equal(pay.code, 0, pay.stderr);
  assert.match(pay.stdout, /requestPayment:ok .*SUCCESS, ¥2\.50, transaction \d{28}/);
  assert.equal((await cli('pay', no)).code, 2, 'paying twice fails like the phone and exits 2');
  assert.match((await cli('pay', 'NOSUCH123')).stderr, /404: no order NOSUCH123/);
  await rx.waitFor(1);
  await waitUntil(
    async () => (await h.sim('GET', `/sim/deliveries?outTradeNo=${no}`)).json[0]?.state === 'delivered',
  );
  const list = await cli('deliveries', '--order', no);
  assert.match(list.stdout, /TRANSACTION\.SUCCESS\s+order .* DELIVERED/);
  assert.match(list.stdout, /scheduled 204/);
  const id = /^(\S+)\s+TRANSACTION/m.exec(list.stdout)![1];
  assert.match((await cli('notify', '--replay', id)).stdout, /replay\s+204/);
  assert.equal(rx.received.length, 2);
  assert.match((await cli('orders')).stdout, new RegExp(`${no}\\s+v3 REFUND|${no}\\s+v3 SUCCESS`));

  await h.v3('POST', '/v3/refund/domestic/refunds', {
    out_trade_no: no,
    out_refund_no: `${no}R`,
    amount: { refund: 250, total: 250, currency: 'CNY' },
  });
  assert.match((await cli('refunds')).stdout, /PROCESSING/);
  assert.match(
    (await cli('refund-complete', `${no}R`, '--status', 'ABNORMAL')).stdout,
    /ABNORMAL \(¥2\.50\)/,
  );
  const twice = await cli('refund-complete', `${no}R`);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /409.*already ABNORMAL/);

  assert.match((await cli('fault', 'jsapi', '5xx', '--count', '2')).stdout, /5xx on jsapi × 2/);
  assert.match(
    (await cli('fault', 'notify', 'delay', '--delay', '100')).stdout,
    /delay on notify × 1 \(delay 100 ms\)/,
  );
  assert.match((await cli('faults')).stdout, /#\d+ 5xx on jsapi, 2 left/);
  const bad = await cli('fault', 'jsapi', 'explode');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /fault kind for jsapi must be one of/);
  assert.match((await cli('fault', 'clear')).stdout, /cleared/);
  assert.deepEqual((await h.sim('GET', '/sim/faults')).json, []);
  assert.match((await cli('clock', '--scale', '50')).stdout, /time scale ×50/);
  assert.equal((await h.sim('GET', '/sim/clock')).json.timeScale, 50);
  assert.match((await cli('clock', '--advance', '60')).stdout, /simulator time/);
  assert.match((await cli('mode', 'certificate')).stdout, /signing mode: certificate/);
  assert.equal((await h.sim('GET', '/sim/mode')).json.signingMode, 'certificate');
  assert.match((await cli('mode', 'bogus')).stderr, /400: signingMode must be one of/);
  const unknown = await cli('frobnicate');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /unknown command frobnicate[\s\S]*usage:/);
  assert.match((await cli('pay')).stderr, /missing <outTradeNo>/);
  assert.match((await cli('reset')).stdout, /reset/);
  assert.deepEqual((await h.sim('GET', '/sim/orders')).json, []);
});

test('CLI as a process: exit 0 with output; exit 1 and a clear error when the simulator is not running', async () => {
  const ok = await processCli(['user'], h.url);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^openid\s+o/);
  // a port nothing listens on
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const down = await processCli(['deliveries'], `http://127.0.0.1:${port}`);
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    new RegExp(
      `cannot reach the WeChat simulator at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\. Is the local stack running\\?`,
    ),
  );
});
