// Modules that a server-side payment function never reaches, left out of every bundle. Each entry is
// scoped to the one importer that drags it in, so a function that does use the module through another
// path (e.g. `jsonwebtoken` for our session tokens, `mime-db` for wx-server-sdk's cloud.openapi media)
// still gets the real one. A stub costs nothing at load; if it is ever reached it throws an error that
// names the module and says how to bring it back (see stubSource).
export interface Stub {
  /** The specifier as written in the importer: `require("<module>")`. */
  module: string;
  /** The importing file, matched against its resolved path (posix separators). */
  importer: RegExp;
  /** Why no function needs it: shown in the error if it is reached after all. */
  why: string;
  /**
   * `throw` (default): calling anything on the stub throws. `poison`: calls return an object that
   * throws on first use; for modules the SDK calls inside a try/catch that ignores errors, where a
   * throw would be swallowed and the failure would surface later as an unrelated TypeError.
   */
  mode?: 'throw' | 'poison';
  /** Packages that disappear from the bundle with it (checked by the bundle test). */
  removes: string[];
  /** Only bundles that contain this package have the importer (e.g. wx-server-sdk's 云调用 functions). */
  via?: string;
  /**
   * The SDK reaches the module only in a session no offline fixture can open (say which); the bundle
   * test then checks that the stub is in place and the package gone, not what a call of it throws.
   */
  reachedOnlyIn?: string;
}

const NODE_SDK = String.raw`/node_modules/@cloudbase/node-sdk/dist/`;

export const STUBS: Stub[] = [
  {
    module: './ai',
    importer: new RegExp(`${NODE_SDK}cloudbase\\.js$`),
    why: "app.ai(), CloudBase's AI model client",
    removes: [
      '@cloudbase/ai',
      '@cloudbase/app',
      '@cloudbase/adapter-wx_mp',
      '@cloudbase/utilities',
      'web-streams-polyfill',
      '@mattiasbuelens/web-streams-adapter',
    ],
  },
  {
    module: '@cloudbase/wx-cloud-client-sdk',
    importer: new RegExp(`${NODE_SDK}cloudbase\\.js$`),
    why: 'app.models and app.mysql(), the data-model and MySQL clients',
    mode: 'poison',
    removes: ['@cloudbase/wx-cloud-client-sdk'],
  },
  {
    module: 'jsonwebtoken',
    importer: new RegExp(`${NODE_SDK}auth/index\\.js$`),
    why: 'auth().createTicket(), custom-login tickets (our session tokens use shared/auth/jwt.ts)',
    removes: [],
  },
  {
    module: 'mime-types',
    importer: /\/node_modules\/form-data\/lib\/form_data\.js$/,
    why: 'guessing the content type of a form field from its file name; no function uploads named files as forms',
    removes: ['mime-types', 'mime-db'],
  },
  {
    module: 'mime-db',
    importer: /\/node_modules\/wx-server-sdk\/index\.js$/,
    why: "cloud.openapi media parameters (a Buffer with a contentType, e.g. image checks); the kit's server APIs send JSON only",
    removes: ['mime-db'],
    via: 'wx-server-sdk',
  },
  {
    module: 'long',
    importer: /\/node_modules\/protobufjs\/src\/util\/minimal\.js$/,
    why: "64-bit integers in protobuf messages; wx-server-sdk's 云调用 messages have no int64 field",
    removes: ['long'],
    via: 'wx-server-sdk',
  },
  {
    module: 'xmlbuilder',
    importer: /\/node_modules\/xml2js\/lib\/builder\.js$/,
    why: 'xml2js.Builder; v2 XML is written by shared/wxpay/v2/xml.ts and xml2js only parses',
    removes: ['xmlbuilder'],
  },
  {
    module: 'lodash.clonedeep',
    importer: /\/node_modules\/@cloudbase\/database\/dist\/commonjs\/realtime\/virtual-websocket-client\.js$/,
    why: "db.collection().watch(), the database's realtime listener; functions read and write, they never watch",
    removes: ['lodash.clonedeep'],
    reachedOnlyIn: 'the change events of a live realtime watch (a websocket session)',
  },
];

/**
 * Imports resolved from the repository root instead of the importer's own nested copy: one copy of a
 * package instead of two. @cloudbase/node-sdk pins axios 0.27 for two uses (its `requestClient` shim
 * and the cloud metadata lookup, `axios.get(url, options)`), which axios 1 serves alike; our WeChat
 * clients load axios 1, so a function that calls WeChat loaded and ran both at its cold start.
 */
export interface Redirect {
  module: string;
  importer: RegExp;
  why: string;
  /** Only bundles that contain this package have the importer. */
  via?: string;
}

export const REDIRECTS: Redirect[] = [
  {
    module: 'axios',
    importer: new RegExp(`${NODE_SDK}(cloudbase|utils/metadata)\\.js$`),
    why: "one axios (the repository's) instead of node-sdk's pinned 0.27 as well",
  },
  {
    module: '@cloudbase/node-sdk',
    importer: /\/node_modules\/wx-server-sdk\/index\.js$/,
    why: "one node-sdk (the repository's 3.x) instead of wx-server-sdk's pinned 3.17 copy as well",
    via: 'wx-server-sdk',
  },
];

