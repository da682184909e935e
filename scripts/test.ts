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
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, '--test-timeout=300000', ...files],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_ENV: 'test' } },
);
let pass = 0;
let fail = 0;
let skipped = 0;
let tail = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4000);
});
child.on('close', (code) => {
  const num = (label: string) => Number(/ℹ (?:\w+ )?(\d+)/.exec(tail.split('\n').find((l) => l.startsWith(`ℹ ${label} `)) ?? '')?.[1] ?? 0);
  pass = num('pass');
  fail = num('fail');
  skipped = num('skipped');
  console.log(`\n${pass} passed, ${fail} failed, ${skipped} skipped`);
  process.exit(code ?? 1);
});
