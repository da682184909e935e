// WeChat DevTools cannot import files outside the mini-program's root, so the mini-program carries a
// copy of the callable contract. This keeps it identical to the one the functions compile against.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(__dirname, '../..');

test('miniprogram/miniprogram/types/api.ts is byte-identical to shared/contracts/api.ts', () => {
  const original = readFileSync(resolve(root, 'shared/contracts/api.ts'), 'utf8');
  const copy = readFileSync(resolve(root, 'miniprogram/miniprogram/types/api.ts'), 'utf8');
  assert.ok(
    original.includes('export interface FunctionContracts'),
    'the shared contract is where it should be',
  );
  assert.equal(copy, original, 'run: cp shared/contracts/api.ts miniprogram/miniprogram/types/api.ts');
});

test('the DevTools project is cloud-enabled TypeScript rooted at miniprogram/', () => {
  const config = JSON.parse(readFileSync(resolve(root, 'miniprogram/project.config.json'), 'utf8')) as {
    miniprogramRoot: string;
    cloudfunctionRoot: string;
    appid: string;
    setting: { useCompilerPlugins: string[] };
  };
  assert.equal(config.miniprogramRoot, 'miniprogram/');
  assert.ok(config.setting.useCompilerPlugins.includes('typescript'));
  assert.match(config.appid, /^wx[0-9a-f]{16}$/);
  const app = JSON.parse(readFileSync(resolve(root, 'miniprogram/miniprogram/app.json'), 'utf8')) as {
    pages: string[];
  };
  for (const page of app.pages) {
    for (const ext of ['ts', 'wxml', 'wxss', 'json']) {
      assert.ok(
        readFileSync(resolve(root, 'miniprogram/miniprogram', `${page}.${ext}`), 'utf8').length > 0,
        `${page}.${ext}`,
      );
    }
  }
});
