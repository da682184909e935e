// The registry of function pools: which functions have a built bundle, and one instance pool per
// function, created on its first call with the limits of cloudbaserc.json.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, type HostConfig } from './functions-config';
import { InstancePool, type PoolOptions } from './instance-pool';

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,59}$/;

export type PoolLimits = Omit<PoolOptions, 'spec' | 'bundlePath' | 'env' | 'onOutput'>;

export class FunctionPools {
  private readonly pools = new Map<string, InstancePool>();

  constructor(
    private readonly opts: {
      buildDir: string;
      config: HostConfig;
      limits: PoolLimits;
      env: (functionName: string) => Record<string, string>;
      onOutput: (functionName: string, line: string, stream: 'stdout' | 'stderr') => void;
    },
  ) {}

  /** Where a function's bundle should be. */
  expectedBundle(name: string): string {
    return join(this.opts.buildDir, name, 'index.js');
  }

  bundlePath(name: string): string | undefined {
    // A function with live instances was found before: skip the checks on the hot path.
    const pool = this.pools.get(name);
    if (pool?.size) return pool.bundlePath;
    if (!NAME.test(name)) return undefined;
    const p = this.expectedBundle(name);
    return existsSync(p) ? p : undefined;
  }

  /** The pool of a built function; undefined when it has no bundle. */
  pool(name: string): InstancePool | undefined {
    const path = this.bundlePath(name);
    if (!path) return undefined;
    let pool = this.pools.get(name);
    if (!pool) {
      const spec = this.opts.config.functions.get(name) ?? {
        name,
        timeoutMs: DEFAULT_TIMEOUT_S * 1000,
        memoryMb: DEFAULT_MEMORY_MB,
        timers: [],
      };
      pool = new InstancePool({
        ...this.opts.limits,
        spec,
        bundlePath: path,
        env: () => this.opts.env(name),
        onOutput: (line, stream) => this.opts.onOutput(name, line, stream),
      });
      this.pools.set(name, pool);
    }
    return pool;
  }

  /** Names of the functions with a built bundle. */
  names(): string[] {
    const names = new Set<string>(this.opts.config.functions.keys());
    try {
      for (const entry of readdirSync(this.opts.buildDir)) names.add(entry);
    } catch {
      // no build yet
    }
    return [...names].filter((n) => this.bundlePath(n) !== undefined).sort();
  }

  /** Keeps `count` instances of each named, built function started. */
  keepWarm(names: string[], count: number): void {
    for (const name of names) this.pool(name)?.keepWarm(count);
  }

  /** Per function with a pool: instances started, idle, calls queued. */
  stats(): Record<string, ReturnType<InstancePool['stats']>> {
    return Object.fromEntries([...this.pools].map(([name, pool]) => [name, pool.stats()]));
  }

  recycle(): void {
    for (const pool of this.pools.values()) pool.recycle();
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close()));
  }
}
