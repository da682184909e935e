// Header lookup that tolerates every shape headers arrive in: node's lower-cased IncomingHttpHeaders,
// CloudBase HTTP-trigger events (as sent, any case), axios' plain objects, arrays for repeated headers.
export type HeaderBag = Readonly<Record<string, string | string[] | number | undefined | null>>;

export function headerValue(headers: HeaderBag, lowerName: string): string | undefined {
  let v = headers[lowerName];
  if (v === undefined) {
    for (const k in headers) {
      if (k.length === lowerName.length && k.toLowerCase() === lowerName) {
        v = headers[k];
        break;
      }
    }
  }
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v[0];
  return typeof v === 'string' ? v : String(v);
}
