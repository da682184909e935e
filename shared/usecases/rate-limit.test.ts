// The per-user limits against the real emulator and a fake WeChat: what is counted, what is refused,
// that a refused call writes nothing and sends nothing, and that the count holds under concurrency.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { COLLECTIONS } from '../db/collections';
import { AppError } from '../domain/errors';
import { ORDER_QUERY_INTERVAL_MS, RATE_LIMITS } from '../domain/rate-limit';
import { confirmOrder, createPayment } from './payments';
import { chargeCall, mayQueryOrder } from './rate-limit';
import { requestRefund } from './refunds';
import { newOpenid, startBench, type Bench } from './testing/harness';

let bench: Bench;
before(async () => {
  bench = await startBench();
});
after(() => bench.close());

const TEA = [{ productId: 'tea', quantity: 1 }];
/** A minute boundary, so that a test knows where its windows start and end. */
const T0 = new Date(Date.UTC(2026, 10, 30, 12, 0, 0));
const at = (ms: number) => new Date(T0.getTime() + ms);

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  assert.fail('resolved, expected an AppError');
}

async function ordersOf(openid: string): Promise<number> {
  const res = await bench.db.collection(COLLECTIONS.orders).where({ openid }).count();
  return (res as { total: number }).total;
}

describe('the prepay limit (10 per minute per openid)', () => {
  it('of 20 concurrent first payments exactly 10 pass; the rest write nothing and reach no WeChat', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => createPayment(deps, { openid, items: TEA, now: at(10_000) })),
    );
    const passed = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as AppError] : []));
    assert.equal(passed.length, RATE_LIMITS.prepay.limit);
    assert.equal(refused.length, 10);
    for (const err of refused) {
      assert.equal(err.code, 'RATE_LIMITED', err.message);
      assert.equal(err.retryAfterSeconds, 50, 'until the window ends at T0 + 60 s');
      assert.match(err.message, /at most 10 per 60 s\); retry in 50 s/);
    }
    assert.equal(deps.gateway.callsOf('prepay').length, 10);
    assert.equal(await ordersOf(openid), 10);
  });

  it('refuses until the window ends and counts again from its first millisecond; other users are not affected', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    for (let i = 0; i < 10; i++) await createPayment(deps, { openid, items: TEA, now: at(i * 1000) });
    const last = await rejection(createPayment(deps, { openid, items: TEA, now: at(59_999) }));
    assert.deepEqual([last.code, last.retryAfterSeconds], ['RATE_LIMITED', 1]);
    assert.ok(await createPayment(deps, { openid: newOpenid(), items: TEA, now: at(59_999) }));
    for (let i = 0; i < 10; i++) await createPayment(deps, { openid, items: TEA, now: at(60_000 + i) });
    const next = await rejection(createPayment(deps, { openid, items: TEA, now: at(61_000) }));
    assert.equal(next.retryAfterSeconds, 59);
    assert.equal(await ordersOf(openid), 20);
    const counters = await bench.db
      .collection(COLLECTIONS.rateLimits)
      .where({ _id: `prepay:${openid}` })
      .get();
    assert.equal(counters.data.length, 1, 'one document per user and action, overwritten each window');
  });

  it('a keyed retry that reuses a live prepay costs nothing and is never limited', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const first = await createPayment(deps, {
      openid,
      items: TEA,
      idempotencyKey: 'key-rl-0001',
      now: at(0),
    });
    for (let i = 1; i < 10; i++) await createPayment(deps, { openid, items: TEA, now: at(i) });
    for (let i = 0; i < 5; i++) {
      const again = await createPayment(deps, {
        openid,
        items: TEA,
        idempotencyKey: 'key-rl-0001',
        now: at(1000 + i),
      });
      assert.equal(again.orderId, first.orderId);
    }
    assert.equal(deps.gateway.callsOf('prepay').length, 10, 'the retries reused the prepay');
    const fresh = await rejection(
      createPayment(deps, { openid, items: TEA, idempotencyKey: 'key-rl-0002', now: at(2000) }),
    );
    assert.equal(fresh.code, 'RATE_LIMITED', 'a new key is a new prepay');
    assert.equal(await ordersOf(openid), 10, 'the refused keyed order was not written');
  });

  it('an invalid cart costs nothing', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    for (let i = 0; i < 12; i++)
      assert.equal(
        (
          await rejection(
            createPayment(deps, { openid, items: [{ productId: 'gone', quantity: 1 }], now: at(i) }),
          )
        ).code,
        'INVALID_ARGUMENT',
      );
    assert.ok(await createPayment(deps, { openid, items: TEA, now: at(20) }));
  });
});

