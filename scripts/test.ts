// Runs every *.test.ts in the repository with node's own test runner (TypeScript through tsx),
// then prints one plain summary line. Usage: npm test [-- <path filter>...]
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const skip = new Set(['node_modules', 'build', '.local', '.git', '.tmp']);

function findTests(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (skip.has(entry)) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) findTests(full, out);
    else if (entry.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = findTests(root)
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    '--test-timeout=300000',
    ...files,
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'test' } },
);
// The spec reporter prints `ℹ pass N` etc. before the details of failing tests, which can be long:
// read the counts from the stream as they pass instead of from the end of the output.
const counts: Record<'pass' | 'fail' | 'skipped', number> = { pass: 0, fail: 0, skipped: 0 };
const count = (line: string) => {
  const m = /^ℹ (pass|fail|skipped) (\d+)\s*$/.exec(line);
  if (m) counts[m[1] as keyof typeof counts] = Number(m[2]);
};
let partial = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk: string) => {
  process.stdout.write(chunk);
  const lines = (partial + chunk).split('\n');
  partial = lines.pop()!;
  lines.forEach(count);
});
child.on('close', (code) => {
  count(partial);
  console.log(`\n${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped`);
  // a run that failed without a count (a file that crashed before reporting) still fails
  process.exit(code ?? 1);
});
