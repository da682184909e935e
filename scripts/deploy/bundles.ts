// What is actually deployed: build/cloudfunctions/<name>/ as esbuild left it. With installDependency
// false the platform installs nothing, so a bundle that still requires a package from node_modules
// would fail at its first invocation; find that here, statically and by loading it in isolation.
import { execFile } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Optional peers some SDKs probe for inside try/catch; absent on the platform too (see scripts/build.ts). */
export const OPTIONAL_PEERS = ['bufferutil', 'utf-8-validate', 'encoding', 'supports-color'];

export interface BundleInfo {
  name: string;
  dir: string;
  exists: boolean;
  /** Bytes of every file in the folder (what gets zipped). */
  bytes: number;
  files: string[];
  problems: string[];
}

const BUILTINS = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function folderBytes(dir: string): { bytes: number; files: string[] } {
  let bytes = 0;
  const files: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const entry of readdirSync(d)) {
      const full = join(d, entry);
      const st = statSync(full);
      if (st.isDirectory()) walk(full, `${prefix}${entry}/`);
      else {
        bytes += st.size;
        files.push(`${prefix}${entry}`);
      }
    }
  };
  walk(dir, '');
  return { bytes, files: files.sort() };
}

/** Package names a CommonJS bundle still requires at run time (string-literal requires only). */
export function externalRequires(source: string): string[] {
  const found = new Set<string>();
  for (const m of source.matchAll(/\brequire\(\s*(["'`])([^"'`]+)\1\s*\)/g)) {
    const spec = m[2];
    if (
      spec.startsWith('.') ||
      spec.startsWith('/') ||
      BUILTINS.has(spec) ||
      BUILTINS.has(spec.split('/')[0])
    )
      continue;
    const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
    if (!OPTIONAL_PEERS.includes(pkg)) found.add(pkg);
  }
  return [...found].sort();
}

export function inspectBundle(buildDir: string, name: string): BundleInfo {
  const dir = join(buildDir, name);
  const info: BundleInfo = { name, dir, exists: false, bytes: 0, files: [], problems: [] };
  const index = join(dir, 'index.js');
  if (!existsSync(index)) {
    info.problems.push(
      `${name}: ${index} is missing; run npm run build (and check that cloudfunctions/${name}/index.ts exists)`,
    );
    return info;
  }
  info.exists = true;
  Object.assign(info, folderBytes(dir));
  const pkgPath = join(dir, 'package.json');
  if (existsSync(pkgPath)) {
    try {
      const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
      const deps = Object.keys({ ...(pkg.dependencies as object | undefined) });
      if (deps.length > 0)
        info.problems.push(
          `${name}: package.json lists dependencies (${deps.join(', ')}) that installDependency: false never installs; rebuild with npm run build, which bundles them`,
        );
      if (pkg.main !== undefined && pkg.main !== 'index.js')
        info.problems.push(
          `${name}: package.json "main" is ${JSON.stringify(pkg.main)}; the handler index.main needs index.js`,
        );
    } catch {
      info.problems.push(`${name}: package.json is not valid JSON; rebuild with npm run build`);
    }
  }
  if (info.files.includes('node_modules') || info.files.some((f) => f.startsWith('node_modules/'))) {
    info.problems.push(
      `${name}: the folder contains node_modules; the bundle must be one file (delete build/ and run npm run build)`,
    );
  }
  const external = externalRequires(readFileSync(index, 'utf8'));
  if (external.length > 0) {
    info.problems.push(
      `${name}: index.js still requires ${external.join(', ')} from node_modules, which the platform does not install; remove them from esbuild's external list in scripts/build.ts and rebuild`,
    );
  }
  return info;
}

/**
 * Loads the bundle in a fresh process from a copy outside the repository (no node_modules above it)
 * and checks that it exports main: the proof that the folder alone is enough.
 */
export function loadInIsolation(info: BundleInfo, timeoutMs = 20_000): Promise<string | undefined> {
  if (!info.exists) return Promise.resolve(undefined);
  const tmp = mkdtempSync(join(tmpdir(), `deploy-check-${info.name}-`));
  cpSync(info.dir, tmp, { recursive: true });
  const probe =
    "const m=require('./index.js');if(typeof m.main!=='function'){console.error('index.js does not export main');process.exit(3)}";
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', probe],
      {
        cwd: tmp,
        timeout: timeoutMs,
        env: { PATH: process.env.PATH ?? '', HOME: tmp, NODE_ENV: 'production' },
      },
      (err, _stdout, stderr) => {
        rmSync(tmp, { recursive: true, force: true });
        if (!err) return resolve(undefined);
        const first =
          stderr.split('\n').find((l) => /Error|Cannot find|does not export/.test(l)) ??
          stderr.split('\n')[0] ??
          String(err.message);
        resolve(
          `${info.name}: index.js does not load on its own (${first.trim().slice(0, 200)}); the bundle must be self-contained: rebuild with npm run build`,
        );
      },
    );
  });
}
