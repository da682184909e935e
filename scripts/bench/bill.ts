// Issue 15's bench: reconciling a 1,000,000-row ALL trade bill (gzip, WeChat's documented layout)
// against as many local payments, through the real use case (reconcileDay: parser, key index,
// comparison, second local pass), versus a bare pass over the same file that only gunzips, splits
// lines and sums one amount column. Rates are rows per CPU-second of the process. Target: ≥ 0.5× the
// bare rate, and peak JS heap growth < 128 MiB.
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGunzip, createGzip } from 'node:zlib';
import { gunzipped } from '../../shared/ledger/bill-parser';
import { TRADE_BILL_ALL_COLUMNS, TRADE_BILL_ALL_SUMMARY } from '../../shared/ledger/bill-format';
import type { BillSource } from '../../shared/ledger/bill-source';
import { reconcileDay, type LocalPayment } from '../../shared/ledger/reconcile-day';
import type { ReconciliationDoc } from '../../shared/ledger/reconciliation';
import { fenToYuan } from '../../shared/ledger/yuan';
import type { BenchResult } from './types';

export const BILL_RATE_TARGET = 0.5;
export const BILL_HEAP_LIMIT_MIB = 128;
const DATE = '2026-11-29';

const outTradeNo = (i: number) => `T20261129${String(i).padStart(12, '0')}`;
const transactionId = (i: number) => `4200002026112900${String(i).padStart(12, '0')}`;
const amountOf = (i: number) => 1 + ((i * 7919) % 99_999);

/** Writes a bill of `rows` payments in WeChat's layout, gzip, streamed (never held in memory). */
export async function writeBill(file: string, rows: number): Promise<void> {
  const gzip = createGzip();
  const done = gzip.pipe(createWriteStream(file));
  const write = async (text: string) => {
    if (!gzip.write(text)) await once(gzip, 'drain');
  };
  await write(`${TRADE_BILL_ALL_COLUMNS.join(',')}\r\n`);
  let total = 0;
  let batch = '';
  for (let i = 0; i < rows; i++) {
    const fen = amountOf(i);
    total += fen;
    const sec = i % 86_400;
    const time = `${DATE} ${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
    const y = fenToYuan(fen);
    batch +=
      [
        time,
        'wx8888888888888888',
        '1900000109',
        '0',
        '',
        transactionId(i),
        outTradeNo(i),
        'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
        'JSAPI',
        'SUCCESS',
        'OTHERS',
        'CNY',
        y,
        '0.00',
        '0',
        '0',
        '0.00',
        '0.00',
        '',
        '',
        'Bench order',
        '',
        '0.00000',
        '0.60%',
        y,
        '0.00',
        '',
      ]
        .map((f) => `\`${f}`)
        .join(',') + '\r\n';
    if (batch.length > 1 << 16) {
      await write(batch);
      batch = '';
    }
  }
  const t = fenToYuan(total);
  await write(
    `${batch}${TRADE_BILL_ALL_SUMMARY.join(',')}\r\n\`${rows},\`${t},\`0.00,\`0.00,\`0.00000,\`${t},\`0.00\r\n`,
  );
  gzip.end();
  await once(done, 'finish');
}

/** The bare pass: gunzip, split lines, sum the 订单金额 column. */
async function barePass(file: string): Promise<{ rows: number; fen: number }> {
  let rest = '';
  let rows = 0;
  let fen = 0;
  const gunzip = createReadStream(file).pipe(createGunzip());
  gunzip.setEncoding('utf8');
  for await (const chunk of gunzip as AsyncIterable<string>) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      if (line.charCodeAt(0) !== 96) continue;
      const f = line.split(',');
      if (f.length < 25) continue;
      fen += Math.round(Number(f[24].slice(1)) * 100);
      rows++;
    }
  }
  return { rows, fen };
}

/**
 * The day's orders in pages of 1000, as the database adapter hands them over. Their ids are
 * materialized before timing (the database holds them; formatting synthetic ids is not our cost).
 */
function localSource(rows: number): () => AsyncIterable<LocalPayment[]> {
  const ids = Array.from({ length: rows }, (_, i) => outTradeNo(i));
  const txids = Array.from({ length: rows }, (_, i) => transactionId(i));
  const paidAt = new Date(`${DATE}T12:00:00+08:00`);
  return async function* () {
    for (let start = 0; start < rows; start += 1000) {
      const page: LocalPayment[] = [];
      for (let i = start; i < Math.min(rows, start + 1000); i++)
        page.push({
          _id: ids[i],
          amountFen: amountOf(i),
          transactionId: txids[i],
          status: 'SUCCESS',
          paidAt,
        });
      yield await Promise.resolve(page);
    }
  };
}

