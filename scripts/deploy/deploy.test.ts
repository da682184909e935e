import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import { ensureLocalData } from '../../local/setup/local-data';
import { FUNCTION_VARIABLES, SECRET_VARIABLES, variablesFor } from '../../shared/config';
import { cloudbasercProblems, loadCloudbaserc, type Cloudbaserc } from './cloudbaserc';
import { cronProblem } from './cron';
import { externalRequires } from './bundles';
import { escapeForTcb } from './tcb';
import { HTTP_API_ROUTES, httpApiEnabled } from './http-api';
import { runDeploy, type DeployOptions } from './run';
import { declaredFiles } from './sync-config-files';

const root = resolve(__dirname, '..', '..');
const SECRET_KEYS = [...SECRET_VARIABLES];

let dir: string;
let baseEnv: Record<string, string>;
let rc: Cloudbaserc;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-test-'));
  const local = await ensureLocalData(join(dir, 'local'));
  const { WXPAY_BASE_URL: _a, WECHAT_API_BASE_URL: _b, ...rest } = local.env;
  baseEnv = {
    ...rest,
    TCB_ENV_ID: 'prod-test123',
    WXPAY_NOTIFY_URL: 'https://prod-test123.service.tcloudbase.com/pay/notify',
    WXPAY_REFUND_NOTIFY_URL: 'https://prod-test123.service.tcloudbase.com/refund/notify',
  };
  rc = loadCloudbaserc(join(root, 'cloudbaserc.json'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** .env as a person writes it: PEMs on one line with literal \n, single-quoted so dotenv keeps them so. */
function serializeEnv(env: Record<string, string>): string {
  return (
    Object.entries(env)
      .map(([k, v]) => `${k}='${v.replace(/\r?\n/g, '\\n')}'`)
      .join('\n') + '\n'
  );
}

let caseNo = 0;
/** A fresh case folder: .env, fixture bundles (one small self-contained file each), cloudbaserc.json. */
function fixture(
  opts: {
    env?: Record<string, string | undefined>;
    rc?: (rc: Cloudbaserc) => void;
    bundle?: (name: string, dir: string) => void;
  } = {},
) {
  const caseDir = join(dir, `case-${++caseNo}`);
  const buildDir = join(caseDir, 'build', 'cloudfunctions');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...baseEnv, ...opts.env })) if (v !== undefined) env[k] = v;
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(caseDir, '.env'), serializeEnv(env));
  const config = structuredClone(rc);
  opts.rc?.(config);
  writeFileSync(join(caseDir, 'cloudbaserc.json'), JSON.stringify(config, null, 2));
  for (const f of config.functions) {
    const fdir = join(buildDir, f.name);
    mkdirSync(fdir, { recursive: true });
    writeFileSync(
      join(fdir, 'index.js'),
      `"use strict";const c=require("node:crypto");exports.main=async()=>({ok:true,id:c.randomUUID()});\n`,
    );
    writeFileSync(
      join(fdir, 'package.json'),
      JSON.stringify({ name: f.name, version: '1.0.0', private: true, main: 'index.js' }),
    );
    opts.bundle?.(f.name, fdir);
  }
  const lines: string[] = [];
  const options: DeployOptions = {
    dryRun: true,
    build: false,
    envFile: join(caseDir, '.env'),
    configPath: join(caseDir, 'cloudbaserc.json'),
    buildDir,
    cwd: caseDir,
    sourceDir: join(caseDir, 'no-sources'),
    log: (l) => lines.push(l),
    runner: () => Promise.reject(new Error('the dry run must never run tcb')),
  };
  return { caseDir, buildDir, env, options, lines, output: () => lines.join('\n') };
}

