// `npm start` (and `npm run demo`) as a user runs it: spawned with ports and LOCAL_DATA_DIR from the environment, waited on
// for its `ready` line, used through the host (the real `login` function, which upserts the user in the
// database), stopped with SIGINT; then started again on the same data directory to show that keys and
// database survive a restart. The functions are built into a private directory (FUNCTIONS_BUILD_DIR)
// so that a concurrent `npm run build` elsewhere cannot pull the bundles away mid-test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_BUILD_DIR, needsBuild } from '../local/host/build-if-needed';
import { buildFunctions } from '../scripts/build';

const root = resolve(__dirname, '..');
let dir: string;

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const s = createServer();
    s.once('error', () => resolveFree(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolveFree(true)));
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

function startStack(env: Record<string, string>): Promise<Started> {
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/start.ts'],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 90 s:\n${out}`));
    }, 90_000);
    const check = () => {
      if (/ready/.test(out)) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolveStart({ child, output: () => out });
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before ready:\n${out}`));
    });
  });
}

function stopWithSigint(child: ChildProcess): Promise<number | null> {
  return new Promise((resolveExit, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('npm start did not stop within 20 s of SIGINT'));
    }, 20_000);
    child.removeAllListeners('exit');
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit(code);
    });
    child.kill('SIGINT');
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxcloud-start-'));
  // npm test has just built: take that login bundle; otherwise build privately.
  try {
    if (needsBuild()) throw new Error('stale');
    mkdirSync(join(dir, 'functions'));
    cpSync(join(DEFAULT_BUILD_DIR, 'login'), join(dir, 'functions', 'login'), { recursive: true });
    readFileSync(join(dir, 'functions', 'login', 'index.js'));
  } catch {
    rmSync(join(dir, 'functions'), { recursive: true, force: true });
    await buildFunctions(join(dir, 'functions'));
  }
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('npm start: ready line, login through the host writing the database, clean SIGINT stop, data reused on the next start', async () => {
  const ports = {
    PORT: await freePort(),
    WECHAT_SIM_PORT: await freePort(),
    CLOUDBASE_EMU_PORT: await freePort(),
  };
  const env = {
    PORT: String(ports.PORT),
    WECHAT_SIM_PORT: String(ports.WECHAT_SIM_PORT),
    CLOUDBASE_EMU_PORT: String(ports.CLOUDBASE_EMU_PORT),
    LOCAL_DATA_DIR: join(dir, 'data'),
    FUNCTIONS_BUILD_DIR: join(dir, 'functions'),
  };
  const hostUrl = `http://127.0.0.1:${ports.PORT}`;
  const appid = () => /WX_APPID=(.*)/.exec(readFileSync(join(dir, 'data', 'env'), 'utf8'))![1];
  const login = async () => {
    const res = await fetch(`${hostUrl}/functions/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wx-openid': 'o-start-test', 'x-wx-appid': appid() },
      body: JSON.stringify({ profile: { nickName: 'start test' } }),
    });
    const body = (await res.json()) as {
      result: {
        ok: boolean;
        data?: { token: string; user: { openid: string; isNew: boolean } };
        error?: unknown;
      };
    };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.result.ok, true, JSON.stringify(body.result));
    return body.result.data!;
  };
  const loginCount = async () => {
    const res = await fetch(`http://127.0.0.1:${ports.CLOUDBASE_EMU_PORT}/emu/dump/users`);
    const docs = (await res.json()) as Array<{ _id: string; loginCount: number }>;
    return docs.find((d) => d._id === 'o-start-test')?.loginCount;
  };

  const first = await startStack(env);
  let secretBefore: string;
  try {
    assert.match(first.output(), new RegExp(`http://127\\.0\\.0\\.1:${ports.PORT}/`));
    assert.ok(existsSync(join(dir, 'data', 'env')), '.local equivalent created on first run');
    secretBefore = /JWT_SECRET=(.*)/.exec(readFileSync(join(dir, 'data', 'env'), 'utf8'))![1]!;
    for (const p of Object.values(ports))
      assert.equal(await portIsFree(p), false, `port ${p} in use while running`);
    const firstLogin = await login();
    assert.equal(firstLogin.user.openid, 'o-start-test');
    assert.equal(firstLogin.user.isNew, true);
    assert.match(firstLogin.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal((await login()).user.isNew, false);
    assert.equal(await loginCount(), 2);
    const products = (await (
      await fetch(`http://127.0.0.1:${ports.CLOUDBASE_EMU_PORT}/emu/dump/products`)
    ).json()) as unknown[];
    assert.ok(products.length > 0, 'catalog seeded');
  } finally {
    assert.equal(await stopWithSigint(first.child), 0);
  }
  for (const p of Object.values(ports)) assert.ok(await portIsFree(p), `port ${p} free after SIGINT`);
  assert.match(first.output(), /stopped/);

  // the next start puts the simulator elsewhere: the env file follows the ports actually bound
  const simPort = await freePort();
  const second = await startStack({ ...env, WECHAT_SIM_PORT: String(simPort) });
  try {
    const envFile = readFileSync(join(dir, 'data', 'env'), 'utf8');
    assert.equal(/JWT_SECRET=(.*)/.exec(envFile)![1], secretBefore, 'keys and env reused');
    assert.equal(
      /WXPAY_BASE_URL=(.*)/.exec(envFile)![1],
      `http://127.0.0.1:${simPort}`,
      'URLs follow the bound ports',
    );
    assert.equal(/WXPAY_NOTIFY_URL=(.*)/.exec(envFile)![1], `${hostUrl}/pay/notify`);
    assert.equal((await login()).user.isNew, false, 'the user persisted across restarts');
    assert.equal(await loginCount(), 3);
    assert.doesNotMatch(second.output(), /seeded/, 'the catalog is not seeded twice');
  } finally {
    assert.equal(await stopWithSigint(second.child), 0);
  }
  for (const p of [ports.PORT, ports.CLOUDBASE_EMU_PORT, simPort])
    assert.ok(await portIsFree(p), `port ${p} free after the second stop`);
});

test('npm run demo: with no stack running it starts its own and walks the 9 steps to a refunded order', async () => {
  // ports nothing listens on, so the demo starts a stack of its own (on ephemeral ports)
  const env = {
    PORT: String(await freePort()),
    WECHAT_SIM_PORT: String(await freePort()),
    CLOUDBASE_EMU_PORT: String(await freePort()),
  };
  const child = spawn(
    process.execPath,
    [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/demo.ts'],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolveExit) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolveExit(c);
    });
  });
  assert.equal(code, 0, out);
  assert.match(out, /starting one on free ports/);
  assert.match(out, /is SUCCESS \(transaction \w+\) without any notification/);
  // all 21 copies are sent at once; on a loaded machine some meet cold instances and time out (WeChat
  // retries those), but the log holds one record and the order one transition
  assert.match(
    out,
    /21 copies delivered concurrently, \d+ acknowledged with 2xx; notification log: applied\n/,
  );
  assert.match(out, /is SUCCESS: one transition/);
  assert.match(out, /is REFUNDED, refunded ¥\d+\.\d\d/);
  assert.match(out, /delivered +attempts: dropped → 204/);
  assert.match(out, /\[9\/9\] Done/);
});
