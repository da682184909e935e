// config.json's 云调用 permissions: written by the build for exactly the functions that call WeChat's
// server APIs, listing every API of the table (a missing name is -604101 in the cloud, found only there).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FUNCTIONS } from '../../shared/config/declaration';
import { OPEN_APIS } from '../../shared/wechat/openapi';
import { buildFunctions } from '../build';
import { functionConfig } from './function-config';

test('functions that declare wechatOpenApi are granted every 云调用 name; the others get no config', () => {
  for (const [name, needs] of Object.entries(FUNCTIONS)) {
    const config = functionConfig(name);
    if ((needs as readonly string[]).includes('wechatOpenApi')) {
      assert.ok(config, `${name} calls WeChat's server APIs and needs permissions.openapi`);
      assert.deepEqual(
        [...config.permissions.openapi].sort(),
        Object.values(OPEN_APIS)
          .map((a) => a.cloud)
          .sort(),
      );
    } else assert.equal(config, undefined, name);
  }
  assert.ok(functionConfig('ship')?.permissions.openapi.includes('wxa.sec.order.uploadShippingInfo'));
  assert.ok(functionConfig('account')?.permissions.openapi.includes('phonenumber.getPhoneNumber'));
  assert.equal(functionConfig('login'), undefined);
  assert.equal(functionConfig('no-such-function'), undefined);
});

test('the build writes config.json next to index.js of ship and none for login', async () => {
  const out = mkdtempSync(join(tmpdir(), 'fn-config-'));
  try {
    await buildFunctions(out, ['ship', 'login']);
    const written = JSON.parse(readFileSync(join(out, 'ship', 'config.json'), 'utf8')) as unknown;
    assert.deepEqual(written, functionConfig('ship'));
    assert.equal(existsSync(join(out, 'login', 'config.json')), false);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
