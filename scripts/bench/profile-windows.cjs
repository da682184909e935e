'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- a --require preload is plain CommonJS */
// Preload (`--require`) for scripts/bench/profile-warm.ts: records the spans the warm bench measures —
// from process.cpuUsage() to process.cpuUsage(previous), how the instance's worker runner and the bare
// server time a handler — in µs of the monotonic clock that V8's profile timestamps share, and writes
// them as windows-<pid>.json next to the CPU profile (--cpu-prof-dir) when the process exits.
const { writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const original = process.cpuUsage;
const spans = [];
let start = null;
process.cpuUsage = function cpuUsage(previous) {
  const now = Number(process.hrtime.bigint() / 1000n);
  if (previous === undefined) start = now;
  else if (start !== null) {
    spans.push(start, now);
    start = null;
  }
  return original.call(process, previous);
};

const dirFlag = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='));
const dir = dirFlag ? dirFlag.slice('--cpu-prof-dir='.length) : tmpdir();
process.on('exit', () => writeFileSync(join(dir, `windows-${process.pid}.json`), JSON.stringify(spans)));
