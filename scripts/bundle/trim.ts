// The esbuild plugin that applies scripts/bundle/stubs.ts: a matching import (specifier and importer)
// resolves to the stub's source instead of the package; everything else resolves normally. It records
// which stubs it applied so that the build can refuse a rule that no longer matches anything (an SDK
// update moved the import) instead of silently shipping the module again. It also cuts the unused
// helpers of wx-server-sdk's generated protobuf code (scripts/bundle/protobuf-helpers.ts) and defers
// what axios evaluates at load that loads Node's undici (scripts/bundle/axios-lazy-fetch.ts), and gives
// node-sdk's request signer a comparator that spares ICU (scripts/bundle/sorted-keys.ts).
import type { Plugin } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { AXIOS_NODE_ENTRY, deferAxiosWebGlobals } from './axios-lazy-fetch';
import { stripProtobufHelpers, WX_SERVER_SDK_ENTRY } from './protobuf-helpers';
import { fastSortedKeys, SORTED_KEY_VALUE_FILE } from './sorted-keys';
import {
  DEFERRED,
  deferredLabel,
  deferredSource,
  ON_FIRST_USE_RUNTIME,
  onFirstUseRuntimeSource,
  REDIRECTS,
  redirectLabel,
  JSON_BIGINT_SHIM,
  jsonBigintShimSource,
  SEMVER_SHIM,
  STUBS,
  semverShimSource,
  stubSource,
  type Deferred,
  type Redirect,
  type Stub,
} from './stubs';

const root = resolve(__dirname, '..', '..');

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function trimPlugin(
  applied: Set<string>,
  stubs: Stub[] = STUBS,
  redirects: Redirect[] = REDIRECTS,
  deferred: Deferred[] = DEFERRED,
): Plugin {
  const names = [
    ...new Set([
      ...stubs.map((s) => s.module),
      ...redirects.map((r) => r.module),
      ...deferred.map((d) => d.module),
      SEMVER_SHIM.module,
      JSON_BIGINT_SHIM.module,
    ]),
  ];
  const filter = new RegExp(`^(${names.map(escape).join('|')})$`);
  return {
    name: 'trim-unused-modules',
    setup(build) {
      build.onResolve({ filter }, async (args) => {
        if ((args.pluginData as { redirected?: boolean } | undefined)?.redirected) return undefined;
        const importer = args.importer.split('\\').join('/');
        const redirect = redirects.find((r) => r.module === args.path && r.importer.test(importer));
        const later = deferred.find((d) => d.module === args.path && d.importer.test(importer));
        if (later) {
          applied.add(deferredLabel(later));
          if (redirect) applied.add(redirectLabel(redirect));
          // one stand-in per importing folder: its require() resolves from there, as the import did
          // (from the repository root when the import is also redirected there)
          const resolveDir = redirect ? root : args.resolveDir;
          return {
            path: `${later.module}@${relative(root, resolveDir).split('\\').join('/') || '.'}`,
            namespace: 'on-first-use',
            pluginData: { module: later.module, resolveDir, plainCommonJs: later.plainCommonJs === true },
          };
        }
        if (redirect) {
          const found = await build.resolve(args.path, {
            kind: args.kind,
            resolveDir: root,
            pluginData: { redirected: true },
          });
          if (found.errors.length > 0) return { errors: found.errors };
          applied.add(redirectLabel(redirect));
          return { path: found.path };
        }
        const stub = stubs.find((s) => s.module === args.path && s.importer.test(importer));
        if (stub) {
          applied.add(stub.module);
          return { path: stub.module, namespace: 'left-out', pluginData: stub };
        }
        if (args.path === SEMVER_SHIM.module && SEMVER_SHIM.importer.test(importer)) {
          applied.add('semver');
          return { path: 'semver', namespace: 'shim' };
        }
        if (args.path === JSON_BIGINT_SHIM.module && JSON_BIGINT_SHIM.importer.test(importer)) {
          applied.add('json-bigint');
          return { path: 'json-bigint', namespace: 'shim' };
        }
        return undefined;
      });
      build.onLoad({ filter: WX_SERVER_SDK_ENTRY }, async (args) => ({
        contents: stripProtobufHelpers(await readFile(args.path, 'utf8')),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
      build.onLoad({ filter: SORTED_KEY_VALUE_FILE }, async (args) => ({
        contents: fastSortedKeys(await readFile(args.path, 'utf8')),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
      build.onLoad({ filter: AXIOS_NODE_ENTRY }, async (args) => ({
        contents: deferAxiosWebGlobals(await readFile(args.path, 'utf8')),
        resolveDir: dirname(args.path),
        loader: 'js',
      }));
      build.onResolve({ filter: new RegExp(`^${escape(ON_FIRST_USE_RUNTIME)}$`) }, () => ({
        path: 'runtime',
        namespace: 'on-first-use',
      }));
      build.onLoad({ filter: /^runtime$/, namespace: 'on-first-use' }, () => ({
        contents: onFirstUseRuntimeSource(),
        loader: 'js',
      }));
      build.onLoad({ filter: /@/, namespace: 'on-first-use' }, (args) => {
        const { module, resolveDir, plainCommonJs } = args.pluginData as {
          module: string;
          resolveDir: string;
          plainCommonJs: boolean;
        };
        return {
          contents: deferredSource(`require(${JSON.stringify(module)})`, plainCommonJs),
          resolveDir,
          loader: 'js',
        };
      });
      build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
        contents: stubSource(args.pluginData as Stub),
        loader: 'js',
      }));
      build.onLoad({ filter: /^json-bigint$/, namespace: 'shim' }, () => ({
        contents: jsonBigintShimSource(),
        loader: 'js',
      }));
      build.onLoad({ filter: /^semver$/, namespace: 'shim' }, () => ({
        contents: semverShimSource(),
        loader: 'js',
      }));
    },
  };
}
