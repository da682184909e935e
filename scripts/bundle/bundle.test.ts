// The deployed bundles after trimming: each under the size budget, each loading on its own with the
// stubs in place and the stubbed packages gone; every stub fails loudly, naming itself, when the SDK
// path that uses it is reached; a module the build cannot resolve stops the build. (That each trimmed
// bundle still runs its real paths against the local stack is what the e2e suite proves.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import {
  BUNDLE_LIMIT_BYTES,
  buildFunctions,
  bundleFunction,
  functionNames,
  type BuiltFunction,
} from '../build';
import { functionSdkEnv } from '../../local/cloudbase/sdk-env';
import {
  DEFERRED,
  REDIRECTS,
  STUBS,
  deferredLabel,
  appliesTo,
  jsonBigintShimSource,
  redirectLabel,
  semverShimSource,
  staleStubs,
} from './stubs';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
// The callables that verify or issue Bearer tokens with jsonwebtoken, which needs the semver shim
// (billReconcile is a public callable for admins and its timer: no tokens, no jsonwebtoken).
const JWT_FUNCTIONS = ['account', 'createPayment', 'login', 'orders', 'refund', 'ship'];
// esbuild resolves (and shims) jsonwebtoken's imports wherever the token module is imported, also
// where tree shaking then leaves jsonwebtoken out.
const JWT_RESOLVED = [...JWT_FUNCTIONS, 'billReconcile'];

