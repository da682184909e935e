// Work the bundles no longer do at load: a bundled axios (scripts/bundle/axios-lazy-fetch.ts) sends a
// real request through its http adapter without Node loading undici and treats every kind of form
// data exactly as the unpatched axios does, and a changed axios stops the build; the stand-in of a
// module deferred to first use (DEFERRED in stubs.ts) loads it once, when touched, then behaves as it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import axios from 'axios';
import { bundleFunction } from '../build';
import { deferAxiosWebGlobals } from './axios-lazy-fetch';
import { DEFERRED, deferredSource, ON_FIRST_USE_RUNTIME, onFirstUseRuntimeSource } from './stubs';
import { formDataAnswers } from './fixtures/form-data-answers';

const run = promisify(execFile);
let dir: string;
let server: Server;
let url: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deferred-load-'));
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echoed: JSON.parse(body) as unknown }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/echo`;
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((r) => server.close(r));
});

test('a bundled axios sends a request without loading undici and treats form data as axios does', async () => {
  const out = join(dir, 'deferred-load.js');
  await bundleFunction(join(__dirname, 'fixtures', 'deferred-load.ts'), out);
  const { stdout } = await run(process.execPath, [out, url], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
  });
  const r = JSON.parse(stdout) as Record<string, unknown>;
  assert.deepEqual(r.answer, { echoed: { a: 1 } });
  assert.equal(r.database, 'function');
  assert.equal(r.undiciLoaded, false, 'Node loaded undici (fetch) for an http-adapter request');
  assert.deepEqual(r.formData, formDataAnswers(axios));
  assert.equal(r.formData.webFormData, 'as is');
  assert.equal(r.formData.formDataPackage, 'as is');
});

test('an axios whose code changed shape stops the build instead of shipping a half-applied edit', () => {
  const source = readFileSync(require.resolve('axios').replace(/index\.js$/, 'dist/node/axios.cjs'), 'utf8');
  assert.doesNotThrow(() => deferAxiosWebGlobals(source));
  assert.throws(() => deferAxiosWebGlobals(source.replace('\ngetFetch();\n', '\n')), /axios-lazy-fetch\.ts/);
  assert.throws(
    () => deferAxiosWebGlobals(source + '\nconst again = FormDataCtor;\n'),
    /reads FormDataCtor somewhere else/,
  );
});

test("a deferred module's stand-in loads the module on first touch, once, and then behaves as it", () => {
  class Agent {
    constructor(readonly opts: unknown) {}
  }
  function createAgent(opts: unknown) {
    return new Agent(opts);
  }
  createAgent.prototype = Agent.prototype;
  createAgent.Agent = Agent;
  let loads = 0;
  const runtime = { exports: {} as unknown };
  runInNewContext(onFirstUseRuntimeSource(), { module: runtime, Proxy, Reflect });
  const stand = { exports: {} as unknown };
  runInNewContext(deferredSource('loadReal()'), {
    module: stand,
    require: (id: string) => (id === ON_FIRST_USE_RUNTIME ? runtime.exports : undefined),
    loadReal: () => (loads++, createAgent),
  });
  const Stand = stand.exports as typeof createAgent & (new (o: unknown) => Agent);
  assert.equal(loads, 0, 'loaded before anything touched it');
  const made = new Stand({ host: 'proxy' });
  assert.ok(made instanceof Agent && made instanceof Stand);
  assert.deepEqual(made.opts, { host: 'proxy' });
  assert.ok(Stand({ a: 1 }) instanceof Agent);
  assert.equal(Stand.Agent, Agent);
  assert.ok('Agent' in Stand);
  assert.ok(Object.keys(Stand).includes('Agent'));
  assert.equal(loads, 1);
});

test('a plain CommonJS module deferred behind an interop helper stays unloaded until really used', () => {
  for (const d of DEFERRED.filter((x) => x.plainCommonJs))
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the real module, as the bundle gets it
    assert.equal((require(d.module) as { __esModule?: unknown }).__esModule, undefined, d.module);
  let loads = 0;
  const runtime = { exports: {} as unknown };
  runInNewContext(onFirstUseRuntimeSource(), { module: runtime, Proxy, Reflect });
  const onFirstUse = runtime.exports as (load: () => unknown, plain: boolean) => Record<string, unknown>;
  const real = Object.assign(() => 'called', { get: () => 'got' });
  const stand = onFirstUse(() => (loads++, real), true);
  // what TypeScript's __importDefault does with it
  const imported = stand && stand.__esModule ? stand : { default: stand };
  assert.equal(loads, 0, 'the interop helper loaded it');
  assert.equal((imported.default as typeof real).get(), 'got');
  assert.equal(loads, 1);
  assert.equal(onFirstUse(() => ({ __esModule: true }), false).__esModule, true);
});
