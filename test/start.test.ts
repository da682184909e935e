// `npm start` as a user runs it: spawned with ports and LOCAL_DATA_DIR from the environment, waited on
// for its `ready` line, used through the host, stopped with SIGINT; then started again on the same
// data directory to show that keys and database survive a restart.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { buildFixtureFunctions } from '../local/host/fixtures/build-fixtures';

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
  const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/start.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line within 90 s:\n${out}`));
    }, 90_000);
    const check = () => {
      if (/ready/.test(out)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolveStart({ child, output: () => out });
      }
    };
    child.stdout!.on('data', check);
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
  await buildFixtureFunctions(join(dir, 'functions'), ['dbprobe']);
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('npm start: ready line, a function using the database, clean SIGINT stop, data reused on the next start', async () => {
  const ports = { PORT: await freePort(), WECHAT_SIM_PORT: await freePort(), CLOUDBASE_EMU_PORT: await freePort() };
  const env = {
    PORT: String(ports.PORT),
    WECHAT_SIM_PORT: String(ports.WECHAT_SIM_PORT),
    CLOUDBASE_EMU_PORT: String(ports.CLOUDBASE_EMU_PORT),
    LOCAL_DATA_DIR: join(dir, 'data'),
    FUNCTIONS_BUILD_DIR: join(dir, 'functions'),
  };
  const hostUrl = `http://127.0.0.1:${ports.PORT}`;
  const probe = async () => {
    const res = await fetch(`${hostUrl}/functions/dbprobe`, { method: 'POST', headers: { 'x-wx-openid': 'o-start' }, body: '{"tag":"start"}' });
    assert.equal(res.status, 200);
    return ((await res.json()) as { result: { visits: number; activeProducts: number } }).result;
  };

  const first = await startStack(env);
  let secretBefore: string;
  try {
    assert.match(first.output(), new RegExp(`http://127\\.0\\.0\\.1:${ports.PORT}/`));
    assert.ok(existsSync(join(dir, 'data', 'env')), '.local equivalent created on first run');
    secretBefore = /JWT_SECRET=(.*)/.exec(readFileSync(join(dir, 'data', 'env'), 'utf8'))![1]!;
    for (const p of Object.values(ports)) assert.equal(await portIsFree(p), false, `port ${p} in use while running`);
    const r1 = await probe();
    assert.equal(r1.visits, 1);
    assert.ok(r1.activeProducts > 0);
    assert.equal((await probe()).visits, 2);
  } finally {
    assert.equal(await stopWithSigint(first.child), 0);
  }
  for (const p of Object.values(ports)) assert.ok(await portIsFree(p), `port ${p} free after SIGINT`);
  assert.match(first.output(), /stopped/);

  const second = await startStack(env);
  try {
    assert.equal(/JWT_SECRET=(.*)/.exec(readFileSync(join(dir, 'data', 'env'), 'utf8'))![1], secretBefore, 'keys and env reused');
    assert.equal((await probe()).visits, 3, 'the database persisted across restarts');
    assert.doesNotMatch(second.output(), /seeded/, 'the catalog is not seeded twice');
  } finally {
    assert.equal(await stopWithSigint(second.child), 0);
  }
  for (const p of Object.values(ports)) assert.ok(await portIsFree(p), `port ${p} free after the second stop`);
});
