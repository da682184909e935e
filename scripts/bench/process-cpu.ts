// CPU time (user + system) of a process and of its descendants, read from /proc. The throughput bench
// uses it to show where each side's CPU goes per request: on a saturated 2-core machine the ratio of
// throughputs is, to first order, the inverse ratio of CPU spent per request across all processes.
// Linux only; elsewhere every reading is undefined and the bench reports throughput alone.
import { readFileSync, readdirSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux build Node supports. */
const TICK_MS = 10;

function cpuOfPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses; the fields after its closing ')' are fixed
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    }
  } catch {
    // gone, or a kernel without /proc/<pid>/task/<tid>/children
  }
  return out;
}

export interface TreeCpu {
  /** The process itself, ms. */
  self: number;
  /** Its live descendants, ms (the host's function instances). */
  children: number;
}

/** undefined when /proc is not readable (not Linux) or the process is gone. */
export function treeCpu(pid: number): TreeCpu | undefined {
  const self = cpuOfPid(pid);
  if (self === undefined) return undefined;
  let children = 0;
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const p = queue.shift()!;
    children += cpuOfPid(p) ?? 0;
    queue.push(...childrenOf(p));
  }
  return { self, children };
}

/** CPU ms per request between two readings, or undefined when either is missing. */
export function perRequest(
  before: TreeCpu | undefined,
  after: TreeCpu | undefined,
  requests: number,
): TreeCpu | undefined {
  if (!before || !after || requests <= 0) return undefined;
  return {
    self: (after.self - before.self) / requests,
    children: (after.children - before.children) / requests,
  };
}
