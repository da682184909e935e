// Daily ledger reconciliation on the local stack: a day with payments, a partial and a full refund, a
// dropped notification, a seeded foreign payment and refund (made outside our system), an amount
// changed in our database and a paid order WeChat never saw reconciles to exactly those discrepancies;
// the NOTPAY-but-paid order is repaired through the notification's transition; a second run changes
// nothing; a tampered download and a bill that is not ready yet are `unavailable` and repair nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openLocalDatabase } from '../local/cloudbase/sdk-env';
import type { ApiResult, RefundResponse } from '../shared/contracts/api';
import type { ReconciliationDoc } from '../shared/ledger/reconciliation';
import { CART, CART_FEN, startE2E, type E2E, type TestUser } from './support/e2e';

let e: E2E;
let admin: TestUser;
let user: TestUser;
const CST = 8 * 3600_000;

before(async () => {
  // Just before midnight China time the day's payments could straddle two bills: wait it out.
  const msToMidnight = 24 * 3600_000 - ((Date.now() + CST) % (24 * 3600_000));
  if (msToMidnight < 90_000) await new Promise((r) => setTimeout(r, msToMidnight + 1000));
  e = await startE2E();
  admin = await e.newUser();
  user = await e.newUser();
  e.setEnv({ ADMIN_OPENIDS: admin.openid });
});
after(async () => {
  await e?.close();
});

type Doc = Record<string, unknown> & { _id: string };
const docs = async (collection: string) => (await e.dump(collection)) as Doc[];
const orderDoc = async (id: string) => (await docs('orders')).find((d) => d._id === id)!;

async function paid(): Promise<string> {
  const created = await e.createPayment(user, CART);
  assert.equal(await e.pay(user, created.payment), 'requestPayment:ok');
  await e.waitFor(
    () => orderDoc(created.orderId),
    (o) => o.status === 'SUCCESS',
    `order ${created.orderId} paid`,
  );
  return created.orderId;
}

async function refunded(who: TestUser, orderId: string, amountFen?: number): Promise<string> {
  const r = await e.call<RefundResponse>(
    'refund',
    { orderId, ...(amountFen !== undefined ? { amountFen } : {}) },
    { openid: who.openid },
  );
  assert.ok(r.ok, JSON.stringify(r));
  const done = await e.waitFor(
    async () =>
      (await docs('refunds')).find(
        (d) => d.outTradeNo === orderId && d.status === 'SUCCESS' && d.appliedToOrder === true,
      ),
    (d) => d !== undefined,
    `refund of ${orderId} SUCCESS`,
  );
  return done!._id;
}

const billReconcile = (date: string, who: TestUser = admin) =>
  e.call<ReconciliationDoc>('billReconcile', { date }, { openid: who.openid });

async function reconciled(date: string): Promise<ReconciliationDoc> {
  const r = await billReconcile(date);
  assert.ok(r.ok, JSON.stringify(r));
  return r.data;
}

/** A discrepancy as [kind, outTradeNo, outRefundNo?] for an exact comparison. */
const shape = (doc: ReconciliationDoc) =>
  doc.discrepancies.map((d) => [d.kind, d.outTradeNo ?? '', d.outRefundNo ?? '']).sort();

