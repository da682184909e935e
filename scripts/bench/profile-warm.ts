// Profiles the warm-invocation bench (issue 16): the load of `npm run bench -- warm` for the rows named
// on the command line, with --cpu-prof on the bare baseline process and on the host's function
// instances, and each process's measured spans (profile-windows.cjs). Profiles land in
// build/bench/profiles/<label>/ as CPU.*.<pid>.*.cpuprofile with windows-<pid>.json beside them; read
// them with profile-summary.ts, e.g. `… profile-summary.ts <profile> 0 --windows <windows> <warm-up>`.
//   npx tsx scripts/bench/profile-warm.ts <label> [--readable] [payNotify|createPayment|orders.get …]
// --readable profiles an unminified build of the same bundles (same stubs), whose module comments
// let profile-summary.ts name the npm package of every sampled function. PROFILE_WARMUP (default 300)
// and PROFILE_PER_ROUND (default 400, two rounds) set the load.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildFunctions } from '../build';
import { BENCH_WORK_DIR } from './bundle';
import { startBenchStack } from './stack';
import { runWarmBench, writeNoopBundle } from './warm';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const label = args[0] ?? 'run';
  const readable = args.includes('--readable');
  const only = args.slice(1).filter((a) => !a.startsWith('--'));
  const dir = join(BENCH_WORK_DIR, 'profiles', label);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const buildDir = join(BENCH_WORK_DIR, readable ? 'functions-readable' : 'functions-profiled');
  await buildFunctions(buildDir, undefined, { minify: !readable });
  writeNoopBundle(buildDir);
  const flags = [
    '--cpu-prof',
    `--cpu-prof-dir=${dir}`,
    '--cpu-prof-interval=100',
    '--require',
    join(__dirname, 'profile-windows.cjs'),
  ];
  process.env.BENCH_WORKER_EXEC_ARGV = JSON.stringify(flags);
  process.env.BENCH_BARE_NODE_ARGS = JSON.stringify(flags);
  const warmup = Number(process.env.PROFILE_WARMUP ?? 300);
  const stack = await startBenchStack(join(BENCH_WORK_DIR, 'profile-work'), buildDir);
  try {
    const results = await runWarmBench(stack, {
      only: only.length ? only : undefined,
      hostOverhead: false,
      perRound: Number(process.env.PROFILE_PER_ROUND ?? 400),
      rounds: 2,
      warmup,
    });
    for (const r of results) console.log(`${r.name}  ${r.ratio.toFixed(3)}  ${r.detail}`);
  } finally {
    await stack.close();
  }
  console.log(`profiles and windows in ${dir} (skip the first ${warmup} windows: the warm-up)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