function assertNoSecrets(text: string, env: Record<string, string>) {
  for (const key of SECRET_KEYS) {
    const value = env[key];
    if (!value) continue;
    assert.ok(!text.includes(value), `${key}'s value must not be printed`);
    // nor a recognisable piece of it (keys are long)
    if (value.length > 60) assert.ok(!text.includes(value.slice(40, 80)), `no part of ${key} may be printed`);
  }
}

test('dry run: prints functions, sizes, variables by name, routes and the timer, and changes nothing', async () => {
  const f = fixture();
  const result = await runDeploy(f.options);
  const out = f.output();
  assert.equal(result.ok, true, out);
  assert.ok(result.plan);
  assert.deepEqual(
    result.plan.functions.map((p) => p.name),
    rc.functions.map((x) => x.name),
  );
  for (const fn of result.plan.functions) {
    assert.match(
      out,
      new RegExp(
        `^  ${fn.name} +\\d+\\.\\d KiB  Nodejs18\\.15 index\\.main timeout \\d+s memory 256 MB`,
        'm',
      ),
    );
    const expected = [
      ...variablesFor(fn.name as never, f.env).required,
      ...variablesFor(fn.name as never, f.env).optional,
    ].filter((k) => (f.env[k] ?? '') !== '');
    assert.deepEqual(
      [...fn.variables].sort(),
      [...new Set(expected)].sort(),
      `${fn.name} gets exactly the variables it reads`,
    );
    assert.ok(fn.bytes > 0);
  }
  const login = result.plan.functions.find((p) => p.name === 'login')!;
  assert.ok(!login.variables.some((v) => v.startsWith('WXPAY_')), 'login gets no payment secrets');
  const payNotify = result.plan.functions.find((p) => p.name === 'payNotify')!;
  assert.ok(!payNotify.variables.includes('JWT_SECRET'), 'payNotify gets no token secret');
  assert.ok(payNotify.variables.includes('WXPAY_APIV3_KEY'));
  assert.match(
    out,
    /\/pay\/notify +→ payNotify +https:\/\/prod-test123\.service\.tcloudbase\.com\/pay\/notify/,
  );
  assert.match(out, /\/refund\/notify +→ refundNotify/);
  assert.match(out, /reconcile: timer every5min "0 \*\/5 \* \* \* \* \*"/);
  assert.match(
    out,
    /tcb fn deploy payNotify --force --yes -e prod-test123 --config-file \S+ --path \/pay\/notify/,
  );
  assert.match(out, /^Dry run — nothing will be changed/m);
  assertNoSecrets(out, f.env);
  assert.ok(!existsSync(join(f.caseDir, 'build', 'deploy')), 'the dry run writes nothing');
});

test('public-key mode: the notify functions deploy without the merchant key; certificate mode refuses that', async () => {
  const f = fixture({ env: { WXPAY_SERIAL_NO: undefined, WXPAY_PRIVATE_KEY: undefined } });
  const result = await runDeploy({ ...f.options, only: ['payNotify', 'refundNotify'] });
  assert.equal(result.ok, true, f.output());
  for (const fn of result.plan!.functions) {
    assert.ok(
      !fn.variables.includes('WXPAY_PRIVATE_KEY') && !fn.variables.includes('WXPAY_SERIAL_NO'),
      `${fn.name}: ${fn.variables.join(',')}`,
    );
    assert.ok(fn.variables.includes('WXPAY_PUBLIC_KEY') && fn.variables.includes('WXPAY_APIV3_KEY'));
  }
  const cert = fixture({
    env: {
      WXPAY_SERIAL_NO: undefined,
      WXPAY_PRIVATE_KEY: undefined,
      WXPAY_PUBLIC_KEY: undefined,
      WXPAY_PUBLIC_KEY_ID: undefined,
    },
  });
  const refused = await runDeploy({ ...cert.options, only: ['payNotify'] });
  assert.equal(refused.ok, false);
  assert.ok(
    refused.problems.some((p) => /payNotify: WXPAY_PRIVATE_KEY is not set in \.env/.test(p)),
    refused.problems.join('\n'),
  );
});