/**
 * Modules that stay in the bundle but are evaluated on first use instead of when their importer is:
 * the import becomes a stand-in that loads the real module the first time anything touches it (a
 * property, a call, `new`, `instanceof`), then forwards everything to it. For packages an SDK
 * requires at its top level for a path that a payment function reaches rarely or never.
 */
export interface Deferred {
  module: string;
  importer: RegExp;
  why: string;
  /**
   * A plain CommonJS module (no `__esModule` marker; the bundle test checks): the stand-in answers
   * `__esModule` without loading it, so an importer's `__importDefault(require(...))` stays lazy.
   */
  plainCommonJs?: boolean;
}

export const DEFERRED: Deferred[] = [
  {
    module: 'https-proxy-agent',
    importer:
      /\/node_modules\/(axios\/dist\/node\/axios\.cjs|@cloudbase\/node-sdk\/dist\/utils\/request-core\.js)$/,
    why: 'requests through an HTTP(S) proxy only; loading it costs node:assert, debug and agent-base at every cold start',
  },
  {
    module: 'http-proxy-agent',
    importer: /\/node_modules\/@cloudbase\/node-sdk\/dist\/utils\/request-core\.js$/,
    why: 'requests through an HTTP proxy only',
  },
  {
    module: 'axios',
    importer: new RegExp(`${NODE_SDK}(cloudbase|utils/metadata)\\.js$`),
    why: "node-sdk's requestClient shim and the cloud metadata lookup; its database calls use node:http",
    plainCommonJs: true,
  },
  {
    module: 'form-data',
    importer: /\/node_modules\/@cloudbase\/node-sdk\/dist\/utils\/request-core\.js$/,
    why: 'multipart uploads (storage); with it go its eight helper packages (get-intrinsic, es-set-tostringtag, …)',
    plainCommonJs: true,
  },
  // The parts of node-sdk's app object that the functions reach through wx-server-sdk only, if at all
  // (the functions use app.database() and getCloudbaseContext); cloudbase.js calls them inside its
  // methods. ./storage alone brings xml2js and sax.
  ...[
    './auth',
    './functions',
    './cloudrun',
    './storage',
    './wx',
    './analytics',
    './notification',
    './logger',
  ].map((module): Deferred => ({
    module,
    importer: new RegExp(`${NODE_SDK}cloudbase\\.js$`),
    why: `node-sdk's ${module.slice(2)} methods of the app object`,
  })),
];

/** How a deferred module is listed among a bundle's applied rules. */
export function deferredLabel(d: Pick<Deferred, 'module'>): string {
  return `${d.module} (on first use)`;
}

/** The one module every stand-in uses (resolved by scripts/bundle/trim.ts). */
export const ON_FIRST_USE_RUNTIME = 'wxcloud:on-first-use';

/**
 * The stand-in for a deferred module. `request` is the require() call that loads the real one; the
 * build resolves it as usual, so a missing module still stops the build.
 */
export function deferredSource(request: string, plainCommonJs = false): string {
  return `"use strict";\nmodule.exports = require(${JSON.stringify(ON_FIRST_USE_RUNTIME)})(() => ${request}, ${plainCommonJs});\n`;
}

/** `onFirstUse(load)`: a stand-in that calls `load` the first time it is touched, then forwards to it. */
export function onFirstUseRuntimeSource(): string {
  return `"use strict";
module.exports = function onFirstUse(loadReal, plainCommonJs) {
  let real;
  const load = () => (real === undefined ? (real = loadReal()) : real);
  // what an importer's interop helper asks first, answered without loading a plain CommonJS module
  const marker = (key) => key === "__esModule" && plainCommonJs && real === undefined;
  // a bound function: callable and constructible, with no own \`prototype\` to contradict the real one's
  const stand = new Proxy(function () {}.bind(null), {
    get: (_, key) => (marker(key) ? undefined : Reflect.get(load(), key)),
    set: (_, key, value) => Reflect.set(load(), key, value),
    has: (_, key) => (marker(key) ? false : Reflect.has(load(), key)),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      // the proxy's own target must agree on what cannot be configured
      if (d) d.configurable = true;
      return d;
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(load()),
    apply: (_, self, args) => Reflect.apply(load(), self, args),
    construct: (_, args, newTarget) => Reflect.construct(load(), args, newTarget === stand ? load() : newTarget),
  });
  return stand;
};
`;
}

/** Whether a stub or redirect applies to a bundle with these packages. */
export function appliesTo(rule: { via?: string }, packages: Record<string, number>): boolean {
  return rule.via === undefined || packages[rule.via] !== undefined;
}

/**
 * `semver` is loaded by jsonwebtoken only to test the running Node version against three fixed ranges
 * at load (28 KiB and dozens of modules). This replacement answers exactly those forms (`>=x.y.z`,
 * `^x.y.z`, joined by `||`) and throws on anything else, so a new use cannot get a wrong answer.
 */
export const SEMVER_SHIM = {
  module: 'semver',
  importer: /\/node_modules\/jsonwebtoken\/lib\/[A-Za-z]+\.js$/,
};

