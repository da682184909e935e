// npm run bench: runs every benchmark module, prints a table and writes build/bench.json
// `{ results: [{ name, ratio, target, detail }] }` (docs/numbers.md#benchjson). Usage:
//   npm run bench [-- <module name>...] [--check]   (--check: exit 1 when a ratio misses its target)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCryptoBench } from './bench/crypto';
import { BENCH_BUILD_DIR, BENCH_WORK_DIR, benchBuild, runBundleBench } from './bench/bundle';
import { runColdBench } from './bench/cold';
import { startBenchStack, type BenchStack } from './bench/stack';
import { runWarmBench, writeNoopBundle } from './bench/warm';
import { runBillBench } from './bench/bill';
import type { BenchModule, BenchResult } from './bench/types';

/** Runs `fn` against a fresh local stack (emulator, simulator, host, bare baseline) on the bench's build. */
async function withStack<T>(fn: (stack: BenchStack, names: string[]) => Promise<T>): Promise<T> {
  const names = (await benchBuild()).map((b) => b.name);
  writeNoopBundle(BENCH_BUILD_DIR);
  const stack = await startBenchStack(BENCH_WORK_DIR, BENCH_BUILD_DIR);
  try {
    return await fn(stack, names);
  } finally {
    await stack.close();
  }
}

/** Add new benchmark modules here. */
export const BENCH_MODULES: BenchModule[] = [
  { name: 'crypto', run: () => runCryptoBench() },
  { name: 'bundle', run: () => runBundleBench() },
  {
    name: 'cold',
    run: () => withStack((stack, names) => runColdBench(stack, BENCH_BUILD_DIR, BENCH_WORK_DIR, names)),
  },
  { name: 'warm', run: () => withStack((stack) => runWarmBench(stack)) },
  { name: 'storm', run: () => import('./bench/storm').then((m) => m.runStormBench()) },
  { name: 'bill', run: () => runBillBench() },
];

export function formatTable(results: BenchResult[]): string {
  const w = Math.max(4, ...results.map((r) => r.name.length));
  const lines = [`${'name'.padEnd(w)}  ratio   target  ok   detail`];
  for (const r of results)
    lines.push(
      `${r.name.padEnd(w)}  ${r.ratio.toFixed(3).padStart(5)}   ${r.target.toFixed(2).padStart(5)}   ${r.ratio >= r.target ? 'yes' : 'NO '}  ${r.detail}`,
    );
  return lines.join('\n');
}

export async function runBenchmarks(names: string[] = []): Promise<BenchResult[]> {
  const modules = BENCH_MODULES.filter((m) => names.length === 0 || names.includes(m.name));
  if (modules.length === 0)
    throw new Error(
      `no benchmark named ${names.join(', ')}; known: ${BENCH_MODULES.map((m) => m.name).join(', ')}`,
    );
  const results: BenchResult[] = [];
  for (const m of modules) {
    const started = Date.now();
    const rs = await m.run();
    console.error(
      `bench ${m.name}: ${rs.length} result(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    results.push(...rs);
  }
  return results;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  runBenchmarks(args.filter((a) => !a.startsWith('--')))
    .then((results) => {
      console.log(formatTable(results));
      const out = join(resolve(__dirname, '..'), 'build', 'bench.json');
      mkdirSync(join(out, '..'), { recursive: true });
      writeFileSync(out, JSON.stringify({ results }, null, 2) + '\n');
      console.log(`wrote ${out}`);
      if (check && results.some((r) => r.ratio < r.target)) process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