/** Peak heapUsed above the level at start, sampled while `run` goes. */
async function withHeapPeak<T>(
  run: () => Promise<T>,
): Promise<{ value: T; heapMiB: number; externalMiB: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage();
  let peakHeap = base.heapUsed;
  let peakBuffers = base.arrayBuffers;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
  };
  const timer = setInterval(sample, 10);
  try {
    const value = await run();
    sample();
    return {
      value,
      heapMiB: (peakHeap - base.heapUsed) / 2 ** 20,
      externalMiB: (peakBuffers - base.arrayBuffers) / 2 ** 20,
    };
  } finally {
    clearInterval(timer);
  }
}

export async function runBillBench(rows = 1_000_000): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-bill-'));
  try {
    const file = join(dir, 'bill.gz');
    await writeBill(file, rows);
    const source: BillSource = {
      fetch: (kind) =>
        Promise.resolve(
          kind === 'trade'
            ? {
                ok: true as const,
                open: () => gunzipped(createReadStream(file)),
                dispose: () => Promise.resolve(),
              }
            : { ok: false as const, code: 'NOT_IN_BENCH', message: 'trade bill only' },
        ),
    };
    let stored: ReconciliationDoc | undefined;
    const deps = {
      bills: source,
      paymentsOfDay: localSource(rows),
      refundsOfDay: async function* () {},
      findOrder: () => Promise.resolve(undefined),
      findRefund: () => Promise.resolve(undefined),
      repairPayment: () => Promise.resolve('missing'),
      reconciliations: {
        get: () => Promise.resolve(undefined),
        put: (doc: ReconciliationDoc) => {
          stored = doc;
          return Promise.resolve();
        },
      },
      clock: () => new Date(),
    };

    // Warm both paths on the file once (JIT, page cache), then time them alternately.
    await barePass(file);
    // CPU time of the whole process (main thread and zlib's thread pool), not wall time: on a shared
    // machine the wall clock of a 10-second run measures the neighbours as much as the code.
    const cpuMs = () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    };
    const bareTimes: number[] = [];
    const oursTimes: number[] = [];
    const wall = { bare: Infinity, ours: Infinity };
    let heap = { heapMiB: 0, externalMiB: 0 };
    for (let round = 0; round < 2; round++) {
      let t = cpuMs();
      let w = performance.now();
      const bare = await barePass(file);
      bareTimes.push(cpuMs() - t);
      wall.bare = Math.min(wall.bare, performance.now() - w);
      if (bare.rows !== rows) throw new Error(`bare pass read ${bare.rows} rows of ${rows}`);
      t = cpuMs();
      w = performance.now();
      const measured = await withHeapPeak(() => reconcileDay(deps, DATE));
      oursTimes.push(cpuMs() - t);
      wall.ours = Math.min(wall.ours, performance.now() - w);
      heap = {
        heapMiB: Math.max(heap.heapMiB, measured.heapMiB),
        externalMiB: Math.max(heap.externalMiB, measured.externalMiB),
      };
      const doc = measured.value;
      if (doc.status !== 'matched' || doc.wechat.payments !== rows || doc.local.payments !== rows)
        throw new Error(
          `bench reconciliation did not match: ${JSON.stringify({ ...doc, discrepancies: doc.discrepancies.slice(0, 3) })}`,
        );
    }
    void stored;
    const bareRate = rows / (Math.min(...bareTimes) / 1000);
    const oursRate = rows / (Math.min(...oursTimes) / 1000);
    const heapOk = heap.heapMiB < BILL_HEAP_LIMIT_MIB;
    const rate = oursRate / bareRate;
    return [
      {
        name: `bill reconcile: ${rows.toLocaleString('en-US')} rows`,
        // A heap over the limit fails the row whatever the speed.
        ratio: heapOk ? rate : 0,
        target: BILL_RATE_TARGET,
        detail:
          `${Math.round(oursRate).toLocaleString('en-US')} rows per CPU-second vs bare gunzip+split+sum ${Math.round(bareRate).toLocaleString('en-US')} (${rate.toFixed(2)}×; wall ${(wall.ours / 1000).toFixed(1)} s vs ${(wall.bare / 1000).toFixed(1)} s); ` +
          `peak heap growth ${heap.heapMiB.toFixed(1)} MiB (limit ${BILL_HEAP_LIMIT_MIB}${heapOk ? '' : ' — EXCEEDED'}), typed-array index ${heap.externalMiB.toFixed(1)} MiB off-heap`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
