// What every benchmark module reports (docs/numbers.md#benchjson: build/bench.json `{ results: [...] }`).
export interface BenchResult {
  name: string;
  /** Ours relative to the baseline measured in the same run; ≥ target passes. Lower-is-better metrics report baseline/ours. */
  ratio: number;
  target: number;
  detail: string;
}

/** One entry of scripts/bench.ts: add a module by appending to its list. */
export interface BenchModule {
  name: string;
  run(): Promise<BenchResult[]>;
}
