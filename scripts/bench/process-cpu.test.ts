// The bench's CPU accounting reads /proc: a child that burns a known amount of CPU shows up under its
// parent's tree, and a process that sleeps does not gain any.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { perRequest, treeCpu } from './process-cpu';

test(
  'treeCpu counts a busy child under its parent; perRequest divides the difference',
  { skip: process.platform !== 'linux' && 'reads /proc' },
  async () => {
    // the child burns 300 ms of its own CPU (however long that takes on a busy machine), says so, then sleeps
    const burn =
      "const t = process.cpuUsage(); while ((process.cpuUsage(t).user + process.cpuUsage(t).system) < 300000); console.log('done'); setTimeout(() => {}, 5000);";
    const child = spawn(process.execPath, ['-e', burn], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const before = treeCpu(process.pid)!;
      assert.ok(before, 'this process is readable');
      await new Promise<void>((r) => child.stdout.once('data', () => r()));
      const after = treeCpu(process.pid)!;
      const burnt = after.children - before.children;
      assert.ok(
        burnt >= 280 && burnt <= 1500,
        `the child burnt 300 ms (plus its start-up); counted ${burnt} ms`,
      );
      const per = perRequest(before, after, 10)!;
      assert.equal(per.children, burnt / 10);
      assert.ok(per.self >= 0);
      assert.equal(perRequest(undefined, after, 10), undefined);
      assert.equal(treeCpu(2 ** 22 + 12345), undefined, 'no such process');
    } finally {
      child.kill();
    }
  },
);
