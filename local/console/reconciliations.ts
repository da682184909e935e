// The console's view of billReconcile's results: the latest days of `reconciliations` from the
// emulator, newest first, with their totals and every discrepancy (nothing secret is stored there).

export interface ReconciliationView {
  _id: string;
  status: string;
  runAt?: string;
  local?: unknown;
  wechat?: unknown;
  unavailable?: unknown;
  omitted?: number;
  discrepancies: unknown[];
}

function isoDates(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(isoDates);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('$date' in o) {
      const d = o.$date;
      const ms =
        typeof d === 'object' && d && '$numberLong' in d
          ? Number((d as { $numberLong: string }).$numberLong)
          : (d as string | number);
      return new Date(ms).toISOString();
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, isoDates(v)]));
  }
  return value;
}

export async function readReconciliations(emuUrl: string, days = 14): Promise<ReconciliationView[]> {
  const res = await fetch(`${emuUrl}/emu/dump/reconciliations`, { signal: AbortSignal.timeout(5000) });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`the emulator answered ${res.status} for reconciliations`);
  const docs: unknown = await res.json();
  if (!Array.isArray(docs)) return [];
  return docs
    .filter(
      (d): d is Record<string, unknown> =>
        !!d && typeof d === 'object' && typeof (d as Record<string, unknown>)._id === 'string',
    )
    .map((d) => isoDates(d) as Record<string, unknown>)
    .map((d) => ({
      _id: d._id as string,
      status: typeof d.status === 'string' ? d.status : '',
      ...(typeof d.runAt === 'string' ? { runAt: d.runAt } : {}),
      local: d.local,
      wechat: d.wechat,
      ...(d.unavailable ? { unavailable: d.unavailable } : {}),
      ...(typeof d.omitted === 'number' ? { omitted: d.omitted } : {}),
      discrepancies: Array.isArray(d.discrepancies) ? d.discrepancies : [],
    }))
    .sort((a, b) => (a._id < b._id ? 1 : a._id > b._id ? -1 : 0))
    .slice(0, days);
}
