// Cold start: xml2js is loaded the first time XML is parsed, not when the v2 modules are imported,
// so functions that import v2 for a mode check (or v3-only functions) never pay for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v2 from './index';

const xml2jsLoaded = () =>
  Object.keys(require.cache).some((path) => /[\\/]node_modules[\\/]xml2js[\\/]/.test(path));

test('xml2js is loaded on first parse, not at import; building and signing never load it', () => {
  assert.equal(xml2jsLoaded(), false, 'importing shared/wxpay/v2 must not load xml2js');
  const body = v2.buildV2Xml({ return_code: 'SUCCESS', n: 1 });
  v2.signV2({ a: '1' }, 'k'.repeat(32), 'MD5');
  assert.equal(v2.V2_ACK_SUCCESS.length > 0, true);
  assert.equal(xml2jsLoaded(), false);
  assert.deepEqual(v2.parseV2Xml(body), { return_code: 'SUCCESS', n: '1' });
  assert.equal(xml2jsLoaded(), true);
});
