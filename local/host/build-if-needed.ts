// Builds the functions when a bundle is missing or older than the sources it comes from. Several
// stacks (tests, npm start) may ask at once; a lock file keeps one build at a time, because a build
// replaces build/cloudfunctions as a whole.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildFunctions, functionNames } from '../../scripts/build';

const root = resolve(__dirname, '..', '..');
export const DEFAULT_BUILD_DIR = join(root, 'build', 'cloudfunctions');

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

export function needsBuild(buildDir = DEFAULT_BUILD_DIR): boolean {
  const names = functionNames();
  let oldest = Infinity;
  for (const name of names) {
    const bundle = join(buildDir, name, 'index.js');
    if (!existsSync(bundle)) return true;
    oldest = Math.min(oldest, statSync(bundle).mtimeMs);
  }
  if (names.length === 0) return false;
  return Math.max(newestMtime(join(root, 'cloudfunctions')), newestMtime(join(root, 'shared'))) > oldest;
}

async function withBuildLock<T>(fn: () => Promise<T>): Promise<T> {
  const lockDir = join(root, 'build');
  mkdirSync(lockDir, { recursive: true });
  const lock = join(lockDir, '.build.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch {
      // A lock older than two minutes belongs to a build that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline)
        throw new Error(`another build holds ${lock}; remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Returns the names built, or [] when the bundles were already up to date. */
export async function buildIfNeeded(force = false): Promise<string[]> {
  if (!force && !needsBuild()) return [];
  return withBuildLock(async () => {
    if (!force && !needsBuild()) return [];
    return (await buildFunctions()).map((r) => r.name);
  });
}
