// The least a CloudBase function that touches the database does, bundled like ours: load
// @cloudbase/node-sdk, initialise it the way a deployed function must, read one document, answer. Its
// cold start (scripts/bench/cold.ts) is the floor under every function of this kit with the platform's
// SDK, whatever our own code does; the `cold start` rows are read against it as well as against
// `node -e 0`.

type NodeSdk = typeof import('@cloudbase/node-sdk');

export async function main(): Promise<{ statusCode: number; found: number }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- evaluated on the call, as our functions do
  const tcb = require('@cloudbase/node-sdk') as NodeSdk;
  const db = tcb.init({ env: tcb.SYMBOL_CURRENT_ENV }).database();
  const res = (await db.collection('products').doc('coffee-latte').get()) as { data?: unknown[] };
  return { statusCode: 200, found: Array.isArray(res.data) ? res.data.length : -1 };
}
