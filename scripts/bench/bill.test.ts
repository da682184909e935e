// The bill bench on a small bill: it writes WeChat's layout, reconciles it through the real use case
// (the run throws unless every row matched), and reports the row; no timing is asserted.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createReadStream } from 'node:fs';
import { test } from 'node:test';
import { gunzipped, parseTradeBill, TradeBillTotals } from '../../shared/ledger/bill-parser';
import { BILL_RATE_TARGET, runBillBench, writeBill } from './bill';

test('the generated bill is a valid ALL trade bill whose summary equals its rows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bill-test-'));
  try {
    const file = join(dir, 'b.gz');
    await writeBill(file, 2500);
    const totals = new TradeBillTotals();
    const out = await parseTradeBill(gunzipped(createReadStream(file)), (r) => totals.add(r));
    assert.equal(out.rows, 2500);
    assert.deepEqual(totals.differences(out.summary), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench row: bill reconcile through reconcileDay, with rate and heap in the detail', async () => {
  const [row] = await runBillBench(20_000);
  assert.equal(row.name, 'bill reconcile: 20,000 rows');
  assert.equal(row.target, BILL_RATE_TARGET);
  assert.ok(row.ratio > 0, row.detail);
  assert.match(row.detail, /rows per CPU-second vs bare gunzip\+split\+sum/);
  assert.match(row.detail, /peak heap growth [\d.]+ MiB \(limit 128\)/);
});
