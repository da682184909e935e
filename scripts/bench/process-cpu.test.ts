// The bench's CPU accounting reads /proc: a child that burns a known amount of CPU shows up under its
// parent's tree. Only what is certain is asserted: the child has used at least the CPU it burnt (the
// reading is taken before it starts); how much more its start-up costs depends on the machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { perRequest, treeCpu } from './process-cpu';

/** /proc counts utime and stime in 10 ms ticks, each rounded down. */
const TICKS_LOST = 20;

test(
  'treeCpu counts a busy child under its parent; perRequest divides the difference',
  { skip: process.platform !== 'linux' && 'reads /proc' },
  async () => {
    const before = treeCpu(process.pid);
    assert.ok(before, 'this process is readable');
    // the child burns 300 ms of its own CPU (however long that takes on a busy machine), says so, then sleeps
    const burn =
      "const t = process.cpuUsage(); while ((process.cpuUsage(t).user + process.cpuUsage(t).system) < 300000); console.log('done'); setTimeout(() => {}, 5000);";
    const child = spawn(process.execPath, ['-e', burn], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((r) => child.stdout.once('data', () => r()));
      const after = treeCpu(process.pid)!;
      const burnt = after.children - before.children;
      assert.ok(burnt >= 300 - TICKS_LOST, `the child burnt 300 ms; counted ${burnt} ms`);
      const per = perRequest(before, after, 10)!;
      assert.equal(per.children, burnt / 10);
      assert.equal(per.self, (after.self - before.self) / 10);
      assert.equal(perRequest(undefined, after, 10), undefined);
      assert.equal(perRequest(before, after, 0), undefined);
      assert.equal(treeCpu(2 ** 22 + 12345), undefined, 'no such process');
    } finally {
      child.kill();
    }
  },
);