export function semverShimSource(): string {
  return `"use strict";
function parse(v) {
  const m = /^v?(\\d+)\\.(\\d+)\\.(\\d+)/.exec(String(v));
  if (!m) throw new Error("semver (build shim): cannot read version " + JSON.stringify(v));
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
function cmp(a, b) { return a[0] - b[0] || a[1] - b[1] || a[2] - b[2]; }
function one(v, range) {
  const m = /^(>=|\\^)(\\d+\\.\\d+\\.\\d+)$/.exec(range.trim());
  if (!m) throw new Error("semver (build shim in scripts/bundle/stubs.ts) supports only >=x.y.z and ^x.y.z ranges, not " + JSON.stringify(range) + "; remove the shim to use the real semver");
  const r = parse(m[2]);
  return m[1] === ">=" ? cmp(v, r) >= 0 : v[0] === r[0] && cmp(v, r) >= 0;
}
exports.satisfies = function satisfies(version, range) {
  const v = parse(version);
  return String(range).split("||").some((part) => one(v, part));
};
`;
}

/** The source of a stub module: safe to load and to inspect, loud when used. */
export function stubSource(stub: Stub): string {
  const message =
    `${stub.module} was left out of this function's bundle by scripts/build.ts because no function uses ` +
    `${stub.why}; yet `;
  const fix = `. If a function needs it now, remove its entry from scripts/bundle/stubs.ts and rebuild.`;
  const onCall =
    stub.mode === 'poison' ? 'return poisoned(path + "()");' : 'fail("a call of " + path + "()");';
  return `"use strict";
const MESSAGE = ${JSON.stringify(message)};
const FIX = ${JSON.stringify(fix)};
function fail(what) {
  const err = new Error(MESSAGE + what + " reached it" + FIX);
  err.code = "MODULE_LEFT_OUT";
  throw err;
}
function poisoned(path) {
  return new Proxy({}, {
    get(_, key) { if (typeof key === "symbol" || key === "then") return undefined; fail(path + "." + String(key)); },
    set(_, key) { fail("setting " + path + "." + String(key)); },
    has(_, key) { fail("checking " + path + "." + String(key)); },
  });
}
function member(path) {
  return new Proxy(function () {}, {
    get(_, key) { if (typeof key === "symbol" || key === "then") return undefined; fail(path + "." + String(key)); },
    apply() { ${onCall} },
    construct() { fail("new " + path + "()"); },
  });
}
const name = ${JSON.stringify(stub.module)};
const exportsProxy = new Proxy({}, {
  get(_, key) {
    // what module interop reads at load (__esModule, default) and what inspection reads must not throw
    if (typeof key === "symbol" || key === "__esModule" || key === "then" || key === "toJSON") return undefined;
    if (key === "default") return exportsProxy;
    return member(name + "." + String(key));
  },
});
module.exports = exportsProxy;
`;
}

/** Rules that no build applied: an SDK moved the import and the module would ship again unnoticed. */
export function staleStubs(
  built: Array<{ stubbed: string[] }>,
  stubs: Array<Pick<Stub, 'module'>> = [
    ...STUBS,
    ...REDIRECTS.map((r) => ({ module: redirectLabel(r) })),
    ...DEFERRED.map((d) => ({ module: deferredLabel(d) })),
  ],
): Array<Pick<Stub, 'module'>> {
  const used = new Set(built.flatMap((b) => b.stubbed));
  return stubs.filter((s) => !used.has(s.module));
}

/** How a redirect is listed among a bundle's applied rules. */
export function redirectLabel(r: Pick<Redirect, 'module'>): string {
  return `${r.module} (one copy)`;
}

/**
 * `json-bigint` (with bignumber.js, 24 KiB) is loaded by wx-server-sdk's cloud.openapi only to read
 * WeChat's answers without losing integers beyond 2^53, which the server APIs the kit calls
 * (发货信息管理) never send: their ids are strings. This replacement parses with JSON and throws,
 * naming itself, on any integer it could not represent exactly, so such an answer is never misread.
 */
export const JSON_BIGINT_SHIM = {
  module: 'json-bigint',
  importer: /\/node_modules\/wx-server-sdk\/index\.js$/,
};

export function jsonBigintShimSource(): string {
  return `"use strict";
const TOKENS = /"(?:[^"\\\\]|\\\\.)*"|-?\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?/g;
function parse(text, reviver) {
  const s = String(text);
  for (const m of s.matchAll(TOKENS)) {
    const t = m[0];
    if (t[0] !== '"' && /^-?\\d+$/.test(t) && !Number.isSafeInteger(Number(t)))
      throw new Error("json-bigint (build shim in scripts/bundle/stubs.ts): the integer " + t + " is beyond 2^53 and would lose precision; remove the shim to use the real json-bigint");
  }
  return JSON.parse(s, reviver);
}
function stringify(value, replacer, space) { return JSON.stringify(value, replacer, space); }
module.exports = function jsonBigint() { return { parse, stringify }; };
module.exports.parse = parse;
module.exports.stringify = stringify;
`;
}
