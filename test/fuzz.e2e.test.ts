// Generated bad input against every callable through the function host: each call must come back
// as an error envelope (docs/product.md#the-result-envelope), not a crash, with no stack trace and no secret
// in it, and the database must be byte-for-byte what it was before.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CART, startE2E, type CallAs, type E2E } from './support/e2e';
import { pick, rng } from './support/fuzz';

let e: E2E;
/** The local stack's `paid` template (WX_SUBSCRIBE_TEMPLATES): valid alone, refused repeated. */
const PAID_TEMPLATE = 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg';

before(async () => {
  e = await startE2E();
});
after(async () => {
  await e?.close();
});

/** Values that are never a valid scalar of any kind: operators, objects, arrays, wrong types. */
const NOT_SCALAR: unknown[] = [
  null,
  true,
  false,
  [],
  ['T123456789'],
  {},
  { $ne: null },
  { $gt: '' },
  { $regex: '.*' },
  { $where: 'sleep(1000)' },
  { $in: ['coffee-latte'] },
  { _bsontype: 'ObjectID', id: 'x' },
  { $date: 0 },
  { toString: 'x' },
  { __proto__: { admin: true } },
  { a: { b: { c: { d: { e: {} } } } } },
];
/** Strings that no id/code field accepts. */
const BAD_STRINGS: unknown[] = [
  '',
  ' ',
  'abc',
  'a'.repeat(33),
  'x'.repeat(5000),
  '../../etc/passwd',
  'T123\u0000456789',
  'T1234567 89',
  'T12345678;drop',
  '订单号订单号订单号',
  '${7*7}',
  '<script>alert(1)</script>',
  '\ud83d\ude00\ud83d\ude00\ud83d\ude00',
];
const BAD_NUMBERS: unknown[] = [0, -1, 1.5, 1e21, -0.5, Number.MAX_SAFE_INTEGER + 2, '12', '1e3', 1e9];

interface Case {
  name: string;
  data: Record<string, unknown>;
  as: CallAs;
}

