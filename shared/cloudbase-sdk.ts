// @cloudbase/node-sdk, loaded on the first call that needs it rather than at import: its module graph
// is large, and importing a function's module (the host's checks, a refused notification) should not
// pay for it. One of the lazy require() calls cold start needs in shared/; the other loads axios
// (http/lazy-axios.ts), and shared/wxpay/v2/xml.ts loads xml2js the same way for v2 only.
type NodeSdk = typeof import('@cloudbase/node-sdk');

let loaded: NodeSdk | undefined;

export function loadCloudbaseSdk(): NodeSdk {
  // require (not import): esbuild keeps the CommonJS build behind a wrapper that runs on this call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose (see the line above)
  return (loaded ??= require('@cloudbase/node-sdk') as NodeSdk);
}
