// axios 1 touches Node's web globals (FormData, Request, Response, ReadableStream) while its module is
// evaluated: it reads `globalThis.FormData` once for isFormData, and it calls getFetch() once to
// warm its fetch adapter's cache, which constructs Requests and ReadableStreams. On Node 18 and 20
// those globals are lazy getters that load and compile undici, Node's bundled fetch: 15–20 ms of
// every cold start that loads axios, although our functions only ever use axios's http adapter.
// Two behaviour-neutral edits when the file is bundled: the FormData constructor is read on first
// need, after the checks that reject a non-FormData without it (a FormData instance always has a
// non-plain prototype and an `append` method, so the answer is the same), and the warm-up call is
// dropped (getFetch() builds the same adapter on first use; the fetch adapter is only chosen if
// asked for). The build stops if axios's code no longer has the shape this relies on.
export const AXIOS_NODE_ENTRY = /\/node_modules\/axios\/dist\/node\/axios\.cjs$/;

const EAGER_CTOR = "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;";
const LAZY_CTOR =
  "let FormDataCtor$lazy;\nconst FormDataCtor = () => FormDataCtor$lazy !== undefined ? FormDataCtor$lazy : (FormDataCtor$lazy = typeof G.FormData !== 'undefined' ? G.FormData : null);";

const EAGER_CHECK = `  if (!thing) return false;
  if (FormDataCtor && thing instanceof FormDataCtor) return true;
  // Reject plain objects inheriting directly from Object.prototype so prototype-pollution gadgets can't spoof FormData.
  const proto = getPrototypeOf(thing);
  if (!proto || proto === Object.prototype) return false;
  if (!isFunction$1(thing.append)) return false;
`;
const LAZY_CHECK = `  if (!thing) return false;
  // Reject plain objects inheriting directly from Object.prototype so prototype-pollution gadgets can't spoof FormData.
  const proto = getPrototypeOf(thing);
  if (!proto || proto === Object.prototype) return false;
  if (!isFunction$1(thing.append)) return false;
  const FormDataCtorNow = FormDataCtor();
  if (FormDataCtorNow && thing instanceof FormDataCtorNow) return true;
`;

const EAGER_WARMUP = '\ngetFetch();\n';

function replaceOnce(source: string, from: string, to: string): string {
  const at = source.indexOf(from);
  if (at < 0 || source.indexOf(from, at + from.length) >= 0)
    throw new Error(
      `axios's dist/node/axios.cjs changed shape (expected exactly one ${JSON.stringify(from.trim().split('\n')[0])}); ` +
        'update scripts/bundle/axios-lazy-fetch.ts for the new axios or remove its onLoad rule in scripts/bundle/trim.ts',
    );
  return source.slice(0, at) + to + source.slice(at + from.length);
}

export function deferAxiosWebGlobals(source: string): string {
  let out = replaceOnce(source, EAGER_CTOR, LAZY_CTOR);
  out = replaceOnce(out, EAGER_CHECK, LAZY_CHECK);
  out = replaceOnce(out, EAGER_WARMUP, '\n');
  // any other reading of the constructor would now get the getter function instead of the class
  if (/\bFormDataCtor\b/.test(out.replace(LAZY_CTOR, '').replace(LAZY_CHECK, '')))
    throw new Error(
      "axios's dist/node/axios.cjs reads FormDataCtor somewhere else too; update scripts/bundle/axios-lazy-fetch.ts",
    );
  return out;
}
