// WeChat's time formats, always in China Standard Time (+08:00) whatever the host's zone.
const CST_OFFSET_MS = 8 * 3600_000;

function cstParts(ms: number) {
  const d = new Date(ms + CST_OFFSET_MS);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    y: p(d.getUTCFullYear(), 4),
    mo: p(d.getUTCMonth() + 1),
    d: p(d.getUTCDate()),
    h: p(d.getUTCHours()),
    mi: p(d.getUTCMinutes()),
    s: p(d.getUTCSeconds()),
  };
}

/** `2018-06-08T10:34:56+08:00` (v3). */
export function rfc3339Cst(ms: number): string {
  const t = cstParts(ms);
  return `${t.y}-${t.mo}-${t.d}T${t.h}:${t.mi}:${t.s}+08:00`;
}

/** `20180608103456` (v2 time_end, time_expire). */
export function compactCst(ms: number): string {
  const t = cstParts(ms);
  return `${t.y}${t.mo}${t.d}${t.h}${t.mi}${t.s}`;
}

/** `2018-06-08 10:34:56` (v2 refund success_time). */
export function spacedCst(ms: number): string {
  const t = cstParts(ms);
  return `${t.y}-${t.mo}-${t.d} ${t.h}:${t.mi}:${t.s}`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 date-time with an explicit offset; undefined when malformed. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, , mo, d, h, mi, s] = m.map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Parses v2's `yyyyMMddHHmmss` (CST). */
export function parseCompactCst(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+08:00`);
  return Number.isNaN(ms) ? undefined : ms;
}
