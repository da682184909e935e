// db-setup's rules and indexes go through @cloudbase/manager-node itself: the test points the real
// library at a loopback server standing in for the Tencent Cloud API (manager-node sends every tcb
// call to TCB_BASE_URL when it is set) and asserts the requests it sends for our plan.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { runDbSetup } from '../db-setup';
import { DATABASE_PLAN, createIndexesParam, ruleJson } from './plan';

const KEY = {
  secretId: 'AKIDtestonly000000000000000000000000',
  secretKey: 'testonlysecretkey0000000000000000',
};
const ENV_ID = 'prod-9';
const TAG = 'tnt-db9';

interface Seen {
  action: string;
  version: string;
  authorization: string;
  payload: Record<string, unknown>;
}

type Answer = (action: string, payload: Record<string, unknown>) => Record<string, unknown>;

async function fakeTencentCloudApi(answer: Answer) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const payload = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const action = String(req.headers['x-tc-action']);
      seen.push({
        action,
        version: String(req.headers['x-tc-version']),
        authorization: String(req.headers.authorization),
        payload,
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Response: { RequestId: `req-${seen.length}`, ...answer(action, payload) } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { seen, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const saved = { base: process.env.TCB_BASE_URL, proxy: process.env.http_proxy };
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'db-setup-manager-'));
  // manager-node would tunnel through http_proxy; the fake API is on loopback.
  delete process.env.http_proxy;
});
after(() => {
  if (saved.base === undefined) delete process.env.TCB_BASE_URL;
  else process.env.TCB_BASE_URL = saved.base;
  if (saved.proxy !== undefined) process.env.http_proxy = saved.proxy;
  rmSync(dir, { recursive: true, force: true });
});

async function runAgainst(answer: Answer) {
  const api = await fakeTencentCloudApi(answer);
  const emu = await startCloudbaseEmulator({ port: 0 });
  process.env.TCB_BASE_URL = api.url;
  const envFile = join(dir, `${api.url.split(':').pop()}.env`);
  writeFileSync(
    envFile,
    `TCB_ENV_ID=${ENV_ID}\nTENCENTCLOUD_SECRETID=${KEY.secretId}\nTENCENTCLOUD_SECRETKEY=${KEY.secretKey}\n`,
  );
  const lines: string[] = [];
  try {
    const result = await runDbSetup({ envFile, log: (l) => lines.push(l), db: openLocalDatabase(emu.url) });
    return { result, seen: api.seen, out: lines.join('\n') };
  } finally {
    await api.close();
    await emu.close();
  }
}

const envInfo = {
  EnvInfo: { EnvBaseInfo: { EnvId: ENV_ID, Databases: [{ InstanceId: TAG }] } },
};

test('manager-node sends ModifySafeRule for every collection and UpdateTable only for missing indexes', async () => {
  const { result, seen, out } = await runAgainst((action, p) => {
    if (action === 'DescribeEnvInfo') return envInfo;
    if (action === 'DescribeTable')
      return {
        Indexes:
          p.TableName === 'orders' ? [{ Name: '_id_' }, { Name: 'status_createdAt' }] : [{ Name: '_id_' }],
      };
    return {};
  });
  assert.equal(result.created.length, DATABASE_PLAN.length);

  for (const s of seen) {
    assert.equal(s.version, '2018-06-08', `${s.action} goes to the tcb API`);
    assert.match(
      s.authorization,
      new RegExp(`^TC3-HMAC-SHA256 Credential=${KEY.secretId}/\\d{4}-\\d\\d-\\d\\d/tcb/`),
    );
    assert.ok(!JSON.stringify(s.payload).includes(KEY.secretKey));
  }
  const rules = seen.filter((s) => s.action === 'ModifySafeRule');
  assert.deepEqual(
    rules.map((r) => r.payload),
    DATABASE_PLAN.map((c) => ({
      EnvId: ENV_ID,
      CollectionName: c.name,
      AclTag: 'CUSTOM',
      Rule: ruleJson(c),
    })),
  );

  const withIndexes = DATABASE_PLAN.filter((c) => c.indexes.length > 0);
  const connector = { DatabaseName: TAG, InstanceId: 'flexdb' };
  assert.deepEqual(
    seen.filter((s) => s.action === 'DescribeTable').map((s) => s.payload),
    withIndexes.map((c) => ({ EnvId: ENV_ID, MongoConnector: connector, TableName: c.name })),
  );
  const updates = seen.filter((s) => s.action === 'UpdateTable');
  assert.deepEqual(
    updates.map((s) => s.payload),
    withIndexes.map((c) => ({
      EnvId: ENV_ID,
      MongoConnector: connector,
      TableName: c.name,
      CreateIndexes: createIndexesParam(c).filter(
        (ix) => !(c.name === 'orders' && ix.IndexName === 'status_createdAt'),
      ),
    })),
    'an existing index is not created again',
  );
  assert.deepEqual(
    seen.map((s) => s.action).filter((a, i, all) => all.indexOf(a) === i),
    ['ModifySafeRule', 'DescribeEnvInfo', 'DescribeTable', 'UpdateTable'],
  );
  assert.match(out, /security rules set on users, products, orders, refunds, notifications/);
  assert.match(
    out,
    /indexes created: .*orders\.openid_createdAt_desc.*; already there: orders\.status_createdAt/,
  );
  assert.ok(!out.includes(KEY.secretKey), 'the secret key is never printed');
});

test('when the API refuses, the error names the action, code and RequestId, and the console steps follow', async () => {
  const { seen, out } = await runAgainst(() => ({
    Error: {
      Code: 'AuthFailure.SignatureFailure',
      Message: 'The provided credentials could not be validated.',
    },
  }));
  assert.equal(seen.length, 1, 'nothing more is attempted after the first refusal');
  assert.match(
    out,
    /ModifySafeRule failed: AuthFailure\.SignatureFailure The provided credentials could not be validated\. \(RequestId req-1\)\); set them in the console instead/,
  );
  assert.match(out, /数据权限 → 自定义安全规则 → paste: \{"read":true,"write":false\}/);
  assert.ok(!out.includes(KEY.secretKey));
});
