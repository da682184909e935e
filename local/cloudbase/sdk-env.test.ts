// Function code with no local branch reaches the emulator through functionSdkEnv alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from './server';
import { functionSdkEnv, openLocalDatabase } from './sdk-env';

const repoRoot = resolve(__dirname, '../..');

// What a cloud function does: wx-server-sdk with DYNAMIC_CURRENT_ENV, and node-sdk with SYMBOL_CURRENT_ENV.
const childCode = `
const cloud = require('wx-server-sdk');
const tcb = require('@cloudbase/node-sdk');
// Timed from here: loading the SDKs is the host's cold start, not the emulator round trips.
const t0 = Date.now();
cloud.init({ env: cloud.DYNAMIC_CURRENT_ENV });
const db = cloud.database();
(async () => {
  const added = await db.collection('things').add({ data: { from: 'wx-server-sdk', at: db.serverDate() } });
  const got = await db.collection('things').doc(added._id).get();
  let missing;
  try { await db.collection('missing').get(); } catch (e) { missing = { errCode: e.errCode, errMsg: e.errMsg }; }
  const ndb = tcb.init({ env: tcb.SYMBOL_CURRENT_ENV }).database();
  const added2 = await ndb.collection('things').add({ from: 'node-sdk' });
  const total = (await ndb.collection('things').count()).total;
  process.stdout.write(JSON.stringify({ id: added._id, got: got.data, missing, id2: added2.id, total, ms: Date.now() - t0 }));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function runChild(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['-e', childCode], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

let emu: CloudbaseEmulator;
before(async () => {
  emu = await startCloudbaseEmulator({ collections: ['things'] });
});
after(async () => {
  await emu.close();
});

test('a child process with only functionSdkEnv reaches the emulator with both SDKs, quickly', async () => {
  const started = Date.now();
  const { code, stdout, stderr } = await runChild(functionSdkEnv(emu.url));
  const elapsed = Date.now() - started;
  assert.equal(code, 0, `child failed: ${stderr}`);
  const out = JSON.parse(stdout);
  // wx-server-sdk answers doc().get() with the document itself
  assert.equal(out.got._id, out.id);
  assert.equal(out.got.from, 'wx-server-sdk');
  assert.ok(Math.abs(Date.parse(out.got.at) - Date.now()) < 60_000, 'serverDate became the server time');
  assert.equal(out.missing.errCode, -502005, 'collection not found surfaces as -502005');
  assert.equal(out.total, 2);
  assert.ok(out.ms < 3000, `SDK calls took ${out.ms} ms`);
  console.log(`child: ${out.ms} ms of SDK work, ${elapsed} ms with node start`);

  // And the data really is in the emulator, seen from another client.
  const db = openLocalDatabase(emu.url);
  const { data } = await db.collection('things').where({ from: 'node-sdk' }).get();
  assert.deepEqual(
    data.map((d: { _id: string }) => d._id),
    [out.id2],
  );
});

test('functionSdkEnv names the emulator endpoint and the local env id', () => {
  const env = functionSdkEnv(`${emu.url}/`);
  assert.equal(JSON.parse(env.TCB_CONTEXT_CNFG).URL, `${emu.url}/admin`);
  assert.equal(env.TCB_ENV, 'local');
  assert.ok(env.TCB_CONTEXT_KEYS.split(',').includes('TCB_ENV'));
});
