// Bundles every cloudfunctions/<name>/index.ts into build/cloudfunctions/<name>/ — the exact folder
// that is deployed: one CommonJS file for Node 18 plus a package.json with no dependencies, so the
// platform installs nothing (installDependency: false) and a cold start reads a single file.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');

export function functionNames(dir = join(root, 'cloudfunctions')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'index.ts')))
    .sort();
}

export async function buildFunctions(
  outRoot = join(root, 'build', 'cloudfunctions'),
): Promise<Array<{ name: string; bytes: number }>> {
  const names = functionNames();
  rmSync(outRoot, { recursive: true, force: true });
  const results = await Promise.all(
    names.map(async (name) => {
      const outDir = join(outRoot, name);
      mkdirSync(outDir, { recursive: true });
      await build({
        entryPoints: [join(root, 'cloudfunctions', name, 'index.ts')],
        outfile: join(outDir, 'index.js'),
        bundle: true,
        platform: 'node',
        target: 'node18',
        format: 'cjs',
        minify: true,
        keepNames: false,
        legalComments: 'none',
        sourcemap: false,
        logLevel: 'error',
        // Optional peers some SDKs probe for at run time; absent on the platform as well.
        external: ['bufferutil', 'utf-8-validate', 'encoding', 'supports-color'],
      });
      writeFileSync(
        join(outDir, 'package.json'),
        JSON.stringify({ name, version: '1.0.0', private: true, main: 'index.js', license: 'MIT' }, null, 2) +
          '\n',
      );
      return { name, bytes: statSync(join(outDir, 'index.js')).size };
    }),
  );
  return results;
}

if (require.main === module) {
  const started = Date.now();
  buildFunctions()
    .then((results) => {
      for (const r of results)
        console.log(`built ${r.name.padEnd(14)} ${(r.bytes / 1024).toFixed(0).padStart(6)} KiB`);
      console.log(`${results.length} function(s) built in ${Date.now() - started} ms → build/cloudfunctions`);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    });
}
