// reconcileDay with its real pieces: bills served by the simulator (seeded for past days, so they are
// ready), downloaded and hash-checked by the v3 client, our documents in the CloudBase emulator read
// through ledger-store, repairs through applyPayment. Each case is its own day.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startCloudbaseEmulator, type CloudbaseEmulator } from '../../local/cloudbase/server';
import { openLocalDatabase } from '../../local/cloudbase/sdk-env';
import { startHarness, type SimHarness } from '../../local/wechat/testing';
import { createConfig } from '../config/config';
import { COLLECTIONS } from '../db/collections';
import { repositoriesOf, type Repositories } from '../db/repositories';
import { newOrder, type OrderDoc } from '../domain/order';
import type { RefundDoc } from '../domain/refund';
import { V3Gateway } from '../gateways/v3';
import { applyPayment, outcomeOf } from '../usecases/payments';
import type { BillSource } from './bill-source';
import { ledgerStoreOf, type LedgerStore } from './ledger-store';
import { reconcileDay, type ReconcileDayDeps } from './reconcile-day';

let emu: CloudbaseEmulator;
let h: SimHarness;
let v3: V3Gateway;
let db: ReturnType<typeof openLocalDatabase>;
let repos: Repositories;
let ledger: LedgerStore;

before(async () => {
  emu = await startCloudbaseEmulator({ port: 0, collections: Object.values(COLLECTIONS) });
  db = openLocalDatabase(emu.url);
  repos = repositoriesOf(db);
  ledger = ledgerStoreOf(db);
  h = await startHarness();
  v3 = new V3Gateway({ config: createConfig({ ...h.env, WXPAY_BASE_URL: h.url }).payV3() });
});
after(async () => {
  await h?.close();
  await emu?.close();
});

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

function deps(bills: BillSource = v3.bills()): ReconcileDayDeps {
  return {
    bills,
    paymentsOfDay: ledger.paymentsOfDay,
    refundsOfDay: ledger.refundsOfDay,
    findOrder: (no) => repos.orders.get(no),
    findRefund: (no) => repos.refunds.get(no),
    repairPayment: async (no, facts, now) =>
      outcomeOf(await applyPayment({ ...repos, gateway: v3, log: quiet }, no, facts, now)),
    reconciliations: { get: ledger.getReconciliation, put: ledger.putReconciliation },
    clock: () => new Date(),
  };
}

const noon = (date: string) => new Date(`${date}T12:00:00+08:00`);

async function localOrder(no: string, over: Partial<OrderDoc>): Promise<void> {
  const doc: OrderDoc = {
    ...newOrder({
      outTradeNo: no,
      openid: 'oLocal',
      items: [{ productId: 'p', name: 'P', priceFen: 500, quantity: 1 }],
      amountFen: 500,
      description: 'P',
      apiVersion: 'v3',
      now: new Date('2026-01-01T00:00:00Z'),
    }),
    ...over,
  };
  await db.collection(COLLECTIONS.orders).add(doc);
}

async function localRefund(no: string, over: Partial<RefundDoc>): Promise<void> {
  const doc: RefundDoc = {
    _id: no,
    outTradeNo: 'x',
    openid: 'oLocal',
    amountFen: 100,
    status: 'PROCESSING',
    requestedBy: 'oLocal',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    appliedToOrder: false,
    apiVersion: 'v3',
    ...over,
  };
  await db.collection(COLLECTIONS.refunds).add(doc);
}

async function seed(body: Record<string, unknown>): Promise<{ payments: Array<{ transactionId: string }> }> {
  const r = await h.sim('POST', '/sim/bills/seed', body);
  assert.equal(r.status, 200, r.text);
  return r.json as { payments: Array<{ transactionId: string }> };
}

