// Reads .cpuprofile files (scripts/bench/profile-warm.ts) and prints self time grouped by module: the
// npm package or repository folder of each sampled function (for a readable bundle, the module that
// esbuild's `// path` comments name at that line), node internals, GC, idle. Times are per invocation
// when the invocation count is given, or per measured span with --windows (profile-windows.cjs).
//   npx tsx scripts/bench/profile-summary.ts <file.cpuprofile> [invocations] [--functions]
//     [--windows <windows-pid.json> <spans to skip>]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  startTime: number;
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const bundleModules = new Map<string, Array<{ line: number; module: string }>>();

/** For a readable bundle: line → the module esbuild's comment names above it. */
function moduleAt(url: string, line: number): string | undefined {
  if (!url.includes('/build/') || !url.endsWith('index.js')) return undefined;
  let marks = bundleModules.get(url);
  if (!marks) {
    marks = [];
    const lines = readFileSync(new URL(url), 'utf8').split('\n');
    lines.forEach((l, i) => {
      const m = /^\/\/ (\S+\.(?:js|cjs|mjs|json|ts))$/.exec(l);
      if (m) marks!.push({ line: i, module: m[1] });
    });
    bundleModules.set(url, marks);
  }
  let found: string | undefined;
  for (const m of marks) {
    if (m.line > line) break;
    found = m.module;
  }
  return found;
}

function group(url: string, line: number, name: string): string {
  if (!url) return name.startsWith('(') ? name : `(native) ${name}`;
  if (url.startsWith('node:')) return url;
  const mod = moduleAt(url, line) ?? url;
  const nm = [...mod.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)].map((m) => m[1]);
  if (nm.length) return nm.join(' > ');
  const own = /(shared|cloudfunctions|scripts|local)\/([^/]+)/.exec(mod);
  return own ? `${own[1]}/${own[2]}` : mod;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args[0];
  let n = Number(args[1] ?? 1) || 1;
  const byFunction = args.includes('--functions');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  // --windows <file>: only the samples inside the spans it lists ([start, end, …] in µs of the
  // monotonic clock, which V8's profile timestamps share), skipping the first `skip` spans (warm-up)
  const wi = args.indexOf('--windows');
  let spans: number[] | undefined;
  if (wi >= 0) {
    const skip = Number(args[wi + 2] ?? 0);
    spans = (JSON.parse(readFileSync(args[wi + 1], 'utf8')) as number[]).slice(2 * skip);
    n = spans.length / 2;
  }
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  let t = p.startTime;
  let w = 0;
  p.samples.forEach((id, i) => {
    const d = p.timeDeltas[i] ?? 0;
    t += d;
    if (spans) {
      while (w < spans.length && spans[w + 1] < t) w += 2;
      if (w >= spans.length || t < spans[w]) return;
    }
    self.set(id, (self.get(id) ?? 0) + d);
  });
  const groups = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const cf = node.callFrame;
    if (cf.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const key = byFunction
      ? `${group(cf.url, cf.lineNumber, cf.functionName)} :: ${cf.functionName || '(anon)'}:${cf.lineNumber + 1}`
      : group(cf.url, cf.lineNumber, cf.functionName);
    groups.set(key, (groups.get(key) ?? 0) + us);
  }
  const rows = [...groups].sort((a, b) => b[1] - a[1]).slice(0, byFunction ? 400 : 40);
  const out: string[] = [];
  out.push(
    `${file}: busy ${(total / 1000 / n).toFixed(3)} ms, idle ${(idle / 1000 / n).toFixed(3)} ms per invocation (n=${n})`,
  );
  for (const [k, us] of rows) out.push(`${(us / 1000 / n).toFixed(3).padStart(8)}  ${k}`);
  process.stdout.write(out.join('\n') + '\n');
}

main();
