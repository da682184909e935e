// wx-server-sdk embeds the protobufjs code generated for its 云调用 messages (its webpack module
// ./src/protobuf/openapi.js, 43 KiB of the 104 KiB it adds to a bundle). The SDK only encodes and
// decodes those messages; the generated verify, fromObject, toObject, encode/decodeDelimited and
// toJSON helpers, half of that code, are never called. They are cut when the file is loaded, and the
// build stops if the SDK's code no longer has the shape this relies on (an SDK update), rather than
// ship a bundle that could reach a helper that is gone.
export const WX_SERVER_SDK_ENTRY = /\/node_modules\/wx-server-sdk\/index\.js$/;

const MODULE_START = '/***/ "./src/protobuf/openapi.js":';
const HELPERS = 'prototype\\.toJSON|verify|fromObject|toObject|encodeDelimited|decodeDelimited';
const HELPER_DEFINITION = new RegExp(
  // a definition up to the `};` at its own indentation (nested types are indented further)
  `^( +)\\w+\\.(?:${HELPERS}) = function \\w+\\([^)]*\\) \\{\\n[\\s\\S]*?^\\1\\};\\n`,
  'gm',
);
const HELPER_USE = /\.(?:verify|fromObject|toObject|encodeDelimited|decodeDelimited)\(/;

export function stripProtobufHelpers(source: string): string {
  const start = source.indexOf(MODULE_START);
  const end = start < 0 ? -1 : source.indexOf('\n/***/ "', start + MODULE_START.length);
  if (start < 0 || end < 0)
    throw new Error(
      `wx-server-sdk no longer has the module ${MODULE_START}; update scripts/bundle/protobuf-helpers.ts`,
    );
  const generated = source.slice(start, end);
  let removed = 0;
  const kept = generated.replace(HELPER_DEFINITION, () => {
    removed++;
    return '';
  });
  const rest = source.slice(0, start) + source.slice(end);
  if (removed === 0 || HELPER_USE.test(kept) || /openapi_1\.\w+\.(?!encode\(|decode\()\w+\(/.test(rest))
    throw new Error(
      "wx-server-sdk's generated protobuf code changed shape (its helpers are defined or used differently); update scripts/bundle/protobuf-helpers.ts",
    );
  return source.slice(0, start) + kept + source.slice(end);
}
