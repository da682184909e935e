// The comparator the bundles give node-sdk's request signer orders names exactly as localeCompare
// does on this Node's ICU — random names over the alphabet it handles itself, the names the SDK really
// sorts, and names it hands back to localeCompare — and a changed SDK file stops the build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { pick, rng } from '../../test/support/fuzz';
import { fastSortedKeys, SORTED_KEY_COMPARE_SOURCE } from './sorted-keys';

const compare = runInNewContext(`${SORTED_KEY_COMPARE_SOURCE}; sortedKeyCompare`, { String, Math }) as (
  l: string,
  r: string,
) => number;
const locale = (l: string, r: string) => Math.sign(l.localeCompare(r));

test('orders names as localeCompare does', () => {
  const random = rng(16);
  const alphabet = [...'_-0123456789abcdefghijklmnopqrstuvwxyz'];
  const name = () =>
    Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(random, alphabet)).join('');
  for (let i = 0; i < 50_000; i++) {
    const a = name();
    const b = random() < 0.2 ? a + name() : name();
    assert.equal(compare(a, b), locale(a, b), `${a} vs ${b}`);
    assert.equal(compare(b, a), locale(b, a), `${b} vs ${a}`);
  }
  const sdk = [
    'user-agent',
    'content-type',
    'x-tcb-source',
    'x-client-timestamp',
    'x-sdk-version',
    'host',
    'x-tcb-region',
    'querytype',
    'collectionname',
    'query',
    'limit',
    'action',
    'envname',
    'wxcloudapitoken',
    'tcb_sessiontoken',
    'sessiontoken',
    'crossauthorizationtoken',
    'order',
    'X-TCB-Region',
    'envName',
    'a b',
    '中',
  ];
  assert.deepEqual(
    [...sdk].sort(compare),
    [...sdk].sort((l, r) => l.localeCompare(r)),
  );
});

test('a changed signer file stops the build', () => {
  const file = require.resolve('@cloudbase/signature-nodejs/lib/keyvalue.js');
  const source = readFileSync(file, 'utf8');
  assert.match(fastSortedKeys(source), /\.sort\(sortedKeyCompare\)/);
  assert.throws(() => fastSortedKeys(source.replace('localeCompare', 'compare')), /sorted-keys\.ts/);
});
