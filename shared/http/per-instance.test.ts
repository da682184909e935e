import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConfig } from '../config/config';
import { consoleLogger } from '../log';
import { perInstance } from './per-instance';

test('perInstance: built on the first call, the same object afterwards; a new configuration or logger builds anew', () => {
  let builds = 0;
  const depsOf = perInstance((config, log) => ({ config, log, n: ++builds }));
  const config = createConfig({});
  const log = consoleLogger('orders');
  const first = depsOf(config, log);
  assert.equal(depsOf(config, log), first);
  assert.equal(builds, 1);
  const other = createConfig({});
  assert.equal(depsOf(other, log).config, other);
  assert.equal(depsOf(other, consoleLogger('refund')).n, 3);
  assert.equal(builds, 3);
});

test('perInstance: a build that throws is not kept, the next call builds again', () => {
  let calls = 0;
  const depsOf = perInstance(() => {
    if (++calls === 1) throw new Error('not yet');
    return { ok: true };
  });
  const config = createConfig({});
  const log = consoleLogger('orders');
  assert.throws(() => depsOf(config, log), /not yet/);
  assert.deepEqual(depsOf(config, log), { ok: true });
  assert.equal(calls, 2);
});