test('npm run deploy -- --dry-run works from the command line and exits 0', async () => {
  const f = fixture();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'scripts', 'deploy.ts'),
      '--dry-run',
      '--skip-build',
      '--env-file',
      f.options.envFile!,
      '--config',
      f.options.configPath!,
      '--build-dir',
      f.buildDir,
    ],
    { cwd: root, timeout: 30_000 },
  );
  assert.match(stdout, /Deploy plan for CloudBase environment prod-test123/);
  assert.match(stdout, /refundNotify/);
  assertNoSecrets(stdout, f.env);
});

test('deploy (not dry): one tcb call per function with its route; values go through the environment, escaped, never to disk', async () => {
  const f = fixture({ env: { ADMIN_OPENIDS: 'oAdmin_1234567,oAdmin"quote' } });
  // ADMIN_OPENIDS with a quote is invalid for the functions, so use a valid one and test escaping separately
  writeFileSync(
    f.options.envFile!,
    serializeEnv({ ...f.env, ADMIN_OPENIDS: 'oAdmin_1234567,oAdmin_7654321' }),
  );
  const calls: Array<{ args: string[]; env: Record<string, string> }> = [];
  const result = await runDeploy({
    ...f.options,
    dryRun: false,
    isolationCheck: false,
    runner: (args, env) => (calls.push({ args, env }), Promise.resolve(0)),
  });
  assert.equal(result.ok, true, f.output());
  assert.equal(calls.length, rc.functions.length);
  const derivedPath = join(f.caseDir, 'build', 'deploy', 'cloudbaserc.json');
  const derivedText = readFileSync(derivedPath, 'utf8');
  assertNoSecrets(derivedText, f.env);
  const derived = JSON.parse(derivedText) as Cloudbaserc;
  assert.equal(derived.envId, 'prod-test123');
  assert.equal(derived.functionRoot, join('build', 'cloudfunctions'));
  for (const call of calls) {
    const name = call.args[2];
    assert.deepEqual(call.args.slice(0, 7), ['fn', 'deploy', name, '--force', '--yes', '-e', 'prod-test123']);
    // HTTP_API is off here: only the notification routes are deployed
    const route = rc.httpAccess?.find((r) => r.name === name && !r.path.startsWith('/api/'))?.path;
    if (route) assert.deepEqual(call.args.slice(-2), ['--path', route]);
    else assert.ok(!call.args.includes('--path'));
    const entry = derived.functions.find((x) => x.name === name)!;
    assert.deepEqual(Object.keys(entry.envVariables ?? {}).sort(), Object.keys(call.env).sort());
    for (const [k, template] of Object.entries(entry.envVariables ?? {})) {
      assert.equal(template, `{{env.${k}}}`);
      // what tcb does: substitute the env value into the JSON text, then parse it
      const rendered = JSON.parse(`{"v":"${call.env[k]}"}`) as { v: string };
      const original = parseDotenv(readFileSync(f.options.envFile!))[k].trim();
      assert.equal(rendered.v, original, `${k} arrives intact`);
    }
  }
  const refund = calls.find((c) => c.args[2] === 'refund')!;
  assert.ok('ADMIN_OPENIDS' in refund.env && 'WXPAY_REFUND_NOTIFY_URL' in refund.env);
  assert.ok(!('WX_APPSECRET' in refund.env), 'refund gets no AppSecret');
  assertNoSecrets(f.output(), f.env);
});

test('a failing tcb call stops the deploy and says how to resume', async () => {
  const f = fixture();
  let n = 0;
  const result = await runDeploy({
    ...f.options,
    dryRun: false,
    isolationCheck: false,
    runner: () => Promise.resolve(++n === 2 ? 7 : 0),
  });
  assert.equal(result.ok, false);
  assert.equal(n, 2);
  assert.match(result.problems[0], /exited with 7; .*npx tcb login.*--only createPayment/);
});

