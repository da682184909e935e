// node-sdk signs every request (@cloudbase/signature-nodejs) after sorting the header and parameter
// names with `localeCompare`. The first call initialises ICU's collator (5–7 ms of every cold start)
// and each comparison stays slow afterwards. The names it sorts are lower-case ASCII letters, digits,
// `-` and `_` (content-type, x-tcb-region, tcb_sessiontoken, …), for which the locale's order is a
// fixed order of characters: `_` < `-` < 0–9 < a–z, shorter first on a common prefix. When the file is
// bundled its comparator compares such names by that order directly and hands anything else to
// localeCompare as before; sorted-keys.test.ts checks the two agree against this Node's ICU. The build
// stops if the SDK's code no longer has the shape this relies on.
export const SORTED_KEY_VALUE_FILE = /\/node_modules\/@cloudbase\/signature-nodejs\/lib\/keyvalue\.js$/;

const LOCALE_SORT = '.sort((l, r) => l.toString().localeCompare(r))';

/** The comparator, as plain JS (also evaluated by the test). */
export const SORTED_KEY_COMPARE_SOURCE = `
const SORTED_KEY_PLAIN = /^[a-z0-9_-]*$/;
const SORTED_KEY_ORDER = "_-0123456789abcdefghijklmnopqrstuvwxyz";
function sortedKeyCompare(l, r) {
  const a = l.toString();
  const b = String(r);
  if (!SORTED_KEY_PLAIN.test(a) || !SORTED_KEY_PLAIN.test(b)) return a.localeCompare(b);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return SORTED_KEY_ORDER.indexOf(a[i]) < SORTED_KEY_ORDER.indexOf(b[i]) ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
`;

export function fastSortedKeys(source: string): string {
  const at = source.indexOf(LOCALE_SORT);
  if (at < 0 || source.indexOf(LOCALE_SORT, at + 1) >= 0)
    throw new Error(
      `@cloudbase/signature-nodejs's lib/keyvalue.js changed shape (expected exactly one ${LOCALE_SORT}); ` +
        'update scripts/bundle/sorted-keys.ts or remove its onLoad rule in scripts/bundle/trim.ts',
    );
  return `${source.slice(0, at)}.sort(sortedKeyCompare)${source.slice(at + LOCALE_SORT.length)}\n${SORTED_KEY_COMPARE_SOURCE}`;
}
