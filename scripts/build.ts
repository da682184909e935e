// Bundles every cloudfunctions/<name>/index.ts into build/cloudfunctions/<name>/ — the exact folder
// that is deployed: one CommonJS file for Node 18 plus a package.json with no dependencies, so the
// platform installs nothing (installDependency: false) and a cold start reads a single file, and for
// the functions that call WeChat's server APIs a config.json with their 云调用 permissions.
// SDK modules that no function reaches are replaced by loud stubs (scripts/bundle/stubs.ts). The build
// fails on anything esbuild could not resolve — including a require() inside a try/catch, which esbuild
// would otherwise leave to fail at run time — and on a stub rule that no longer matches anything.
import { build, type Metafile } from 'esbuild';
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { functionConfig } from './bundle/function-config';
import { staleStubs } from './bundle/stubs';
import { trimPlugin } from './bundle/trim';

const root = resolve(__dirname, '..');

/** Every deployed bundle stays under this (issue 16): bytes are parse time at every cold start. */
export const BUNDLE_LIMIT_BYTES = 700 * 1024;

/** Optional peers some SDKs probe for inside try/catch at run time; absent on the platform as well. */
export const OPTIONAL_PEERS = ['bufferutil', 'utf-8-validate', 'encoding', 'supports-color'];

const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

export interface BuiltFunction {
  name: string;
  bytes: number;
  /** Bytes in the output per npm package (or per top-level folder of this repository). */
  packages: Record<string, number>;
  /** The stubs and shims this bundle received (module names). */
  stubbed: string[];
}

export function functionNames(dir = join(root, 'cloudfunctions')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'index.ts')))
    .sort();
}

/** What the metafile says is inside one output, grouped by package. */
export function packagesOf(output: Metafile['outputs'][string]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [file, v] of Object.entries(output.inputs)) {
    // a nested copy is named by its chain, e.g. `@cloudbase/node-sdk > axios`
    const chain = [...file.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map((m) => m[1]);
    const key =
      chain.length > 0
        ? chain.join(' > ')
        : file.includes(':')
          ? file
          : file.split('/').slice(0, 2).join('/');
    out[key] = (out[key] ?? 0) + v.bytesInOutput;
  }
  return out;
}

/** `minify: false` gives a readable copy of the same bundle (same stubs), e.g. for reading CPU profiles. */
export interface BuildOptions {
  minify?: boolean;
}

export async function bundleFunction(
  entry: string,
  outfile: string,
  opts: BuildOptions = {},
): Promise<Omit<BuiltFunction, 'name'>> {
  const applied = new Set<string>();
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    minify: opts.minify ?? true,
    keepNames: false,
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    logLevel: 'silent',
    external: OPTIONAL_PEERS,
    plugins: [trimPlugin(applied)],
  });
  const output = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]];
  // esbuild leaves an unresolvable require() inside try/catch in the output, without a word even at
  // warning level; the platform installs nothing, so it could only ever fail at run time.
  const unresolved = output.imports
    .filter((i) => i.external && !BUILTINS.has(i.path) && !OPTIONAL_PEERS.includes(i.path))
    .map((i) => i.path);
  const problems = [
    ...result.warnings.map((w) => `${w.location ? `${w.location.file}:${w.location.line}: ` : ''}${w.text}`),
    ...unresolved.map((p) => `"${p}" cannot be resolved and would be required at run time`),
  ];
  if (problems.length > 0) {
    rmSync(outfile, { force: true });
    throw new Error(
      `build of ${entry} stopped: ${problems.join('; ')}. A module the bundle needs is missing: install it, fix the import, or (for an optional peer probed inside try/catch) add it to OPTIONAL_PEERS in scripts/build.ts.`,
    );
  }
  return { bytes: output.bytes, packages: packagesOf(output), stubbed: [...applied].sort() };
}

export async function buildFunctions(
  outRoot = join(root, 'build', 'cloudfunctions'),
  names = functionNames(),
  opts: BuildOptions = {},
): Promise<BuiltFunction[]> {
  rmSync(outRoot, { recursive: true, force: true });
  const results = await Promise.all(
    names.map(async (name): Promise<BuiltFunction> => {
      const outDir = join(outRoot, name);
      mkdirSync(outDir, { recursive: true });
      const built = await bundleFunction(
        join(root, 'cloudfunctions', name, 'index.ts'),
        join(outDir, 'index.js'),
        opts,
      );
      writeFileSync(
        join(outDir, 'package.json'),
        JSON.stringify({ name, version: '1.0.0', private: true, main: 'index.js', license: 'MIT' }, null, 2) +
          '\n',
      );
      const config = functionConfig(name);
      if (config) writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
      return { name, ...built };
    }),
  );
  // A rule that matched nowhere means an SDK moved the import: the module would ship again unnoticed.
  const stale = staleStubs(results);
  if (names.length === functionNames().length && stale.length > 0)
    throw new Error(
      `build: stub rule(s) for ${stale.map((s) => s.module).join(', ')} matched no import in any function; ` +
        'an SDK update probably moved it. Update the importer in scripts/bundle/stubs.ts (see the metafile) or drop the rule.',
    );
  return results;
}

if (require.main === module) {
  const started = Date.now();
  buildFunctions()
    .then((results) => {
      for (const r of results)
        console.log(
          `built ${r.name.padEnd(14)} ${(r.bytes / 1024).toFixed(0).padStart(6)} KiB${r.bytes > BUNDLE_LIMIT_BYTES ? `  OVER the ${BUNDLE_LIMIT_BYTES / 1024} KiB budget` : ''}`,
        );
      console.log(`${results.length} function(s) built in ${Date.now() - started} ms → build/cloudfunctions`);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
