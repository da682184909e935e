// HOST_BASE64_SHARE, read by the stack for `npm start`: a share from 0 to 1, or a clear error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { base64ShareFromEnv } from './stack';

test('HOST_BASE64_SHARE accepts 0..1 (unset = 0) and refuses anything else with what to write', () => {
  assert.equal(base64ShareFromEnv(undefined), 0);
  assert.equal(base64ShareFromEnv(''), 0);
  assert.equal(base64ShareFromEnv('0.25'), 0.25);
  assert.equal(base64ShareFromEnv('1'), 1);
  for (const bad of ['1.5', '-0.1', 'half', 'NaN'])
    assert.throws(() => base64ShareFromEnv(bad), /HOST_BASE64_SHARE=.* use a number from 0 \(never\) to 1/);
});