describe('reconcileDay', () => {
  it('a refund still PROCESSING here but in the bill is a state-mismatch, never changed', async () => {
    const date = '2026-01-02';
    await seed({
      date,
      payments: [{ outTradeNo: 'RDPAY1', amountFen: 500, openid: 'oLocal' }],
      refunds: [{ outTradeNo: 'RDPAY1', outRefundNo: 'RDREF1', amountFen: 100 }],
    });
    const tx = (await h.sim('GET', '/sim/orders')).json as Array<{
      outTradeNo: string;
      transactionId: string;
    }>;
    await localOrder('RDPAY1', {
      status: 'SUCCESS',
      paidAt: noon(date),
      transactionId: tx.find((o) => o.outTradeNo === 'RDPAY1')!.transactionId,
    });
    await localRefund('RDREF1', { outTradeNo: 'RDPAY1' });
    const doc = await reconcileDay(deps(), date);
    assert.deepEqual(
      doc.discrepancies.map((d) => [d.kind, d.outRefundNo, d.local?.status, d.wechat?.status]),
      [['state-mismatch', 'RDREF1', 'PROCESSING', 'SUCCESS']],
    );
    assert.equal((await repos.refunds.get('RDREF1'))?.status, 'PROCESSING');
  });

  it('paid on another day, closed here, another transaction id, a NOTPAY order at another amount', async () => {
    const date = '2026-01-03';
    await seed({
      date,
      payments: [
        { outTradeNo: 'RDOTHERDAY', amountFen: 500 },
        { outTradeNo: 'RDCLOSED', amountFen: 500 },
        { outTradeNo: 'RDTXID', amountFen: 500 },
        { outTradeNo: 'RDNOTPAY', amountFen: 499, openid: 'oLocal' },
      ],
    });
    await localOrder('RDOTHERDAY', { status: 'SUCCESS', paidAt: noon('2026-01-04'), transactionId: 'T' });
    await localOrder('RDCLOSED', { status: 'CLOSED' });
    await localOrder('RDTXID', {
      status: 'SUCCESS',
      paidAt: noon(date),
      transactionId: '4200000000000000000000009999',
    });
    await localOrder('RDNOTPAY', {});
    const doc = await reconcileDay(deps(), date);
    const byOrder = Object.fromEntries(doc.discrepancies.map((d) => [d.outTradeNo, d]));
    assert.equal(doc.discrepancies.length, 4, JSON.stringify(doc.discrepancies));
    assert.equal(byOrder.RDOTHERDAY.kind, 'state-mismatch');
    assert.equal(byOrder.RDOTHERDAY.local?.paidAt, noon('2026-01-04').toISOString());
    assert.equal(byOrder.RDCLOSED.kind, 'state-mismatch');
    assert.equal(byOrder.RDCLOSED.local?.status, 'CLOSED');
    assert.equal(byOrder.RDTXID.kind, 'state-mismatch');
    assert.equal(byOrder.RDTXID.local?.transactionId, '4200000000000000000000009999');
    assert.equal(byOrder.RDNOTPAY.kind, 'amount-mismatch');
    assert.equal(byOrder.RDNOTPAY.local?.refusedRepair, 'amount-mismatch');
    assert.equal(
      (await repos.orders.get('RDNOTPAY'))?.status,
      'NOTPAY',
      'a contradicting payment is never applied',
    );
    assert.equal((await repos.orders.get('RDCLOSED'))?.status, 'CLOSED');
    assert.equal(doc.status, 'discrepancies');
  });

  it('the same payment at another amount is an amount-mismatch naming the order', async () => {
    const date = '2026-01-07';
    await seed({ date, payments: [{ outTradeNo: 'RDAMOUNT', amountFen: 500 }] });
    const tx = (await h.sim('GET', '/sim/orders')).json as Array<{
      outTradeNo: string;
      transactionId: string;
    }>;
    await localOrder('RDAMOUNT', {
      status: 'SUCCESS',
      amountFen: 600,
      paidAt: noon(date),
      transactionId: tx.find((o) => o.outTradeNo === 'RDAMOUNT')!.transactionId,
    });
    const doc = await reconcileDay(deps(), date);
    assert.deepEqual(
      doc.discrepancies.map((d) => [d.kind, d.outTradeNo, d.local?.amountFen, d.wechat?.amountFen]),
      [['amount-mismatch', 'RDAMOUNT', 600, 500]],
    );
  });

  it('an empty day on both sides is matched', async () => {
    const doc = await reconcileDay(deps(), '2026-01-05');
    assert.equal(doc.status, 'matched');
    assert.deepEqual(doc.wechat, { payments: 0, paymentFen: 0, refunds: 0, refundFen: 0 });
    assert.equal((await ledger.getReconciliation('2026-01-05'))?.status, 'matched');
  });

  it('a verified bill that is not in the documented layout is unavailable (BILL_FORMAT), nothing repaired', async () => {
    const date = '2026-01-06';
    await localOrder('RDFORMAT', {});
    const malformed: BillSource = {
      fetch: () =>
        Promise.resolve({
          ok: true,
          open: () => Readable.from([Buffer.from('交易时间,公众账号ID\r\n`x\r\n')]),
          dispose: () => Promise.resolve(),
        }),
    };
    const doc = await reconcileDay(deps(malformed), date);
    assert.equal(doc.status, 'unavailable');
    assert.equal(doc.unavailable?.code, 'BILL_FORMAT');
    assert.equal((await repos.orders.get('RDFORMAT'))?.status, 'NOTPAY');
  });

  it('refuses a date that is not a real day', async () => {
    await assert.rejects(reconcileDay(deps(), '2026-02-29'), /real day/);
  });
});