function generate(openid: string, count: number, seed: number): Case[] {
  const r = rng(seed);
  const scalarBad = () => (r() < 0.5 ? pick(r, NOT_SCALAR) : pick(r, BAD_STRINGS));
  const intBad = () =>
    r() < 0.5 ? pick(r, NOT_SCALAR) : r() < 0.5 ? pick(r, BAD_NUMBERS) : pick(r, BAD_STRINGS);
  const validFormatId = () => `T${Math.floor(r() * 1e12)}NOPE${Math.floor(r() * 1e6)}`;
  const user: CallAs = { openid };
  const generators: Array<() => Case> = [
    // login without a context identity: the code path.
    () => ({ name: 'login.code', data: r() < 0.1 ? {} : { code: scalarBad() }, as: {} }),
    () => ({
      name: 'login.profile',
      data: {
        profile: pick(r, [...NOT_SCALAR.filter((v) => v !== null && typeof v !== 'object'), [], 'x', 5]),
      },
      as: user,
    }),
    () => ({
      name: 'login.nickName',
      data: {
        profile: {
          nickName: r() < 0.5 ? pick(r, NOT_SCALAR) : pick(r, ['', 'x'.repeat(65), 'a\u0000b', 'tab\there']),
        },
      },
      as: user,
    }),
    () => ({
      name: 'login.avatarUrl',
      data: {
        profile: {
          avatarUrl:
            r() < 0.5
              ? pick(r, NOT_SCALAR)
              : pick(r, [
                  'http://insecure.example/a.png',
                  'javascript:alert(1)',
                  'https://',
                  'ftp://x/y',
                  'https://a b',
                ]),
        },
      },
      as: user,
    }),
    // createPayment
    () => ({
      name: 'createPayment.items',
      data: { items: r() < 0.5 ? pick(r, NOT_SCALAR) : pick(r, BAD_STRINGS) },
      as: user,
    }),
    () => ({ name: 'createPayment.item', data: { items: [pick(r, NOT_SCALAR)] }, as: user }),
    () => ({
      name: 'createPayment.productId',
      data: { items: [{ productId: scalarBad(), quantity: 1 }] },
      as: user,
    }),
    () => ({
      name: 'createPayment.unknownProduct',
      data: { items: [{ productId: `no-such-${Math.floor(r() * 1e6)}`, quantity: 1 }] },
      as: user,
    }),
    () => ({
      name: 'createPayment.inactive',
      data: { items: [{ productId: 'mooncake-box', quantity: 1 }] },
      as: user,
    }),
    () => ({
      name: 'createPayment.quantity',
      data: {
        items: [
          { productId: 'coffee-latte', quantity: r() < 0.5 ? pick(r, [0, -3, 100, 2.5, 1e6]) : intBad() },
        ],
      },
      as: user,
    }),
    () => ({
      name: 'createPayment.tooMany',
      data: {
        items: Array.from({ length: 21 + Math.floor(r() * 30) }, (_, i) => ({
          productId: `p${i}`,
          quantity: 1,
        })),
      },
      as: user,
    }),
    () => ({
      name: 'createPayment.idempotencyKey',
      data: {
        items: CART,
        idempotencyKey:
          r() < 0.5
            ? pick(
                r,
                NOT_SCALAR.filter((v) => v !== null),
              )
            : pick(r, ['', 'short', 'x'.repeat(65), 'has space 123', 'ключ-ключ-ключ']),
      },
      as: user,
    }),
    () => ({
      name: 'createPayment.subscriptions',
      data: {
        items: CART,
        subscriptions:
          r() < 0.4
            ? pick(
                r,
                // [] is a valid answer (the user accepted nothing)
                NOT_SCALAR.filter((v) => !(Array.isArray(v) && v.length === 0)),
              )
            : r() < 0.5
              ? [pick(r, [...NOT_SCALAR, ...BAD_STRINGS])]
              : pick(r, [
                  [PAID_TEMPLATE, PAID_TEMPLATE],
                  [
                    PAID_TEMPLATE,
                    'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4',
                    'a'.repeat(43),
                    PAID_TEMPLATE,
                  ],
                  ['A'.repeat(43)],
                  [`${PAID_TEMPLATE} `],
                  ['BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHl'],
                  'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg',
                ]),
      },
      as: user,
    }),
    () => ({ name: 'createPayment.anonymous', data: { items: CART }, as: {} }),
    // orders
    () => ({
      name: 'orders.action',
      data: { action: r() < 0.5 ? pick(r, NOT_SCALAR) : pick(r, ['', 'GET', 'delete', 'update', 'list ']) },
      as: user,
    }),
    () => ({
      name: 'orders.get',
      data: { action: 'get', orderId: r() < 0.2 ? validFormatId() : scalarBad() },
      as: user,
    }),
    () => ({
      name: 'orders.close',
      data: { action: 'close', orderId: r() < 0.2 ? validFormatId() : scalarBad() },
      as: user,
    }),
    () => ({
      name: 'orders.pageSize',
      data: { action: 'list', pageSize: r() < 0.5 ? pick(r, [0, 51, -1, 2.5, 1000]) : intBad() },
      as: user,
    }),
    () => ({ name: 'orders.before', data: { action: 'list', before: scalarBad() }, as: user }),
    () => ({ name: 'orders.anonymous', data: { action: 'list' }, as: {} }),
    // refund
    () => ({ name: 'refund.orderId', data: { orderId: scalarBad() }, as: user }),
    () => ({ name: 'refund.unknownOrder', data: { orderId: validFormatId() }, as: user }),
    () => ({
      name: 'refund.amountFen',
      data: { orderId: validFormatId(), amountFen: r() < 0.5 ? pick(r, [0, -100, 0.5, 1e12]) : intBad() },
      as: user,
    }),
    () => ({
      name: 'refund.reason',
      data: {
        orderId: validFormatId(),
        reason:
          r() < 0.5
            ? pick(
                r,
                NOT_SCALAR.filter((v) => v !== null),
              )
            : pick(r, ['', 'x'.repeat(81), 'bad\u0007bell']),
      },
      as: user,
    }),
    () => ({ name: 'refund.anonymous', data: { orderId: validFormatId() }, as: {} }),
  ];
  return Array.from({ length: count }, (_, i) => {
    const c = generators[i % generators.length]();
    return { ...c, name: `${c.name}#${i}` };
  });
}

const CODES = new Set(['INVALID_ARGUMENT', 'NOT_FOUND', 'UNAUTHENTICATED', 'PERMISSION_DENIED']);
const STACK = /\bat [^\s]+ \(?[^\s]*:\d+:\d+\)?|\n\s+at /;