describe('trimmed function bundles', () => {
  let dir: string;
  let built: BuiltFunction[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bundles-'));
    built = await buildFunctions(join(dir, 'functions'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test(`every function is built, ≤ ${BUNDLE_LIMIT_BYTES / 1024} KiB, with every stub in place and the stubbed packages gone`, () => {
    assert.deepEqual(
      built.map((b) => b.name),
      functionNames(),
    );
    for (const b of built) {
      const file = join(dir, 'functions', b.name, 'index.js');
      const source = readFileSync(file, 'utf8');
      assert.equal(Buffer.byteLength(source), b.bytes, `${b.name}: the metafile's size is the file's`);
      assert.ok(b.bytes <= BUNDLE_LIMIT_BYTES, `${b.name} is ${(b.bytes / 1024).toFixed(0)} KiB`);
      const stubs = STUBS.filter((s) => appliesTo(s, b.packages));
      const expected = [
        ...stubs.map((s) => s.module),
        ...REDIRECTS.filter((r) => appliesTo(r, b.packages)).map(redirectLabel),
        ...DEFERRED.map(deferredLabel),
        ...(JWT_RESOLVED.includes(b.name) ? ['semver'] : []),
        ...(b.packages['wx-server-sdk'] !== undefined ? ['json-bigint'] : []),
      ];
      assert.deepEqual(b.stubbed, expected.sort(), `${b.name}: stubs applied`);
      for (const s of stubs) {
        assert.ok(
          source.includes(`${s.module} was left out of this function's bundle`),
          `${b.name}: ${s.module} stub`,
        );
        for (const pkg of s.removes)
          assert.equal(b.packages[pkg], undefined, `${b.name} still contains ${pkg}`);
      }
      assert.equal(b.packages.semver, undefined, `${b.name} contains the real semver`);
      assert.ok(
        source.includes('"_-0123456789abcdefghijklmnopqrstuvwxyz"'),
        `${b.name}: sorted-keys comparator`,
      );
      const nested = Object.keys(b.packages).filter((p) => p.endsWith(' > axios'));
      assert.deepEqual(nested, [], `${b.name}: one axios, the repository's`);
      assert.ok(b.packages.axios > 0);
      assert.equal(
        b.packages.jsonwebtoken !== undefined,
        JWT_FUNCTIONS.includes(b.name),
        `${b.name}: jsonwebtoken only where session tokens are used`,
      );
      assert.ok(
        b.packages['@cloudbase/node-sdk'] > 0 && b.packages['@cloudbase/database'] > 0,
        'the SDK stays',
      );
    }
  });

  test('each bundle loads in a fresh process with nothing but node built-ins and exports main', async () => {
    for (const b of built) {
      const { stdout } = await run(
        process.execPath,
        [
          '-e',
          'process.stdout.write(typeof require(process.argv[1]).main)',
          join(dir, 'functions', b.name, 'index.js'),
        ],
        { cwd: dir, env: { PATH: process.env.PATH ?? '', ...functionSdkEnv('http://127.0.0.1:9') } },
      );
      assert.equal(stdout, 'function', b.name);
    }
  });

  test('a stub reached through the SDK throws MODULE_LEFT_OUT naming the module; the real jsonwebtoken runs on the semver shim', async () => {
    const out = join(dir, 'reach-stubs.js');
    const fixture = await bundleFunction(join(__dirname, 'fixtures', 'reach-stubs.ts'), out);
    assert.ok(fixture.stubbed.includes('semver'));
    const { stdout } = await run(process.execPath, [out], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...functionSdkEnv('http://127.0.0.1:9') },
    });
    const r = JSON.parse(stdout) as Record<string, { code?: string; message: string } | string>;
    // Stubs scoped to wx-server-sdk's bundle (`via`) sit behind cloud.openapi's media converter, which
    // needs a 云调用 context to reach; the first test checks they are in place in those bundles.
    // and `reachedOnlyIn` stubs only inside a live session (a realtime watch) that no fixture opens.
    for (const s of STUBS.filter((stub) => stub.via === undefined && stub.reachedOnlyIn === undefined)) {
      const got = r[s.module] as { code?: string; message: string };
      assert.equal(got.code, 'MODULE_LEFT_OUT', `${s.module}: ${got.message}`);
      assert.ok(got.message.startsWith(`${s.module} was left out of this function's bundle`), got.message);
      assert.match(got.message, /remove its entry from scripts\/bundle\/stubs\.ts/);
    }
    assert.equal(r.realJwt, 'u');
    assert.equal(r.database, 'function');
  });

  test('a module the build cannot resolve stops the build, even inside try/catch', async () => {
    const plain = join(root, 'scripts', 'bundle', 'fixtures', `missing-${process.pid}.ts`);
    const guarded = join(root, 'scripts', 'bundle', 'fixtures', `missing-guarded-${process.pid}.ts`);
    writeFileSync(plain, "import 'no-such-package-left-out';\n");
    writeFileSync(guarded, "try { require('no-such-package-left-out'); } catch { /* optional */ }\n");
    try {
      await assert.rejects(bundleFunction(plain, join(dir, 'm1.js')), /no-such-package-left-out/);
      await assert.rejects(
        bundleFunction(guarded, join(dir, 'm2.js')),
        /no-such-package-left-out.*cannot be resolved/s,
      );
    } finally {
      rmSync(plain, { force: true });
      rmSync(guarded, { force: true });
    }
  });
});

test('a stub rule that matched nothing in any function is reported as stale', () => {
  const all = [
    ...STUBS.map((s) => s.module),
    ...REDIRECTS.map(redirectLabel),
    ...DEFERRED.map(deferredLabel),
  ];
  assert.deepEqual(staleStubs([{ stubbed: all }]), []);
  assert.deepEqual(
    staleStubs([{ stubbed: all.slice(1) }, { stubbed: [] }]).map((s) => s.module),
    [all[0]],
  );
});

test('the json-bigint shim reads JSON and refuses an integer it cannot hold exactly', () => {
  const mod = { exports: {} as unknown };
  // this realm's JSON, so that what it parses compares with objects of this realm
  runInNewContext(jsonBigintShimSource(), { module: mod, exports: mod.exports, JSON });
  const json = (mod.exports as () => { parse(t: string): unknown; stringify(v: unknown): string })();
  assert.deepEqual(
    json.parse('{"errcode":0,"id":"4200001234567890123","n":-12.5e3,"s":"a\\"9007199254740993"}'),
    {
      errcode: 0,
      id: '4200001234567890123',
      n: -12500,
      s: 'a"9007199254740993',
    },
  );
  assert.throws(() => json.parse('{"order_id":9007199254740993}'), /beyond 2\^53.*json-bigint/);
  assert.equal(json.stringify({ a: [1, '2'] }), '{"a":[1,"2"]}');
});

test('the semver shim answers the ranges jsonwebtoken asks and refuses any other form', () => {
  const mod = { exports: {} as { satisfies: (v: string, r: string) => boolean } };
  runInNewContext(semverShimSource(), { module: mod, exports: mod.exports });
  const { satisfies } = mod.exports;
  assert.equal(satisfies('v18.15.0', '>=15.7.0'), true);
  assert.equal(satisfies('v15.6.9', '>=15.7.0'), false);
  assert.equal(satisfies('v16.9.0', '>=16.9.0'), true);
  assert.equal(satisfies('v6.12.3', '^6.12.0 || >=8.0.0'), true);
  assert.equal(satisfies('v7.1.0', '^6.12.0 || >=8.0.0'), false);
  assert.equal(satisfies('v6.11.0', '^6.12.0 || >=8.0.0'), false);
  assert.throws(() => satisfies('v18.0.0', '~18.0.0'), /supports only >=x\.y\.z and \^x\.y\.z/);
  assert.throws(() => satisfies('18', '>=1.0.0'), /cannot read version/);
});
