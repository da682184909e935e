// Timer triggers from cloudbaserc.json: fired on schedule when enabled, or on demand with runTimer().
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildFixtureFunctions, FIXTURE_CLOUDBASERC } from './fixtures/build-fixtures';
import { startFunctionHost, type FunctionHost } from './server';

let dir: string;
let host: FunctionHost;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wxcloud-timers-'));
  await buildFixtureFunctions(join(dir, 'build'), ['tick']);
  host = await startFunctionHost({
    buildDir: join(dir, 'build'),
    cloudbasercPath: FIXTURE_CLOUDBASERC,
    env: {},
    log: () => undefined,
    timers: true,
  });
});

after(async () => {
  await host?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('runTimer() delivers the platform timer event without a caller identity', async () => {
  const out = await host.runTimer('tick');
  assert.equal(out.ok, true);
  if (!out.ok) return;
  const r = out.result as { event: Record<string, unknown>; requestId: string; openid: string | null };
  assert.equal(r.event.Type, 'Timer');
  assert.equal(r.event.TriggerName, 'everySecond');
  assert.match(String(r.event.Time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(r.requestId, out.requestId);
  assert.equal(r.openid, null);
});

test('a per-second schedule fires about once a second, logged as timer invocations', async () => {
  const count = () =>
    host.invocations.recent().filter((r) => r.trigger === 'timer' && r.outcome === 'ok').length;
  const start = count();
  const deadline = Date.now() + 15_000;
  while (count() < start + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok(count() >= start + 3, `fired ${count() - start} times`);
  const times = host.invocations
    .recent()
    .filter((r) => r.trigger === 'timer')
    .map((r) => r.at);
  assert.equal(new Set(times).size, times.length, 'each second fires once');
});
