import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { runDbSetup } from '../db-setup';
import { DATABASE_PLAN, ruleJson } from './plan';
import { apiCaller, signedHeaders } from './tencentcloud';

const CREDS = {
  secretId: 'AKIDtestonly000000000000000000000000',
  secretKey: 'testonlysecretkey0000000000000000',
};

/** TC3-HMAC-SHA256 written again from Tencent Cloud's documentation, in Python: an independent check. */
const PY_TC3 = `
import hashlib, hmac, json, sys
r = json.load(sys.stdin)
def h(k, m): return hmac.new(k, m.encode('utf-8'), hashlib.sha256).digest()
ct = 'application/json; charset=utf-8'
creq = 'POST\\n/\\n\\ncontent-type:%s\\nhost:%s\\n\\ncontent-type;host\\n%s' % (ct, r['host'], hashlib.sha256(r['body'].encode('utf-8')).hexdigest())
import datetime
date = datetime.datetime.utcfromtimestamp(int(r['ts'])).strftime('%Y-%m-%d')
scope = '%s/%s/tc3_request' % (date, r['service'])
sts = 'TC3-HMAC-SHA256\\n%s\\n%s\\n%s' % (r['ts'], scope, hashlib.sha256(creq.encode('utf-8')).hexdigest())
key = h(h(h(('TC3' + r['secret']).encode('utf-8'), date), r['service']), 'tc3_request')
print(hmac.new(key, sts.encode('utf-8'), hashlib.sha256).hexdigest())
`;

function pySignature(req: { host: string; body: string; ts: string; service: string }): string {
  return execFileSync('python3', ['-c', PY_TC3], {
    input: JSON.stringify({ ...req, secret: CREDS.secretKey }),
  })
    .toString()
    .trim();
}

test('TC3 signature agrees with an independent implementation', () => {
  const body = JSON.stringify({ EnvId: 'prod-1', CollectionName: 'orders', Rule: '{"read":false}' });
  const h = signedHeaders(
    { service: 'tcb', version: '2018-06-08', action: 'ModifySafeRule', payload: {} },
    body,
    'tcb.tencentcloudapi.com',
    CREDS,
    1_764_000_000,
  );
  const sig = /Signature=([0-9a-f]{64})$/.exec(h.Authorization)![1];
  assert.equal(sig, pySignature({ host: 'tcb.tencentcloudapi.com', body, ts: '1764000000', service: 'tcb' }));
  assert.match(
    h.Authorization,
    /^TC3-HMAC-SHA256 Credential=AKIDtestonly0+\/2025-11-24\/tcb\/tc3_request, SignedHeaders=content-type;host, Signature=/,
  );
  assert.equal(h['X-TC-Action'], 'ModifySafeRule');
  assert.equal(h['X-TC-Version'], '2018-06-08');
});

interface Seen {
  action: string;
  service: string;
  payload: Record<string, unknown>;
  host: string;
  body: string;
  ts: string;
  authorization: string;
}

