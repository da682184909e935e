// Bundle size per function (issue 16): every deployed bundle against the 700 KiB budget. The bench
// works on a private build (others may be rebuilding build/cloudfunctions while it runs), made once
// per bench run and shared by the cold-start and warm-invocation modules.
import { join, resolve } from 'node:path';
import { BUNDLE_LIMIT_BYTES, buildFunctions, type BuiltFunction } from '../build';
import type { BenchResult } from './types';

const root = resolve(__dirname, '..', '..');
export const BENCH_WORK_DIR = join(root, 'build', 'bench');
export const BENCH_BUILD_DIR = join(BENCH_WORK_DIR, 'functions');

let built: Promise<BuiltFunction[]> | undefined;

/** The bench's build of every function, made on first use. */
export function benchBuild(): Promise<BuiltFunction[]> {
  return (built ??= buildFunctions(BENCH_BUILD_DIR));
}

export async function runBundleBench(): Promise<BenchResult[]> {
  return (await benchBuild()).map((b) => ({
    name: `bundle size: ${b.name}`,
    ratio: BUNDLE_LIMIT_BYTES / b.bytes,
    target: 1,
    detail: `${(b.bytes / 1024).toFixed(0)} KiB ≤ ${BUNDLE_LIMIT_BYTES / 1024} KiB; largest parts ${Object.entries(
      b.packages,
    )
      .sort((x, y) => y[1] - x[1])
      .slice(0, 4)
      .map(([p, n]) => `${p} ${(n / 1024).toFixed(0)}`)
      .join(', ')} KiB; stubbed ${b.stubbed.join(', ')}`,
  }));
}
