// Payment notifications on the local stack (v3, public-key mode with the platform-certificate store
// beside it): dropped notifications, a duplicate storm, forged and contradicting notifications, and
// database failures during the transition, and a v2 duplicate storm. Every check reads the real database afterwards.
import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { buildTestNotification, generateTestHeaders, rfc3339China } from '../shared/wxpay/v3/testing';
import type { TransactionResource } from '../shared/wxpay/v3/types';
import { openLocalDatabase } from '../local/cloudbase/sdk-env';
import { CART, CART_FEN, startE2E, type E2E, type TestUser } from './support/e2e';

let e: E2E;
let user: TestUser;
const figures: Record<string, unknown> = {};

before(async () => {
  e = await startE2E();
  user = await e.newUser();
});
after(async () => {
  console.log(`[notifications] figures ${JSON.stringify(figures)}`);
  await e?.close();
});

interface OrderDocLike {
  _id: string;
  status: string;
  version: number;
  refundedFen: number;
  refundingFen: number;
  transactionId?: string;
}

async function orderDoc(id: string): Promise<OrderDocLike> {
  const doc = (await e.dump('orders')).find((o) => o._id === id);
  assert.ok(doc, `order ${id} exists`);
  return doc as unknown as OrderDocLike;
}

function resourceFor(orderId: string, over: Partial<TransactionResource> = {}): TransactionResource {
  return {
    appid: e.baseEnv.WX_APPID,
    mchid: e.baseEnv.WXPAY_MCHID,
    out_trade_no: orderId,
    transaction_id: `42${Date.now()}${Math.floor(Math.random() * 1e6)}`.slice(0, 28),
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: rfc3339China(Date.now()),
    payer: { openid: user.openid },
    amount: { total: CART_FEN, payer_total: CART_FEN, currency: 'CNY', payer_currency: 'CNY' },
    ...over,
  };
}

/** A notification signed like WeChat's public-key mode signs it. */
function signed(
  resource: TransactionResource,
  opts: { timestamp?: number; key?: string; serial?: string; id?: string } = {},
) {
  return buildTestNotification({
    privateKey: opts.key ?? e.stack.localData.keys.publicKeyPrivate,
    serial: opts.serial ?? e.baseEnv.WXPAY_PUBLIC_KEY_ID,
    apiV3Key: createSecretKey(Buffer.from(e.baseEnv.WXPAY_APIV3_KEY, 'utf8')),
    eventType: 'TRANSACTION.SUCCESS',
    resource,
    id: opts.id ?? randomUUID(),
    ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
  });
}

function post(body: string | Buffer, headers: Record<string, string>) {
  return e.http('POST', '/pay/notify', body, { 'content-type': 'application/json', ...headers });
}