describe('fuzzing every callable with bad input', () => {
  it('≥ 1,000 generated bad inputs: no crash, no stack trace, no secret, no write', async () => {
    const user = await e.newUser();
    // Warm the functions once so that the database snapshot is taken after any lazy setup.
    await e.call('orders', { action: 'list' }, { openid: user.openid });
    const beforeDump = await e.dumpAll();
    const cases = generate(user.openid, 1008, 20261125);
    const secrets = ['WX_APPSECRET', 'JWT_SECRET', 'WXPAY_APIV3_KEY', 'WXPAY_APIV2_KEY']
      .map((k) => e.baseEnv[k])
      .filter(Boolean);
    const started = Date.now();
    const failures: string[] = [];
    const byName: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++];
        const fn = c.name.split('.')[0];
        byName[fn] = (byName[fn] ?? 0) + 1;
        const r = await e.callRaw(fn, c.data, c.as);
        const text = JSON.stringify(r.json);
        const result = (r.json as { result?: { ok?: boolean; error?: { code?: string; message?: string } } })
          .result;
        if (r.status !== 200) failures.push(`${c.name}: platform answered ${r.status} ${text.slice(0, 200)}`);
        else if (!result || result.ok !== false) failures.push(`${c.name}: accepted ${text.slice(0, 200)}`);
        else if (!CODES.has(result.error?.code ?? ''))
          failures.push(`${c.name}: code ${result.error?.code} ${result.error?.message}`);
        else if (typeof result.error?.message !== 'string' || result.error.message.length === 0)
          failures.push(`${c.name}: no message`);
        if (STACK.test(text)) failures.push(`${c.name}: stack trace in ${text.slice(0, 200)}`);
        for (const s of secrets) if (text.includes(s)) failures.push(`${c.name}: secret in answer`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const ms = Date.now() - started;
    assert.deepEqual(failures.slice(0, 20), []);
    assert.equal(await e.dumpAll(), beforeDump, 'no write');
    // The notification triggers: random bodies and headers are refused with 400/401, never applied.
    const triggerStatuses: Record<number, number> = {};
    const r = rng(7);
    const bodies = [
      '',
      '{}',
      '{"id":',
      'null',
      '[]',
      '<xml><a>1</a></xml>',
      JSON.stringify({
        id: 'x',
        event_type: 'TRANSACTION.SUCCESS',
        resource: {
          algorithm: 'AEAD_AES_256_GCM',
          ciphertext: 'AAAA',
          nonce: 'n',
          original_type: 'transaction',
        },
      }),
      'x'.repeat(70_000),
    ];
    const headerSets = [
      {},
      {
        'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)),
        'Wechatpay-Nonce': 'n',
        'Wechatpay-Signature': 'c2ln',
        'Wechatpay-Serial': 'PUB_KEY_ID_0000',
      },
      {
        'Wechatpay-Timestamp': 'soon',
        'Wechatpay-Nonce': 'n',
        'Wechatpay-Signature': 'c2ln',
        'Wechatpay-Serial': 'ABC',
      },
      {
        'Wechatpay-Timestamp': '1',
        'Wechatpay-Nonce': 'n',
        'Wechatpay-Signature': 'c2ln',
        'Wechatpay-Serial': '../../x',
      },
      {
        'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)),
        'Wechatpay-Nonce': 'n',
        'Wechatpay-Signature': 'WECHATPAY/SIGNTEST/abc',
        'Wechatpay-Serial': 'ABC',
      },
    ];
    const triggerCases = Array.from({ length: 120 }, (_, i) => ({
      path: i % 2 ? '/pay/notify' : '/refund/notify',
      body: pick(r, bodies),
      headers: pick(r, headerSets) as Record<string, string>,
    }));
    for (let i = 0; i < triggerCases.length; i += 8) {
      await Promise.all(
        triggerCases.slice(i, i + 8).map(async (c) => {
          const a = await e.http('POST', c.path, c.body, {
            'content-type': 'application/json',
            ...c.headers,
          });
          triggerStatuses[a.status] = (triggerStatuses[a.status] ?? 0) + 1;
          if (a.status !== 400 && a.status !== 401)
            failures.push(`${c.path}: ${a.status} ${a.body.slice(0, 120)}`);
          if (STACK.test(a.body)) failures.push(`${c.path}: stack trace`);
        }),
      );
    }
    assert.deepEqual(failures.slice(0, 20), []);
    assert.equal(await e.dumpAll(), beforeDump, 'no write from the triggers either');

    // The host is still healthy: a valid call works afterwards.
    const ok = await e.call('createPayment', { items: CART }, { openid: user.openid });
    assert.ok(ok.ok, JSON.stringify(ok));
    console.log(
      `[fuzz] ${cases.length} bad inputs (${JSON.stringify(byName)}) in ${ms} ms + ${triggerCases.length} bad notifications ${JSON.stringify(triggerStatuses)}: 0 crashes, 0 stack traces, 0 writes`,
    );
  });
});