describe('billReconcile', () => {
  let date: string;
  const ids: Record<string, string> = {};

  it('sets up a day: payments, refunds, a dropped notification, foreign transactions, local drift', async () => {
    ids.plain = await paid();
    ids.partial = await paid();
    ids.partialRefund = await refunded(admin, ids.partial, 1000);
    ids.full = await paid();
    ids.fullRefund = await refunded(user, ids.full);
    assert.equal((await orderDoc(ids.full)).status, 'REFUNDED');
    ids.drift = await paid();

    // Every delivery (and WeChat's retries) of the next payment notification is dropped.
    await e.sim('POST', '/sim/faults', { target: 'notify', kind: 'drop', count: 1000 });
    const dropped = await e.createPayment(user, CART);
    assert.equal(await e.pay(user, dropped.payment), 'requestPayment:ok');
    ids.dropped = dropped.orderId;
    assert.equal((await orderDoc(ids.dropped)).status, 'NOTPAY');

    const simOrders = await e.sim<Array<{ outTradeNo: string; successTime?: string }>>('GET', '/sim/orders');
    const days = new Set(
      simOrders
        .filter((o) => o.successTime)
        .map((o) => new Date(Date.parse(o.successTime!) + CST).toISOString().slice(0, 10)),
    );
    assert.equal(days.size, 1, `all payments on one China-time day: ${[...days].join(', ')}`);
    date = [...days][0];

    // Made outside our system (商户平台 or another integration): a payment and a refund of a real order.
    ids.foreign = `FOREIGN${Date.now()}`;
    ids.handRefund = `HANDREFUND${Date.now()}`;
    await e.sim('POST', '/sim/bills/seed', {
      date,
      payments: [{ outTradeNo: ids.foreign, amountFen: 4321 }],
      refunds: [{ outTradeNo: ids.plain, outRefundNo: ids.handRefund, amountFen: 100 }],
    });

    // Our database drifts: one amount changed, one paid order WeChat never saw.
    const db = openLocalDatabase(e.emuUrl);
    await db
      .collection('orders')
      .where({ _id: ids.drift })
      .update({ amountFen: CART_FEN + 1 });
    ids.ghost = `GHOST${Date.now()}`;
    const paidAt = new Date(Date.parse(`${date}T12:00:00+08:00`));
    await db.collection('orders').add({
      ...(await orderDoc(ids.plain)),
      _id: ids.ghost,
      transactionId: '4200000000000000000000000000',
      paidAt,
      createdAt: paidAt,
      updatedAt: paidAt,
    });
  });

  it('refuses callers who are not admins, and malformed dates', async () => {
    const r = await billReconcile(date, user);
    assert.equal(!r.ok && r.error.code, 'PERMISSION_DENIED');
    // No openid is not the timer: an anonymous caller, even sending the timer's event as data, is refused.
    for (const data of [{ date }, { Type: 'Timer', TriggerName: 'billReconcileTimer', Time: date }]) {
      const anonymous = await e.call<ReconciliationDoc>('billReconcile', data);
      assert.equal(!anonymous.ok && anonymous.error.code, 'PERMISSION_DENIED', JSON.stringify(anonymous));
    }
    const bad = await billReconcile('2026-02-30');
    assert.equal(!bad.ok && bad.error.code, 'INVALID_ARGUMENT');
    assert.match(!bad.ok ? bad.error.message : '', /YYYY-MM-DD/);
  });

  it('before 10:00 the next day WeChat has no bill: unavailable with its code, nothing repaired', async () => {
    const doc = await reconciled(date);
    assert.equal(doc.status, 'unavailable');
    assert.equal(doc.unavailable?.code, 'NO_STATEMENT_EXIST');
    assert.deepEqual(doc.discrepancies, []);
    assert.equal((await orderDoc(ids.dropped)).status, 'NOTPAY');
  });

  it('a tampered download is unavailable (hash mismatch): nothing parsed, nothing repaired', async () => {
    const clock = await e.sim<{ now: string }>('GET', '/sim/clock');
    const readyAt = Date.parse(`${date}T10:05:00+08:00`) + 24 * 3600_000;
    await e.sim('POST', '/sim/clock', {
      advanceSeconds: Math.ceil((readyAt - Date.parse(clock.now)) / 1000),
    });
    await e.sim('POST', '/sim/faults', { target: 'billdownload', kind: 'tamper' });
    const doc = await reconciled(date);
    assert.equal(doc.status, 'unavailable');
    assert.equal(doc.unavailable?.code, 'HASH_MISMATCH');
    assert.match(doc.unavailable?.message ?? '', /SHA1/);
    assert.equal((await orderDoc(ids.dropped)).status, 'NOTPAY');
    const stored = (await docs('reconciliations')).find((d) => d._id === date)!;
    assert.equal(stored.status, 'unavailable');
  });

  let first: ReconciliationDoc;
  it('reconciles to exactly the expected discrepancies and repairs the dropped payment', async () => {
    first = await reconciled(date);
    assert.equal(first.status, 'discrepancies');
    assert.deepEqual(
      shape(first),
      [
        ['amount-mismatch', ids.drift, ''],
        ['missing-in-bill', ids.ghost, ''],
        ['missing-local', ids.foreign, ''],
        ['missing-local', ids.plain, ids.handRefund],
        ['repaired', ids.dropped, ''],
      ].sort(),
    );
    const drift = first.discrepancies.find((d) => d.kind === 'amount-mismatch')!;
    assert.deepEqual([drift.local?.amountFen, drift.wechat?.amountFen], [CART_FEN + 1, CART_FEN]);
    assert.equal(first.discrepancies.find((d) => d.outTradeNo === ids.foreign)?.wechat?.amountFen, 4321);
    assert.equal(first.unavailable, undefined);
    // WeChat: 5 paid orders of ours + the foreign one; the partial, the full and the hand refund.
    assert.deepEqual(first.wechat, {
      payments: 6,
      paymentFen: 5 * CART_FEN + 4321,
      refunds: 3,
      refundFen: 1000 + CART_FEN + 100,
    });
    // Local: the 4 paid + the repaired + the ghost; the partial and the full refund.
    assert.deepEqual(first.local, {
      payments: 6,
      paymentFen: 6 * CART_FEN + 1,
      refunds: 2,
      refundFen: 1000 + CART_FEN,
    });
    const repaired = await orderDoc(ids.dropped);
    assert.equal(repaired.status, 'SUCCESS');
    const atWeChat = (
      await e.sim<Array<{ outTradeNo: string; transactionId?: string }>>('GET', '/sim/orders')
    ).find((o) => o.outTradeNo === ids.dropped);
    assert.equal(repaired.transactionId, atWeChat?.transactionId);
    const stored = (await docs('reconciliations')).find((d) => d._id === date)!;
    assert.equal(stored.status, 'discrepancies');
    assert.equal((stored.discrepancies as unknown[]).length, 5);
  });

  it('a second run changes nothing: same findings, the repair kept and not applied again', async () => {
    const before = await docs('orders');
    const again = await reconciled(date);
    assert.deepEqual(shape(again), shape(first));
    assert.deepEqual(
      again.discrepancies.map((d) => JSON.stringify(d)),
      first.discrepancies.map((d) => JSON.stringify(d)),
    );
    assert.deepEqual(again.local, first.local);
    assert.deepEqual(again.wechat, first.wechat);
    assert.deepEqual(await docs('orders'), before, 'no order changed');
  });

  it('the console lists the day with its discrepancies', async () => {
    const res = await fetch(`${e.hostUrl}/console/api/reconciliations`);
    assert.equal(res.status, 200);
    const days = (await res.json()) as Array<{
      _id: string;
      status: string;
      runAt: string;
      discrepancies: unknown[];
    }>;
    const day = days.find((d) => d._id === date);
    assert.ok(day, JSON.stringify(days).slice(0, 300));
    assert.equal(day.status, 'discrepancies');
    assert.equal(day.discrepancies.length, 5);
    assert.match(day.runAt, /^\d{4}-\d{2}-\d{2}T/, 'dates as ISO text');
  });

  it('the daily timer reconciles the previous China-time day', async () => {
    const r = await e.stack.host.runTimer('billReconcile');
    assert.ok(r.ok, JSON.stringify(r));
    const result = (r as { result: ApiResult<ReconciliationDoc> }).result;
    assert.ok(result.ok, JSON.stringify(result));
    const yesterday = new Date(Date.now() + CST - 24 * 3600_000).toISOString().slice(0, 10);
    assert.equal(result.data._id, yesterday);
    assert.equal(result.data.status, 'matched', JSON.stringify(result.data));
  });
});
