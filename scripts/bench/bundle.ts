// Bundle size, cold load (docs/numbers.md#rows-and-targets). Cold load = `require` + first call, timed
// inside a fresh process each time (node's own start-up is the same for both sides and left out):
// the deployed bundle against the same function compiled with its npm packages left in node_modules
// and the classic eager prelude of a CloudBase function (wx-server-sdk, axios, jsonwebtoken, xml2js).
// The first call is a GET on the notification trigger: it validates the whole configuration and parses
// the keys, then answers 400 without any network, so both sides do exactly the same work.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { buildFunctions } from '../build';
import { ensureLocalData } from '../../local/setup/local-data';
import { functionSdkEnv } from '../../local/cloudbase/sdk-env';
import type { BenchResult } from './types';

const root = resolve(__dirname, '..', '..');
const MiB = 1024 * 1024;
export const BUNDLE_LIMIT_BYTES = 1.5 * MiB;

export interface BundleBenchOptions {
  /** Fresh processes per side (≥ 15 for the cold-start row of docs/numbers.md). */
  runs?: number;
  /** Functions whose cold load is measured (their first call must be the no-I/O trigger GET). */
  coldFunctions?: string[];
  workDir?: string;
}

const PRELUDE = [
  'const __cloud = require("wx-server-sdk");',
  '__cloud.init({ env: __cloud.DYNAMIC_CURRENT_ENV });',
  'require("axios"); require("jsonwebtoken"); require("xml2js");',
].join('\n');

const PROBE = `
const t0 = process.hrtime.bigint();
const m = require(process.argv[1]);
Promise.resolve(m.main({ path: process.argv[2], httpMethod: 'GET', headers: {}, queryStringParameters: {}, body: '', isBase64Encoded: false }, {}))
  .then((r) => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    process.stdout.write(JSON.stringify({ ms, status: r && r.statusCode }));
  })
  .catch((e) => { console.error(e && e.message); process.exit(2); });
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function coldLoad(entry: string, path: string, env: Record<string, string>): Promise<number> {
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', PROBE, entry, path], {
    env,
    timeout: 60_000,
    cwd: root,
  });
  const r = JSON.parse(stdout) as { ms: number; status: number };
  if (r.status !== 400)
    throw new Error(
      `cold-load probe of ${entry} answered ${r.status}, expected 400 (GET on a notification trigger); is the configuration valid?`,
    );
  return r.ms;
}

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

export async function runBundleBench(opts: BundleBenchOptions = {}): Promise<BenchResult[]> {
  const runs = opts.runs ?? 21;
  const workDir = opts.workDir ?? join(root, 'build', 'bench');
  const bundled = join(workDir, 'functions');
  // A private build: others may be rebuilding build/cloudfunctions while this runs.
  const built = await buildFunctions(bundled);
  const sizes = built.map((b) => ({ name: b.name, bytes: folderBytes(join(bundled, b.name)) }));
  const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const results: BenchResult[] = [
    {
      name: 'bundle size (largest function)',
      ratio: BUNDLE_LIMIT_BYTES / largest.bytes,
      target: 1,
      detail: `${largest.name} ${(largest.bytes / MiB).toFixed(2)} MiB ≤ 1.5 MiB; all: ${sizes.map((s) => `${s.name} ${(s.bytes / 1024).toFixed(0)} KiB`).join(', ')}`,
    },
  ];

  const local = await ensureLocalData(join(workDir, 'local-data'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? workDir,
    ...local.env,
    ...functionSdkEnv('http://127.0.0.1:9'),
  };
  for (const name of opts.coldFunctions ?? ['payNotify']) {
    const unbundledDir = join(workDir, 'unbundled', name);
    mkdirSync(unbundledDir, { recursive: true });
    // Inside the repository so that require() finds the packages in node_modules.
    await build({
      entryPoints: [join(root, 'cloudfunctions', name, 'index.ts')],
      outfile: join(unbundledDir, 'index.js'),
      bundle: true,
      packages: 'external',
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      banner: { js: PRELUDE },
      logLevel: 'error',
    });
    writeFileSync(
      join(unbundledDir, 'package.json'),
      JSON.stringify({ name, private: true, main: 'index.js' }),
    );
    const path = name === 'refundNotify' ? '/refund/notify' : '/pay/notify';
    const ours: number[] = [];
    const base: number[] = [];
    // Warm the file cache for both, then alternate so that machine noise hits both sides alike.
    await coldLoad(join(bundled, name, 'index.js'), path, env);
    await coldLoad(join(unbundledDir, 'index.js'), path, env);
    for (let i = 0; i < runs; i++) {
      ours.push(await coldLoad(join(bundled, name, 'index.js'), path, env));
      base.push(await coldLoad(join(unbundledDir, 'index.js'), path, env));
    }
    const o = median(ours);
    const b = median(base);
    results.push({
      name: `cold load ${name} (bundled vs node_modules)`,
      ratio: b / o,
      target: 2,
      detail: `median of ${runs} fresh processes: bundled ${o.toFixed(1)} ms vs unbundled ${b.toFixed(1)} ms = ${(o / b).toFixed(2)}× (target ≤ 0.5×)`,
    });
  }
  return results;
}