async function fakeApi(
  answer: (action: string, payload: Record<string, unknown>) => Record<string, unknown>,
) {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const service = req.url!.slice(1);
    const action = String(req.headers['x-tc-action']);
    const payload = JSON.parse(body) as Record<string, unknown>;
    seen.push({
      action,
      service,
      payload,
      host: String(req.headers.host),
      body,
      ts: String(req.headers['x-tc-timestamp']),
      authorization: String(req.headers.authorization),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Response: { RequestId: `req-${seen.length}`, ...answer(action, payload) } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { seen, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('db-setup with an API key: collections, rules on every collection, only the missing indexes; signed requests', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-setup-api-'));
  const emu = await startCloudbaseEmulator({ port: 0 });
  const api = await fakeApi((action, p) => {
    if (action === 'DescribeEnvs')
      return { EnvList: [{ EnvId: 'prod-9', Databases: [{ InstanceId: 'tnt-db9' }] }] };
    if (action === 'DescribeTable')
      return {
        Indexes:
          p.TableName === 'orders' ? [{ Name: '_id_' }, { Name: 'status_createdAt' }] : [{ Name: '_id_' }],
      };
    return {};
  });
  try {
    writeFileSync(
      join(dir, '.env'),
      `TCB_ENV_ID=prod-9\nTENCENTCLOUD_SECRETID=${CREDS.secretId}\nTENCENTCLOUD_SECRETKEY=${CREDS.secretKey}\n`,
    );
    const lines: string[] = [];
    const res = await runDbSetup({
      envFile: join(dir, '.env'),
      log: (l) => lines.push(l),
      db: openLocalDatabase(emu.url),
      api: apiCaller(CREDS, (s) => `${api.url}/${s}`),
    });
    assert.equal(res.created.length, DATABASE_PLAN.length);
    const rules = api.seen.filter((s) => s.action === 'ModifySafeRule');
    assert.deepEqual(
      rules.map((r) => r.payload.CollectionName),
      DATABASE_PLAN.map((c) => c.name),
    );
    for (const r of rules) {
      assert.equal(r.service, 'tcb');
      assert.equal(r.payload.AclTag, 'CUSTOM');
      assert.equal(r.payload.Rule, ruleJson(DATABASE_PLAN.find((c) => c.name === r.payload.CollectionName)!));
    }
    const updates = api.seen.filter((s) => s.action === 'UpdateTable');
    assert.deepEqual(
      updates.map((u) => u.payload.TableName),
      ['orders', 'refunds', 'notifications'],
    );
    const orderIdx = (updates[0].payload.CreateIndexes as Array<{ IndexName: string }>).map(
      (i) => i.IndexName,
    );
    assert.ok(!orderIdx.includes('status_createdAt'), 'an existing index is not created again');
    assert.equal(orderIdx.length, DATABASE_PLAN.find((c) => c.name === 'orders')!.indexes.length - 1);
    assert.ok(updates.every((u) => u.service === 'flexdb' && u.payload.Tag === 'tnt-db9'));
    // every request is signed correctly (checked by the Python implementation)
    for (const s of api.seen.slice(0, 3)) {
      const sig = /Signature=([0-9a-f]{64})$/.exec(s.authorization)![1];
      assert.equal(sig, pySignature({ host: s.host, body: s.body, ts: s.ts, service: s.service }), s.action);
    }
    const out = lines.join('\n');
    assert.match(
      out,
      /indexes created: .*orders\.openid_createdAt_desc.*; already there: orders\.status_createdAt/,
    );
    assert.ok(!out.includes(CREDS.secretKey), 'the secret key is never printed');
  } finally {
    await api.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('db-setup: when the API refuses, the console steps are printed and the error names the cause', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'db-setup-api-'));
  const emu = await startCloudbaseEmulator({ port: 0 });
  const api = await fakeApi(() => ({
    Error: {
      Code: 'AuthFailure.SignatureFailure',
      Message: 'The provided credentials could not be validated.',
    },
  }));
  try {
    writeFileSync(
      join(dir, '.env'),
      `TCB_ENV_ID=prod-9\nTENCENTCLOUD_SECRETID=${CREDS.secretId}\nTENCENTCLOUD_SECRETKEY=${CREDS.secretKey}\n`,
    );
    const lines: string[] = [];
    await runDbSetup({
      envFile: join(dir, '.env'),
      log: (l) => lines.push(l),
      db: openLocalDatabase(emu.url),
      api: apiCaller(CREDS, (s) => `${api.url}/${s}`),
    });
    const out = lines.join('\n');
    assert.match(
      out,
      /ModifySafeRule failed: AuthFailure\.SignatureFailure .*\(RequestId req-1\)\); set them in the console instead/,
    );
    assert.match(out, /数据权限 → 自定义安全规则 → paste: \{"read":true,"write":false\}/);
  } finally {
    await api.close();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