describe('the refund limit (5 per minute per requester)', () => {
  it('the sixth refund request in a minute is refused before anything is written or sent', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await createPayment(deps, { openid, items: TEA, now: at(i) });
      deps.gateway.pay(r.orderId, at(i));
      await confirmOrder(deps, (await deps.orders.get(r.orderId))!, at(i));
      ids.push(r.orderId);
    }
    const refund = (orderId: string, ms: number) =>
      requestRefund(deps, {
        orderId,
        requester: { openid, isAdmin: false },
        windowHours: 168,
        now: at(ms),
      });
    for (let i = 0; i < 5; i++) assert.equal((await refund(ids[i], 10_000 + i)).status, 'PROCESSING');
    const err = await rejection(refund(ids[5], 30_000));
    assert.deepEqual([err.code, err.retryAfterSeconds], ['RATE_LIMITED', 30]);
    assert.equal(deps.gateway.callsOf('refund').length, 5);
    assert.deepEqual(await deps.refunds.listOfOrder(ids[5]), []);
    assert.equal((await deps.orders.get(ids[5]))?.refundingFen, 0);
    assert.equal((await refund(ids[5], 60_000)).status, 'PROCESSING', 'the next window has room');
  });

  it("admins refunding on the merchant's behalf are not limited", async () => {
    const deps = bench.deps();
    const owner = newOpenid();
    const admin = { openid: newOpenid(), isAdmin: true };
    const users = [owner, newOpenid()];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await createPayment(deps, { openid: users[i % 2], items: TEA, now: at(i) });
      deps.gateway.pay(r.orderId, at(i));
      await confirmOrder(deps, (await deps.orders.get(r.orderId))!, at(i));
      ids.push(r.orderId);
    }
    for (const id of ids)
      assert.equal(
        (await requestRefund(deps, { orderId: id, requester: admin, windowHours: 168, now: at(20_000) }))
          .status,
        'PROCESSING',
      );
    assert.equal(deps.gateway.callsOf('refund').length, 12);
  });

  it('a refusal by the refund rules costs nothing', async () => {
    const deps = bench.deps();
    const openid = newOpenid();
    const r = await createPayment(deps, { openid, items: TEA, now: at(0) });
    for (let i = 0; i < 8; i++)
      assert.equal(
        (
          await rejection(
            requestRefund(deps, {
              orderId: r.orderId,
              requester: { openid, isAdmin: false },
              windowHours: 168,
              now: at(i),
            }),
          )
        ).code,
        'CONFLICT',
        'an unpaid order cannot be refunded',
      );
    await chargeCall(deps, 'refund', openid, at(10)); // the window still has all five
  });
});

describe('the order query lease (one WeChat query per order every 5 s)', () => {
  it('of concurrent claims one wins; the next is won once the interval has passed', async () => {
    const deps = bench.deps();
    const r = await createPayment(deps, { openid: newOpenid(), items: TEA, now: at(0) });
    const before = await deps.orders.get(r.orderId);
    const claims = await Promise.all(
      Array.from({ length: 10 }, () => mayQueryOrder(deps, r.orderId, at(1000))),
    );
    assert.equal(claims.filter(Boolean).length, 1);
    assert.equal(await mayQueryOrder(deps, r.orderId, at(1000 + ORDER_QUERY_INTERVAL_MS - 1)), false);
    assert.equal(await mayQueryOrder(deps, r.orderId, at(1000 + ORDER_QUERY_INTERVAL_MS)), true);
    assert.equal(await mayQueryOrder(deps, 'T_missing_1', at(0)), false);
    const order = await deps.orders.get(r.orderId);
    assert.equal(order?.version, before?.version, 'the lease is no transition: it never races one');
    assert.deepEqual(order?.lastQueriedAt, at(1000 + ORDER_QUERY_INTERVAL_MS));
  });
});
