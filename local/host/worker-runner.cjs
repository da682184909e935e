'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS on purpose (see below): require is how it loads */
// One function instance, as the platform runs it: a separate Node process that loads the built bundle
// once (the cold start) and then handles one invocation at a time, told what to do over IPC.
// Plain CommonJS on purpose: it is forked with bare `node` so a cold start costs what it costs on the
// platform, not a TypeScript loader.
//
// host → worker: { t: 'invoke', id, event, context, identity: { WX_OPENID?, WX_APPID?, ... }, source }
// worker → host: { t: 'ready', loadMs } | { t: 'load-error', error }
//                | { t: 'done', id, ok, json?, error?, runMs, runCpuMs }
// runMs / runCpuMs: wall and CPU (process.cpuUsage, all threads) from the handler's call to its result,
// the function's own time as the platform bills it, without the host → instance hop.

const { performance } = require('node:perf_hooks');

const bundlePath = process.env.__WXCLOUD_HOST_BUNDLE;
delete process.env.__WXCLOUD_HOST_BUNDLE;

// The identity keys getWXContext() reads through WX_CONTEXT_KEYS; reset before every invocation so one
// caller's identity can never be seen by the next.
const IDENTITY_KEYS = [
  'WX_OPENID',
  'WX_APPID',
  'WX_UNIONID',
  'WX_CLIENTIP',
  'WX_CLIENTIPV6',
  'WX_API_TOKEN',
  'WX_RESOURCE_OPENID',
  'WX_RESOURCE_APPID',
  'WX_FROM_OPENID',
  'WX_FROM_APPID',
  'WX_FROM_UNIONID',
];

let main = null;
let current = null; // id of the running invocation
// When the running invocation's handler was called (one invocation at a time).
let wallStart = 0;
let cpuStart = null;

function describe(err) {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  // Functions sometimes throw plain objects or strings; keep what a developer needs to recognise it.
  let message;
  try {
    message = typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    message = String(err);
  }
  return { name: 'Error', message: String(message), stack: undefined };
}

function send(msg) {
  if (process.connected) process.send(msg);
}

// Configured variables can share a name with an identity key (WX_APPID, docs/configuration.md#variables, is
// the mini-program appid): an invocation without that identity must see the configured value again.
const CONFIGURED = Object.fromEntries(
  IDENTITY_KEYS.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]),
);

// Writes to process.env cost a native call each; only the variables that differ from what this call
// needs are written. Compared with process.env itself (not a cache) so that a function changing the
// variables can never make a previous caller's identity survive into the next call.
function setEnv(k, v) {
  if (v === undefined) {
    if (k in process.env) delete process.env[k];
  } else if (process.env[k] !== v) process.env[k] = v;
}

function setIdentity(identity, source) {
  let keys = '';
  for (const k of IDENTITY_KEYS) {
    const v = identity ? identity[k] : undefined;
    if (typeof v === 'string' && v !== '') {
      setEnv(k, v);
      keys = keys === '' ? k : `${keys},${k}`;
    } else setEnv(k, CONFIGURED[k]);
  }
  setEnv('WX_CONTEXT_KEYS', keys);
  setEnv('TCB_SOURCE', source || undefined);
}

function finish(id, ok, value) {
  if (current !== id) return;
  current = null;
  const runMs = performance.now() - wallStart;
  const cpu = process.cpuUsage(cpuStart);
  const runCpuMs = (cpu.user + cpu.system) / 1000;
  if (ok) {
    let json;
    try {
      // The platform answers with the JSON of the result; undefined becomes null.
      json = value === undefined ? 'null' : JSON.stringify(value);
      if (json === undefined) json = 'null';
    } catch (err) {
      send({
        t: 'done',
        id,
        ok: false,
        error: describe(
          new TypeError(`the function's result is not JSON-serialisable: ${describe(err).message}`),
        ),
        runMs,
        runCpuMs,
      });
      return;
    }
    send({ t: 'done', id, ok: true, json, runMs, runCpuMs });
  } else {
    send({ t: 'done', id, ok: false, error: describe(value), runMs, runCpuMs });
  }
}

function invoke(msg) {
  const { id, event, context, identity, source } = msg;
  current = id;
  setIdentity(identity, source);
  const started = Date.now();
  cpuStart = process.cpuUsage();
  wallStart = performance.now();
  const ctx = Object.assign({}, context, {
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, context.time_limit_in_ms - (Date.now() - started)),
  });
  try {
    // Callback-style handlers (main(event, context, callback)) are accepted as the Node runtime does.
    const callback = (err, value) => (err ? finish(id, false, err) : finish(id, true, value));
    const out = main.length >= 3 ? main(event, ctx, callback) : main(event, ctx);
    if (out && typeof out.then === 'function')
      out.then(
        (v) => finish(id, true, v),
        (e) => finish(id, false, e),
      );
    else if (main.length < 3) finish(id, true, out);
  } catch (err) {
    finish(id, false, err);
  }
}

process.on('message', (msg) => {
  if (msg && msg.t === 'invoke') invoke(msg);
});
process.on('disconnect', () => process.exit(0));

// A crash after (or during) an invocation ends the instance, as on the platform; the host replaces it.
function fatal(err) {
  const error = describe(err);
  if (current !== null) send({ t: 'done', id: current, ok: false, error, fatal: true });
  current = null;
  process.stderr.write(`instance crashed: ${error.stack || error.message}\n`);
  process.exitCode = 1;
  setImmediate(() => process.exit(1));
}
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

const t0 = performance.now();
try {
  const mod = require(bundlePath);
  main = mod && (mod.main || (mod.default && mod.default.main));
  if (typeof main !== 'function')
    throw new TypeError(`${bundlePath} does not export a main(event, context) function (handler index.main)`);
  send({ t: 'ready', loadMs: performance.now() - t0 });
} catch (err) {
  send({ t: 'load-error', error: describe(err) });
  setImmediate(() => process.exit(1));
}
