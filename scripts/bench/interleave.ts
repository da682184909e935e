// Measures ours against a baseline in alternating slices within one process, so that CPU frequency,
// GC and neighbour noise hit both sides alike. Slices are timed in this process's CPU time
// (process.cpuUsage) rather than wall time: on a shared 2-core machine other processes' scheduling
// would otherwise dominate. The ratio is the median of per-round ratios.
export interface Pair {
  name: string;
  ours: () => unknown;
  baseline: () => unknown;
}

export interface PairResult {
  name: string;
  /** Operations per CPU-second, median over rounds. */
  oursOpsPerSec: number;
  baselineOpsPerSec: number;
  /** Median of per-round (ours ops/s ÷ baseline ops/s). */
  ratio: number;
  /** Interquartile range of the per-round ratios, to judge the noise. */
  ratioIqr: [number, number];
  rounds: number;
  opsPerSlice: number;
}

export interface InterleaveOptions {
  rounds?: number;
  /** Target CPU duration of one slice (one side, one round). */
  sliceMs?: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Runs `fn` n times; awaits only when it returns a promise (so sync work stays sync). */
async function slice(fn: () => unknown, n: number): Promise<number> {
  const t0 = cpuSeconds();
  for (let i = 0; i < n; i++) {
    const r = fn();
    if (r instanceof Promise) await r;
  }
  return Math.max(cpuSeconds() - t0, 1e-6);
}

export async function interleave(pairs: Pair[], opts: InterleaveOptions = {}): Promise<PairResult[]> {
  const rounds = opts.rounds ?? Number(process.env.BENCH_ROUNDS ?? 51);
  const sliceMs = opts.sliceMs ?? 40;
  // Calibrate on the baseline so both sides run the same number of operations per slice.
  const sizes = new Map<string, number>();
  for (const p of pairs) {
    await slice(p.ours, 50);
    await slice(p.baseline, 50);
    let n = 10;
    for (;;) {
      const s = await slice(p.baseline, n);
      if (s * 1000 >= sliceMs / 4 || n >= 1_000_000) {
        sizes.set(p.name, Math.max(5, Math.round((n * sliceMs) / 1000 / s)));
        break;
      }
      n *= 4;
    }
  }
  const per = new Map<string, { ours: number[]; base: number[]; ratio: number[] }>(
    pairs.map((p) => [p.name, { ours: [], base: [], ratio: [] }]),
  );
  for (let r = 0; r < rounds; r++) {
    for (const p of pairs) {
      const n = sizes.get(p.name)!;
      let o: number;
      let b: number;
      if (r % 2 === 0) {
        o = await slice(p.ours, n);
        b = await slice(p.baseline, n);
      } else {
        b = await slice(p.baseline, n);
        o = await slice(p.ours, n);
      }
      const acc = per.get(p.name)!;
      acc.ours.push(n / o);
      acc.base.push(n / b);
      acc.ratio.push(b / o);
    }
  }
  return pairs.map((p) => {
    const acc = per.get(p.name)!;
    return {
      name: p.name,
      oursOpsPerSec: quantile(acc.ours, 0.5),
      baselineOpsPerSec: quantile(acc.base, 0.5),
      ratio: quantile(acc.ratio, 0.5),
      ratioIqr: [quantile(acc.ratio, 0.25), quantile(acc.ratio, 0.75)],
      rounds,
      opsPerSlice: sizes.get(p.name)!,
    };
  });
}
