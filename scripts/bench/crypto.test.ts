// Keeps the crypto benchmark runnable: a very short run must produce well-formed results for all
// three measurements, with both sides doing real work (the bench itself cross-checks their output).
// Speed is never a pass condition here: the ratios themselves are the bench's to report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCryptoBench, CRYPTO_TARGET } from './crypto';
import { formatTable } from '../bench';

test('runCryptoBench (3 short rounds) reports the three crypto ratios of docs/numbers.md', async () => {
  const results = await runCryptoBench({ rounds: 3, sliceMs: 5 });
  assert.deepEqual(
    results.map((r) => r.name),
    [
      'crypto: sign a v3 request (Authorization header)',
      'crypto: wx.requestPayment parameters',
      'crypto: verify + decrypt a notification',
    ],
  );
  for (const r of results) {
    assert.equal(r.target, CRYPTO_TARGET);
    // how fast is the bench's business, not the test's: only that both sides were measured
    assert.ok(Number.isFinite(r.ratio) && r.ratio > 0, `${r.name}: ratio ${r.ratio}`);
    assert.match(r.detail, /^ours \d+ vs node:crypto \d+ ops per CPU-second/);
  }
  const table = formatTable(results);
  assert.equal(table.split('\n').length, 4);
  assert.match(table, /verify \+ decrypt a notification\s+\d\.\d{3}\s+0\.95/);
});
