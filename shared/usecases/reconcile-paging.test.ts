// reconcile pages through every due unpaid order and PROCESSING refund across runs, continuing where
// the last run stopped (its own emulator: the counts below are of this file's items only).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { confirmOrder, createPayment } from './payments';
import { reconcile } from './reconcile';
import { requestRefund } from './refunds';
import { newOpenid, startBench, type Bench } from './testing/harness';

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

const MINUTE = 60_000;
const DAY = 24 * 3600_000;
/**
 * Each test runs at an earlier `now` than the one before and leaves the lists at their end, so that
 * the items of earlier tests (created later) are not yet due for it.
 */
const nowOf = (test: number) => new Date(Date.now() + (100 - 10 * test) * DAY);
type Deps = ReturnType<Bench['deps']>;

/** `n` unpaid orders created a minute apart from `from` on (ten users: the prepay limit is per user). */
async function unpaidOrders(deps: Deps, n: number, from: Date): Promise<string[]> {
  const ids: string[] = [];
  const users = Array.from({ length: Math.ceil(n / 10) }, () => newOpenid());
  for (let i = 0; i < n; i++) {
    const r = await createPayment(deps, {
      openid: users[Math.floor(i / 10)],
      items: [{ productId: 'tea', quantity: 1 }],
      now: new Date(from.getTime() + i * 1000),
    });
    ids.push(r.orderId);
  }
  return ids;
}

describe('reconcile paging', () => {
  it('reaches all of 120 due orders across runs, each once per pass, then starts over at the oldest', async () => {
    const deps = bench.deps();
    const now = nowOf(1);
    const ids = await unpaidOrders(deps, 120, new Date(now.getTime() - 30 * MINUTE));
    // The newest one is paid at WeChat: with the oldest 50 forever unpaid, a run that always began at
    // the oldest order would never reach it.
    deps.gateway.pay(ids[119]);
    const paging = { pageSize: 20, maxPages: 2 };

    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await reconcile(deps, now, undefined, paging));
    assert.deepEqual(
      runs.map((r) => [r.ordersChecked, r.paging.orders.pages, r.paging.orders.resumed, r.paging.stoppedBy]),
      [
        [40, 2, false, 'pages'],
        [40, 2, true, 'pages'],
        [40, 2, true, 'pages'],
      ],
    );
    assert.equal(runs[2].ordersPaid, 1);
    assert.equal((await deps.orders.get(ids[119]))?.status, 'SUCCESS');
    const queried = deps.gateway.callsOf('queryTrade').map((c) => c.slice('queryTrade '.length));
    assert.deepEqual(queried, ids, 'every order once, oldest first');

    // The fourth run finds the list's end (one more page, empty), and the fifth starts at the oldest.
    const fourth = await reconcile(deps, now, undefined, paging);
    assert.deepEqual([fourth.ordersChecked, fourth.paging.orders.reachedEnd], [0, true]);
    const fifth = await reconcile(deps, now, undefined, paging);
    assert.deepEqual([fifth.ordersChecked, fifth.paging.orders.resumed], [40, false]);
    assert.equal(deps.gateway.callsOf('queryTrade')[120], `queryTrade ${ids[0]}`);
    await reconcile(deps, now, undefined, { pageSize: 100, maxPages: 5 }); // leave the list at its end
  });

  it('orders created in the same millisecond are neither skipped nor checked twice', async () => {
    const deps = bench.deps();
    const now = nowOf(2);
    const created = new Date(now.getTime() - 10 * MINUTE);
    const ids: string[] = [];
    for (let u = 0; u < 3; u++) {
      const openid = newOpenid();
      for (let i = 0; i < 5; i++)
        ids.push(
          (await createPayment(deps, { openid, items: [{ productId: 'tea', quantity: 1 }], now: created }))
            .orderId,
        );
    }
    const r = await reconcile(deps, now, undefined, { pageSize: 4, maxPages: 10 });
    assert.equal(r.paging.orders.reachedEnd, true);
    const queried = deps.gateway.callsOf('queryTrade').map((c) => c.slice('queryTrade '.length));
    assert.deepEqual(queried, [...ids].sort(), 'ties in createdAt are ordered by _id');
  });

  it('stops at its time budget, saves where it stopped, and the next run continues there', async () => {
    const deps = bench.deps();
    const now = nowOf(3);
    const ids = await unpaidOrders(deps, 12, new Date(now.getTime() - 10 * MINUTE));
    // A clock that advances 1 s each time it is read: the run starts about 5 items.
    let t = 0;
    const clock = () => (t += 1000);
    const first = await reconcile(deps, now, undefined, { budgetMs: 6_000 }, clock);
    assert.equal(first.paging.stoppedBy, 'budget');
    assert.ok(first.ordersChecked > 0 && first.ordersChecked < 12, String(first.ordersChecked));
    const rest = await reconcile(deps, now);
    assert.equal(rest.paging.orders.resumed, true);
    assert.equal(first.ordersChecked + rest.ordersChecked, 12);
    const queried = deps.gateway.callsOf('queryTrade').map((c) => c.slice('queryTrade '.length));
    assert.deepEqual(queried, ids, 'each once, in order');
  });

  it('pages through PROCESSING refunds too, alternating with orders so neither list starves the other', async () => {
    const deps = bench.deps();
    const now = nowOf(4);
    const created = new Date(now.getTime() - 10 * MINUTE);
    const refunds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const openid = newOpenid();
      const r = await createPayment(deps, {
        openid,
        items: [{ productId: 'tea', quantity: 1 }],
        now: created,
      });
      deps.gateway.pay(r.orderId, created);
      await confirmOrder(deps, (await deps.orders.get(r.orderId))!, created);
      const refund = await requestRefund(deps, {
        orderId: r.orderId,
        requester: { openid, isAdmin: false },
        windowHours: 168,
        now: new Date(created.getTime() + i),
      });
      refunds.push(refund.refundId);
    }
    await unpaidOrders(deps, 10, created);
    const first = await reconcile(deps, now, undefined, { pageSize: 3, maxPages: 1 });
    assert.deepEqual([first.ordersChecked, first.refundsChecked], [3, 3]);
    const second = await reconcile(deps, now, undefined, { pageSize: 3, maxPages: 1 });
    assert.deepEqual([second.refundsChecked, second.paging.refunds.resumed], [3, true]);
    const asked = deps.gateway.callsOf('queryRefund').map((c) => c.slice('queryRefund '.length));
    assert.deepEqual(asked, refunds);
  });
});