const OPENID = (i: number) => `oTest${String(i).padStart(23, '0')}`;

const CASES: Array<{
  what: string;
  setup: Parameters<typeof fixture>[0];
  expect: RegExp;
  isolation?: boolean;
}> = [
  {
    what: 'missing environment id',
    setup: { env: { TCB_ENV_ID: undefined } },
    expect: /^TCB_ENV_ID is not set in \.env; set it to your CloudBase environment id/,
  },
  {
    what: 'missing required variable',
    setup: { env: { WX_APPSECRET: undefined } },
    expect:
      /^login: WX_APPSECRET is not set in \.env; login needs it \(copy it from 微信公众平台 → .*AppSecret/,
  },
  {
    what: 'missing v3 key for a pay function',
    setup: { env: { WXPAY_APIV3_KEY: '' } },
    expect: /^payNotify: WXPAY_APIV3_KEY is not set in \.env/,
  },
  {
    what: 'private key that does not parse',
    setup: { env: { WXPAY_PRIVATE_KEY: 'MIIEnot-a-key' } },
    expect: /^createPayment: WXPAY_PRIVATE_KEY /,
  },
  {
    what: 'public key that does not parse',
    setup: { env: { WXPAY_PUBLIC_KEY: 'garbage' } },
    expect: /^payNotify: WXPAY_PUBLIC_KEY /,
  },
  {
    what: 'public key id without key',
    setup: { env: { WXPAY_PUBLIC_KEY: undefined } },
    expect: /WXPAY_PUBLIC_KEY is not set but WXPAY_PUBLIC_KEY_ID is/,
  },
  {
    what: 'APIv3 key of the wrong length',
    setup: { env: { WXPAY_APIV3_KEY: 'x'.repeat(31) } },
    expect: /WXPAY_APIV3_KEY must be exactly 32 bytes \(it is 31\)/,
  },
  {
    what: 'v2 mode without its key',
    setup: { env: { WXPAY_API_VERSION: 'v2', WXPAY_APIV2_KEY: undefined } },
    expect: /^createPayment: WXPAY_APIV2_KEY is not set in \.env/,
  },
  {
    what: 'v2 refunds over https without the merchant certificate',
    setup: { env: { WXPAY_API_VERSION: 'v2' } },
    expect:
      /^refund: WXPAY_MERCHANT_CERT is not set in \.env; refund needs it \(v2 refunds \(\/secapi\/pay\/refund\) over https need the merchant API certificate/,
  },
  {
    what: 'http notify URL',
    setup: { env: { WXPAY_NOTIFY_URL: 'http://prod-test123.service.tcloudbase.com/pay/notify' } },
    expect:
      /^WXPAY_NOTIFY_URL must use https:\/\/ .*set it to https:\/\/prod-test123\.service\.tcloudbase\.com\/pay\/notify/,
  },
  {
    what: 'notify URL on the wrong path',
    setup: { env: { WXPAY_NOTIFY_URL: 'https://example.com/notify' } },
    expect: /^WXPAY_NOTIFY_URL must end in the HTTP access path \/pay\/notify \(it ends in \/notify\)/,
  },
  {
    what: 'refund notify URL pointing at the laptop',
    setup: { env: { WXPAY_REFUND_NOTIFY_URL: 'https://127.0.0.1/refund/notify' } },
    expect: /^WXPAY_REFUND_NOTIFY_URL points at 127\.0\.0\.1, which WeChat Pay cannot reach/,
  },
  {
    what: 'simulator base URL left in .env',
    setup: { env: { WXPAY_BASE_URL: 'http://127.0.0.1:3100' } },
    expect: /^WXPAY_BASE_URL is set to a non-HTTPS URL .*remove it/,
  },
  {
    what: 'subscription templates that do not fit their keys',
    setup: {
      env: {
        WX_SUBSCRIBE_TEMPLATES: JSON.stringify({
          paid: { templateId: 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg', data: { amount2: 'paidAt' } },
        }),
      },
    },
    expect:
      /^createPayment: WX_SUBSCRIBE_TEMPLATES paid\.data\.amount2 is of type amount, which cannot hold paidAt \(a time value\); map it to a key of type thing, time, date/,
  },
  {
    what: 'over the 4 KB variable limit',
    setup: { env: { ADMIN_OPENIDS: Array.from({ length: 90 }, (_, i) => OPENID(i)).join(',') } },
    expect:
      /^orders: its variables take \d+ bytes, over CloudBase's 4096-byte limit per function \(largest: ADMIN_OPENIDS \d+ B/,
  },
  {
    what: 'missing bundle',
    setup: { bundle: (name, d) => name === 'refund' && rmSync(join(d, 'index.js')) },
    expect: /^refund: \S+index\.js is missing; run npm run build/,
  },
  {
    what: 'bundle requiring node_modules',
    setup: {
      bundle: (name, d) =>
        name === 'orders' &&
        writeFileSync(join(d, 'index.js'), 'const a=require("axios");exports.main=async()=>a;'),
    },
    expect: /^orders: index\.js still requires axios from node_modules/,
  },
  {
    what: 'bundle with dependencies in package.json',
    setup: {
      bundle: (name, d) =>
        name === 'login' &&
        writeFileSync(
          join(d, 'package.json'),
          JSON.stringify({ name, main: 'index.js', dependencies: { 'wx-server-sdk': '^3' } }),
        ),
    },
    expect: /^login: package\.json lists dependencies \(wx-server-sdk\)/,
  },
  {
    what: 'bundle that does not load on its own',
    setup: {
      bundle: (name, d) =>
        name === 'reconcile' &&
        writeFileSync(join(d, 'index.js'), 'const m="ax"+"ios";require(m);exports.main=()=>1;'),
    },
    expect: /^reconcile: index\.js does not load on its own \(.*Cannot find module 'axios'/,
    isolation: true,
  },
  {
    what: 'five-field cron',
    setup: {
      rc: (c) => (c.functions.find((x) => x.name === 'reconcile')!.triggers![0].config = '*/5 * * * *'),
    },
    expect: /trigger every5min cron "\*\/5 \* \* \* \*" has 5 field\(s\); CloudBase timers need 7/,
  },
  {
    what: 'installDependency left on',
    setup: { rc: (c) => (c.functions[0].installDependency = true) },
    expect: /function login: set "installDependency": false/,
  },
  {
    what: 'function missing from cloudbaserc.json',
    setup: { rc: (c) => (c.functions = c.functions.filter((x) => x.name !== 'orders')) },
    expect: /^cloudbaserc\.json does not list function orders/,
  },
  {
    what: 'route to an unknown function',
    setup: { rc: (c) => c.httpAccess!.push({ name: 'nope', path: '/x' }) },
    expect: /httpAccess \/x points at function nope, which is not in "functions"/,
  },
];

for (const c of CASES) {
  test(`check fails with an actionable message: ${c.what}`, async () => {
    const f = fixture(c.setup);
    // loading every bundle in its own process is covered by the dry run; here only where it is the point
    const result = await runDeploy({ ...f.options, isolationCheck: c.isolation ?? false });
    assert.equal(result.ok, false, `expected a failure for ${c.what}`);
    assert.ok(
      result.problems.some((p) => c.expect.test(p)),
      `no problem matched ${c.expect}:\n${result.problems.join('\n')}`,
    );
    assert.match(f.output(), /Deployment checks failed \(\d+\); nothing was deployed/);
    assertNoSecrets(f.output(), f.env);
  });
}

test('a missing .env says to copy .env.example', async () => {
  const f = fixture();
  await assert.rejects(
    runDeploy({ ...f.options, envFile: join(f.caseDir, 'nope.env') }),
    /nope\.env not found; copy \.env\.example to \.env/,
  );
});

test('cron: 7-field CloudBase expressions', () => {
  for (const ok of [
    '0 */5 * * * * *',
    '0 0 2 1 * * *',
    '0 15 10 * * MON-FRI *',
    '0 0 10,14,16 * * * *',
    '0 */30 9-17 * * * *',
    '*/5 * * * * * *',
  ])
    assert.equal(cronProblem(ok), undefined, ok);
  assert.match(cronProblem('*/5 * * * *')!, /has 5 field\(s\)/);
  assert.match(cronProblem('0 61 * * * * *')!, /minute field "61": 61 is outside 0–59/);
  assert.match(cronProblem('0 0 5-2 * * * *')!, /runs backwards/);
  assert.match(cronProblem('0 */0 * * * * *')!, /step "0"/);
  assert.match(cronProblem('0 0 0 * FOO * *')!, /"FOO" is not a month/);
});

test('externalRequires finds packages, ignores builtins, relative paths and optional peers', () => {
  const src =
    'require("fs");require("node:crypto");require("./x");require("axios/lib/x");require(\'@cloudbase/node-sdk\');try{require("bufferutil")}catch{}';
  assert.deepEqual(externalRequires(src), ['@cloudbase/node-sdk', 'axios']);
});

test("escapeForTcb: any value survives tcb's substitution into JSON", () => {
  for (const v of [
    'plain',
    'a"b',
    'back\\slash',
    '-----BEGIN KEY-----\\nMIIabc\\n-----END KEY-----',
    'tab\tnew\nline',
    '中文',
  ]) {
    assert.equal((JSON.parse(`{"v":"${escapeForTcb(v)}"}`) as { v: string }).v, v);
  }
});

test('the committed cloudbaserc.json is valid and its routes are the notification and message-push paths', () => {
  assert.deepEqual(cloudbasercProblems(rc), []);
  assert.deepEqual(rc.httpAccess, [
    { name: 'payNotify', path: '/pay/notify' },
    { name: 'refundNotify', path: '/refund/notify' },
    { name: 'wxMessage', path: '/wx/message' },
    ...HTTP_API_ROUTES,
  ]);
});

test('.env.example and the cloudbaserc.json templates are what shared/config/declaration.ts declares', () => {
  for (const f of declaredFiles(root))
    assert.equal(
      f.current,
      f.wanted,
      `${f.path} has drifted from shared/config/declaration.ts; run npx tsx scripts/deploy/sync-config-files.ts`,
    );
  // and the derived files say what a reader needs: every variable any function reads, documented
  const documented = parseDotenv(readFileSync(join(root, '.env.example')));
  for (const f of rc.functions) {
    const v = FUNCTION_VARIABLES[f.name as keyof typeof FUNCTION_VARIABLES];
    assert.ok(v, `${f.name} is declared`);
    for (const k of [...v.required, ...v.optional]) {
      assert.ok(k in documented, `.env.example lists ${k}`);
      assert.equal(f.envVariables?.[k], `{{env.${k}}}`, `${f.name} template for ${k}`);
    }
  }
  assert.ok('TCB_ENV_ID' in documented);
  assert.match(
    readFileSync(join(root, '.env.example'), 'utf8'),
    /^# Token lifetime in seconds \(default 7200\)\.$/m,
  );
});

test('HTTP_API: the /api/* routes deploy only when on; CORS origins reach the callables only then', async () => {
  const off = fixture();
  const plain = await runDeploy(off.options);
  assert.equal(plain.ok, true, off.output());
  assert.deepEqual(
    plain.plan!.routes.map((r) => r.path),
    ['/pay/notify', '/refund/notify', '/wx/message'],
  );
  assert.ok(!off.output().includes('/api/'), 'no HTTPS API route is planned while HTTP_API is off');

  const on = fixture({ env: { HTTP_API: 'on', HTTP_API_CORS_ORIGINS: 'https://shop.example.com' } });
  const calls: string[][] = [];
  const result = await runDeploy({
    ...on.options,
    dryRun: false,
    isolationCheck: false,
    runner: async (args) => (calls.push(args), 0),
  });
  assert.equal(result.ok, true, on.output());
  for (const { name, path } of HTTP_API_ROUTES) {
    assert.match(
      on.output(),
      new RegExp(
        `${path.replace(/\//g, '\\/')} +→ ${name} +https://prod-test123\\.service\\.tcloudbase\\.com${path}`,
      ),
    );
    const call = calls.find((c) => c[2] === name)!;
    assert.deepEqual(call.slice(-2), ['--path', path]);
    assert.ok(
      result.plan!.functions.find((f) => f.name === name)!.variables.includes('HTTP_API_CORS_ORIGINS'),
    );
  }
  for (const name of ['payNotify', 'refundNotify', 'reconcile'])
    assert.ok(
      !result.plan!.functions.find((f) => f.name === name)!.variables.includes('HTTP_API_CORS_ORIGINS'),
    );
  const derived = JSON.parse(
    readFileSync(join(on.caseDir, 'build', 'deploy', 'cloudbaserc.json'), 'utf8'),
  ) as Cloudbaserc;
  assert.equal(derived.httpAccess?.length, 8); // the notifications, message push and the five /api routes
});

test('HTTP_API checks: its value, the routes it needs, and the CORS origins', async () => {
  const cases: Array<{ env: Record<string, string>; rc?: (c: Cloudbaserc) => void; expect: RegExp }> = [
    { env: { HTTP_API: 'yes' }, expect: /HTTP_API must be "on" .* or "off"/ },
    {
      env: { HTTP_API_CORS_ORIGINS: 'https://a.example.com' },
      expect: /HTTP_API_CORS_ORIGINS is set but HTTP_API is not "on"/,
    },
    {
      env: { HTTP_API: 'on', HTTP_API_CORS_ORIGINS: '*' },
      expect: /HTTP_API_CORS_ORIGINS must list exact origins/,
    },
    {
      env: { HTTP_API: 'on', HTTP_API_CORS_ORIGINS: 'https://a.example.com/' },
      expect: /write "https:\/\/a\.example\.com\/" exactly as browsers send it, "https:\/\/a\.example\.com"/,
    },
    {
      env: { HTTP_API: 'on' },
      rc: (c) => (c.httpAccess = c.httpAccess!.filter((r) => r.path !== '/api/refund')),
      expect:
        /HTTP_API=on but cloudbaserc\.json has no httpAccess route \{"name": "refund", "path": "\/api\/refund"\}/,
    },
  ];
  for (const c of cases) {
    const f = fixture({ env: c.env, rc: c.rc });
    const result = await runDeploy(f.options);
    assert.equal(result.ok, false, JSON.stringify(c.env));
    assert.ok(
      result.problems.some((p) => c.expect.test(p)),
      result.problems.join('\n'),
    );
  }
  assert.equal(httpApiEnabled({ HTTP_API: ' ON ' }), true);
  assert.equal(httpApiEnabled({}), false);
});

test('.env.example documents every variable a function reads, and TCB_ENV_ID', () => {
  const documented = Object.keys(parseDotenv(readFileSync(join(root, '.env.example'))));
  const needed = new Set(['TCB_ENV_ID']);
  for (const v of Object.values(FUNCTION_VARIABLES))
    for (const k of [...v.required, ...v.optional]) needed.add(k);
  for (const name of Object.keys(FUNCTION_VARIABLES))
    for (const k of variablesFor(name as never, { WXPAY_API_VERSION: 'v2' }).required) needed.add(k);
  for (const k of needed) assert.ok(documented.includes(k), `.env.example documents ${k}`);
});