describe('payment notifications', () => {
  it('a payment whose notification is dropped still reaches SUCCESS through orders.get and reconcile', async () => {
    // Every attempt (WeChat retries a dropped delivery) is dropped until the faults are cleared.
    await e.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1000 });
    const a = await e.createPayment(user, CART);
    const b = await e.createPayment(user, CART);
    assert.equal(await e.pay(user, a.payment), 'requestPayment:ok');
    assert.equal(await e.pay(user, b.payment), 'requestPayment:ok');
    const viaGet = await e.getOrder(user, a.orderId);
    assert.equal(viaGet.status, 'SUCCESS', 'orders.get queried WeChat and applied the payment');
    assert.equal((await orderDoc(b.orderId)).status, 'NOTPAY');
    const report = await e.reconcile(0);
    assert.ok(report.ordersPaid >= 1, JSON.stringify(report));
    assert.equal((await orderDoc(b.orderId)).status, 'SUCCESS');
    const again = await e.reconcile(0);
    assert.equal(again.ordersPaid, 0, 'idempotent: nothing left to do');
    figures.reconcile = report;
    // both dropped deliveries would otherwise keep retrying and take later tests' faults
    await e.clearFaults();
  });

  it('reconcile closes unpaid orders past their lifetime, at WeChat and here', async () => {
    const created = await e.createPayment(user, [{ productId: 'tea-oolong', quantity: 1 }]);
    // Age the order beyond the 2-hour prepay lifetime (the simulator's order keeps its own clock).
    const db = openLocalDatabase(e.emuUrl);
    await db
      .collection('orders')
      .where({ _id: created.orderId })
      .update({ createdAt: new Date(Date.now() - 3 * 3600_000) });
    const report = await e.reconcile(0);
    assert.ok(report.ordersClosed >= 1, JSON.stringify(report));
    assert.equal((await orderDoc(created.orderId)).status, 'CLOSED');
    const atWeChat = await e.sim<{ outTradeNo: string; tradeState: string }[]>(
      'GET',
      `/sim/orders?openid=${user.openid}`,
    );
    assert.equal(atWeChat.find((o) => o.outTradeNo === created.orderId)?.tradeState, 'CLOSED');
    // Paying it now is refused by WeChat.
    assert.notEqual(await e.pay(user, created.payment), 'requestPayment:ok');
  });

  it('the same notification 200 times concurrently: one transition, every delivery acknowledged', async () => {
    const created = await e.createPayment(user, CART);
    const before = await orderDoc(created.orderId);
    const n = signed(resourceFor(created.orderId));
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 200 }, () => post(n.body, n.headers)));
    figures.storm = { count: 200, ms: Date.now() - started };
    const statuses = answers.reduce<Record<number, number>>(
      (m, a) => ((m[a.status] = (m[a.status] ?? 0) + 1), m),
      {},
    );
    assert.deepEqual(statuses, { 204: 200 });
    const after = await orderDoc(created.orderId);
    assert.equal(after.status, 'SUCCESS');
    assert.equal(after.version, before.version + 1, 'exactly one transition');
    const records = (await e.dump('notifications')).filter((r) => r.outTradeNo === created.orderId);
    assert.equal(records.length, 1);
    assert.equal(records[0].outcome, 'applied');
    // A second, distinct notification of the same payment is acknowledged as a duplicate.
    const again = signed({
      ...resourceFor(created.orderId),
      transaction_id: (await orderDoc(created.orderId)).transactionId!,
    });
    assert.equal((await post(again.body, again.headers)).status, 204);
    const both = (await e.dump('notifications'))
      .filter((r) => r.outTradeNo === created.orderId)
      .map((r) => r.outcome)
      .sort();
    assert.deepEqual(both, ['applied', 'duplicate']);
    assert.equal((await orderDoc(created.orderId)).version, before.version + 1);
  });

  it('forged, stale, probing or contradicting notifications change no money state and get the right status', async () => {
    const created = await e.createPayment(user, CART);
    const id = created.orderId;
    const before = await orderDoc(id);
    const now = Math.floor(Date.now() / 1000);
    const strangerKey = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const platformSerial = new X509Certificate(e.stack.localData.keys.platformCertificate).serialNumber;
    const good = signed(resourceFor(id));
    const tamperedBody = good.body.replace(
      /"ciphertext":"(.)/,
      (_m, c: string) => `"ciphertext":"${c === 'A' ? 'B' : 'A'}`,
    );
    const resign = (body: string) =>
      generateTestHeaders({
        privateKey: e.stack.localData.keys.publicKeyPrivate,
        serial: e.baseEnv.WXPAY_PUBLIC_KEY_ID,
        body,
      });
    const envelopeWithTag = (() => {
      const env = JSON.parse(good.body) as { resource: { ciphertext: string } };
      const raw = Buffer.from(env.resource.ciphertext, 'base64');
      raw[raw.length - 1] ^= 0x01;
      env.resource.ciphertext = raw.toString('base64');
      return JSON.stringify(env);
    })();

    const cases: {
      name: string;
      body: string;
      headers: Record<string, string>;
      status: number;
      outcome?: string;
    }[] = [
      { name: 'bad signature', ...signed(resourceFor(id), { key: strangerKey }), status: 401 },
      { name: 'stale timestamp', ...signed(resourceFor(id), { timestamp: now - 330 }), status: 401 },
      { name: 'future timestamp', ...signed(resourceFor(id), { timestamp: now + 330 }), status: 401 },
      {
        name: 'SIGNTEST probe',
        body: good.body,
        headers: {
          ...good.headers,
          'Wechatpay-Signature': `WECHATPAY/SIGNTEST/${good.headers['Wechatpay-Signature']}`,
        },
        status: 401,
      },
      {
        name: 'unknown serial',
        body: good.body,
        headers: { ...good.headers, 'Wechatpay-Serial': '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' },
        status: 401,
      },
      {
        name: 'unknown public key id',
        body: good.body,
        headers: { ...good.headers, 'Wechatpay-Serial': 'PUB_KEY_ID_0000000000000000000000000000' },
        status: 401,
      },
      {
        name: 'platform certificate serial with a foreign signature',
        ...signed(resourceFor(id), { key: strangerKey, serial: platformSerial }),
        status: 401,
      },
      {
        name: 'tampered ciphertext (signature no longer matches)',
        body: tamperedBody,
        headers: good.headers,
        status: 401,
      },
      {
        name: 'tampered ciphertext, re-signed (tag check)',
        body: tamperedBody,
        headers: resign(tamperedBody),
        status: 400,
      },
      {
        name: 'tampered tag, re-signed',
        body: envelopeWithTag,
        headers: resign(envelopeWithTag),
        status: 400,
      },
      { name: 'malformed JSON, signed', body: '{"id":', headers: resign('{"id":'), status: 400 },
      { name: 'empty body', body: '', headers: {}, status: 400 },
      { name: 'no headers', body: good.body, headers: {}, status: 401 },
      {
        name: 'other merchant',
        ...signed(resourceFor(id, { mchid: '1999999999' })),
        status: 204,
        outcome: 'anomaly:other-merchant',
      },
      {
        name: 'other appid',
        ...signed(resourceFor(id, { appid: 'wx0000000000000000' })),
        status: 204,
        outcome: 'anomaly:other-appid',
      },
      {
        name: 'wrong amount',
        ...signed(
          resourceFor(id, { amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' } }),
        ),
        status: 204,
        outcome: 'anomaly:amount-mismatch',
      },
      {
        name: 'other payer',
        ...signed(resourceFor(id, { payer: { openid: 'o_someone_else_123' } })),
        status: 204,
        outcome: 'anomaly:payer-mismatch',
      },
      {
        name: 'unknown order',
        ...signed(resourceFor('T000000000000UNKNOWN00000')),
        status: 204,
        outcome: 'anomaly:unknown-order',
      },
    ];
    // Sequential on purpose: the certificate refresh for unknown serials is rate-limited per instance.
    for (const c of cases) {
      const answer = await post(c.body, c.headers);
      assert.equal(answer.status, c.status, `${c.name}: ${answer.status} ${answer.body}`);
      if (c.status !== 204) {
        const parsed = JSON.parse(answer.body) as { code: string; message: string };
        assert.equal(parsed.code, 'FAIL', c.name);
        assert.ok(!/\bat .+:\d+:\d+/.test(parsed.message), `${c.name}: no stack trace`);
        assert.ok(!parsed.message.includes(e.baseEnv.WXPAY_APIV3_KEY), `${c.name}: no secret`);
      }
      if (c.outcome) {
        const recorded = (await e.dump('notifications')).find((r) => r._id === JSON.parse(c.body).id);
        assert.equal(recorded?.outcome, c.outcome, c.name);
      }
    }
    const afterAll = await orderDoc(id);
    assert.deepEqual(
      [
        afterAll.status,
        afterAll.version,
        afterAll.refundedFen,
        afterAll.refundingFen,
        afterAll.transactionId,
      ],
      [before.status, before.version, before.refundedFen, before.refundingFen, before.transactionId],
    );
    figures.forged = cases.length;
    // The genuine one still works afterwards.
    assert.equal((await post(good.body, good.headers)).status, 204);
    assert.equal((await orderDoc(id)).status, 'SUCCESS');
  });

  it('v2 mode: XML notifications with a bad sign or no content are refused with a FAIL acknowledgement', async () => {
    e.setEnv({ WXPAY_API_VERSION: 'v2' });
    try {
      const created = await e.createPayment(user, CART);
      const xml = (sign: string) =>
        `<xml><return_code>SUCCESS</return_code><appid>${e.baseEnv.WX_APPID}</appid><mch_id>${e.baseEnv.WXPAY_MCHID}</mch_id><nonce_str>abc</nonce_str>` +
        `<result_code>SUCCESS</result_code><openid>${user.openid}</openid><trade_type>JSAPI</trade_type><bank_type>OTHERS</bank_type><total_fee>${CART_FEN}</total_fee>` +
        `<cash_fee>${CART_FEN}</cash_fee><transaction_id>4200000000000000000000000001</transaction_id><out_trade_no>${created.orderId}</out_trade_no>` +
        `<time_end>20261125120000</time_end><sign_type>HMAC-SHA256</sign_type><sign>${sign}</sign></xml>`;
      const forged = await e.http('POST', '/pay/notify', xml('0'.repeat(64)), { 'content-type': 'text/xml' });
      assert.equal(forged.status, 401);
      assert.match(forged.body, /<return_code>(<!\[CDATA\[)?FAIL/);
      const empty = await e.http('POST', '/pay/notify', '', { 'content-type': 'text/xml' });
      assert.equal(empty.status, 400);
      const refundForged = await e.http(
        'POST',
        '/refund/notify',
        `<xml><return_code>SUCCESS</return_code><appid>${e.baseEnv.WX_APPID}</appid><mch_id>${e.baseEnv.WXPAY_MCHID}</mch_id><req_info>AAAAAAAAAAAAAAAAAAAAAA==</req_info></xml>`,
        { 'content-type': 'text/xml' },
      );
      assert.equal(refundForged.status, 401);
      assert.equal((await orderDoc(created.orderId)).status, 'NOTPAY');
      // The genuine v2 notification from the simulator is applied.
      assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
      await e.waitFor(
        () => orderDoc(created.orderId),
        (o) => o.status === 'SUCCESS',
        'v2 payment applied',
        30_000,
      );
    } finally {
      e.setEnv({ WXPAY_API_VERSION: 'v3' });
    }
  });

  it('v2 mode: a storm of 40 copies of the payment and then the refund notification is applied once each, all acknowledged SUCCESS', async () => {
    e.setEnv({ WXPAY_API_VERSION: 'v2' });
    try {
      const created = await e.createPayment(user, CART);
      const before = await orderDoc(created.orderId);
      // the simulator signs these itself (v2 HMAC-SHA256; req_info AES-256-ECB for refunds)
      await e.armNotifyFault({ kind: 'duplicate', count: 40 });
      assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
      type V2Delivery = {
        id: string;
        state: string;
        attempts: { status: number; kind: string; answer?: string }[];
      };
      const paid = await e.waitFor(
        () => e.sim<V2Delivery[]>('GET', `/sim/deliveries?outTradeNo=${created.orderId}`),
        (ds) =>
          ds.length === 1 &&
          ds[0].attempts.filter((a) => a.kind === 'duplicate').length === 40 &&
          ds[0].state === 'delivered',
        'v2 storm delivered',
        30_000,
      );
      const copies = paid[0].attempts.filter((a) => a.kind === 'duplicate');
      assert.ok(
        copies.every((a) => a.status === 200 && /<return_code>(<!\[CDATA\[)?SUCCESS/.test(a.answer ?? '')),
        JSON.stringify(copies.slice(0, 3)),
      );
      const after = await orderDoc(created.orderId);
      assert.equal(after.status, 'SUCCESS');
      assert.equal(after.version, before.version + 1, 'exactly one transition');
      const payRecords = (await e.dump('notifications')).filter(
        (r) => r.outTradeNo === created.orderId && String(r.eventType).startsWith('TRANSACTION.'),
      );
      assert.deepEqual(
        payRecords.map((r) => r.outcome),
        ['applied'],
        'one record: every v2 copy has the same derived id',
      );

      // armed before the refund: the simulator may complete it on its own timer right away
      await e.armNotifyFault({ kind: 'duplicate', count: 40 });
      const refund = await e.call<{ refundId: string }>(
        'refund',
        { orderId: created.orderId },
        { openid: user.openid },
      );
      assert.ok(refund.ok, JSON.stringify(refund));
      await e
        .sim('POST', `/sim/refunds/${refund.data.refundId}/complete`, { status: 'SUCCESS' })
        .catch(() => undefined);
      await e.waitFor(
        () => orderDoc(created.orderId),
        (o) => o.status === 'REFUNDED',
        'v2 refund storm applied',
        30_000,
      );
      // every copy has been answered before the books are checked, so a late double-apply would show
      const refundDeliveries = await e.waitFor(
        () => e.sim<V2Delivery[]>('GET', `/sim/deliveries?outRefundNo=${refund.data.refundId}`),
        (ds) =>
          ds.length === 1 &&
          ds[0].attempts.filter((a) => a.kind === 'duplicate').length === 40 &&
          ds[0].state === 'delivered',
        'v2 refund storm delivered',
        30_000,
      );
      assert.ok(
        refundDeliveries[0].attempts.every((a) => a.status === 200),
        JSON.stringify(refundDeliveries[0].attempts.slice(0, 3)),
      );
      const refunded = await orderDoc(created.orderId);
      assert.equal(refunded.refundedFen, CART_FEN, 'refunded once, not 41 times');
      assert.equal(refunded.refundingFen, 0);
      const refunds = (await e.dump('refunds')).filter((r) => r.outTradeNo === created.orderId);
      assert.deepEqual(
        refunds.map((r) => r.status),
        ['SUCCESS'],
      );
      const refundRecords = (await e.dump('notifications')).filter(
        (r) => r.outRefundNo === refund.data.refundId,
      );
      assert.deepEqual(
        refundRecords.map((r) => r.outcome),
        ['applied'],
      );
    } finally {
      e.setEnv({ WXPAY_API_VERSION: 'v3' });
    }
  });

  it('database failures during the transition answer 5xx, WeChat retries, and the order ends SUCCESS', async () => {
    const created = await e.createPayment(user, CART);
    await e.emu('POST', '/emu/faults', {
      action: 'update',
      collection: 'orders',
      count: 3,
      error: { code: 'DATABASE_REQUEST_FAILED', message: 'injected' },
    });
    await e.emu('POST', '/emu/faults', {
      action: 'insert',
      collection: 'notifications',
      count: 1,
      error: { code: 'DATABASE_REQUEST_FAILED', message: 'injected' },
    });
    assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
    const deliveries = await e.waitFor(
      () =>
        e.sim<{ state: string; attempts: { status: number }[] }[]>(
          'GET',
          `/sim/deliveries?outTradeNo=${created.orderId}`,
        ),
      (d) => d.some((x) => x.state === 'delivered'),
      'redelivery after storage failures',
      45_000,
    );
    const statuses = deliveries.flatMap((d) => d.attempts.map((a) => a.status));
    assert.ok(
      statuses.some((s) => s >= 500),
      `a 5xx was answered first: ${statuses.join(', ')}`,
    );
    assert.equal(statuses[statuses.length - 1], 204);
    const doc = await orderDoc(created.orderId);
    assert.equal(doc.status, 'SUCCESS');
    const records = (await e.dump('notifications')).filter((r) => r.outTradeNo === created.orderId);
    assert.equal(records.length, 1);
    figures.storageRetries = statuses;
  });
});
