import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeItems, parseCart, priceCart, truncateUtf8, type Product } from './catalog';
import { AppError } from './errors';
import { isMerchantNo, newOutRefundNo, newOutTradeNo } from './ids';
import { formatYuan, isFen, sumFen } from './money';
import {
  markClosed,
  markPaid,
  newOrder,
  recordPaidAfterClose,
  recordPrepay,
  refundableFen,
  reserveAutoRefund,
  reserveRefund,
  reusablePrepayId,
  settleRefund,
  type OrderDoc,
} from './order';
import {
  abandonRefund,
  confirmReserved,
  decideRefundAmount,
  failRefund,
  finishRefund,
  markAppliedToOrder,
  newRefund,
  orderEffect,
} from './refund';
import { optionalString, readObject, requireInt, requireString } from './validate';

const now = new Date('2026-11-25T12:00:00Z');
const catalog = new Map<string, Product>([
  ['p1', { _id: 'p1', name: '咖啡', priceFen: 1200, active: true }],
  ['p2', { _id: 'p2', name: 'Tea', priceFen: 800, active: true }],
  ['off', { _id: 'off', name: 'Old', priceFen: 100, active: false }],
  ['bad', { _id: 'bad', name: 'Broken', priceFen: 1.5, active: true }],
]);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, `expected AppError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('expected an error');
}

function paidOrder(over: Partial<OrderDoc> = {}): OrderDoc {
  const o = newOrder({
    outTradeNo: newOutTradeNo(now),
    openid: 'o-user',
    items: [],
    amountFen: 3000,
    description: 'x',
    apiVersion: 'v3',
    now,
  });
  return { ...o, status: 'SUCCESS', transactionId: '4200001', paidAt: now, version: 1, ...over };
}

describe('money', () => {
  it('accepts only non-negative safe integers', () => {
    assert.equal(isFen(0), true);
    assert.equal(isFen(12), true);
    for (const v of [-1, 1.5, NaN, Infinity, '12', null, 2 ** 60]) assert.equal(isFen(v), false, String(v));
  });
  it('sums and formats', () => {
    assert.equal(sumFen([1, 2, 300]), 303);
    assert.throws(() => sumFen([1, 0.5]), RangeError);
    assert.equal(formatYuan(12345), '123.45');
    assert.equal(formatYuan(5), '0.05');
  });
});

describe('ids', () => {
  it('generates unique merchant numbers in WeChat format', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const t = newOutTradeNo();
      const r = newOutRefundNo();
      assert.ok(isMerchantNo(t) && isMerchantNo(r), t);
      assert.ok(t.length >= 6 && t.length <= 32);
      seen.add(t).add(r);
    }
    assert.equal(seen.size, 4000);
    assert.equal(isMerchantNo('abc'), false);
    assert.equal(isMerchantNo('a'.repeat(33)), false);
    assert.equal(isMerchantNo({ $ne: null }), false);
  });
});

describe('validation', () => {
  it('rejects objects and arrays where scalars are expected', () => {
    for (const v of [{ $ne: null }, ['x'], null, 5, true]) {
      assert.equal(
        code(() => requireString({ orderId: v }, 'orderId', { max: 32 })),
        'INVALID_ARGUMENT',
      );
    }
    assert.equal(
      code(() => requireInt({ n: '5' }, 'n', { min: 0, max: 9 })),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => requireInt({ n: 5.5 }, 'n', { min: 0, max: 9 })),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => requireInt({ n: 10 }, 'n', { min: 0, max: 9 })),
      'INVALID_ARGUMENT',
    );
    assert.equal(requireInt({ n: 9 }, 'n', { min: 0, max: 9 }), 9);
    assert.equal(optionalString({}, 'x', { max: 3 }), undefined);
    assert.equal(
      code(() => readObject([], 'event')),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => readObject(Object.create({ evil: 1 }), 'event')),
      'INVALID_ARGUMENT',
    );
  });
  it('names the field and the rule in the message', () => {
    assert.throws(
      () => requireString({ orderId: 'ab' }, 'orderId', { min: 6, max: 32 }),
      /orderId must be 6–32 characters/,
    );
  });
});

describe('catalog pricing', () => {
  it('prices from the catalog and merges lines', () => {
    const lines = parseCart([
      { productId: 'p1', quantity: 2 },
      { productId: 'p2', quantity: 1 },
      { productId: 'p1', quantity: 1 },
    ]);
    const priced = priceCart(lines, catalog);
    assert.equal(priced.amountFen, 1200 * 3 + 800);
    assert.deepEqual(
      priced.items.map((i) => [i.productId, i.quantity, i.priceFen]),
      [
        ['p1', 3, 1200],
        ['p2', 1, 800],
      ],
    );
    assert.equal(priced.description, '咖啡×3, Tea');
  });
  it('ignores client-supplied prices and refuses unknown, inactive or broken products', () => {
    const priced = priceCart(parseCart([{ productId: 'p2', quantity: 1, priceFen: 1 }]), catalog);
    assert.equal(priced.amountFen, 800);
    for (const id of ['nope', 'off', 'bad'])
      assert.equal(
        code(() => priceCart(parseCart([{ productId: id, quantity: 1 }]), catalog)),
        'INVALID_ARGUMENT',
      );
  });
  it('validates cart shape and limits', () => {
    const bad: unknown[] = [
      [],
      'x',
      {},
      [{ productId: 'p1' }],
      [{ productId: 'p1', quantity: 0 }],
      [{ productId: 'p1', quantity: 100 }],
      [{ productId: { $gt: '' }, quantity: 1 }],
      Array.from({ length: 21 }, (_, i) => ({ productId: `p${i}`, quantity: 1 })),
      [
        { productId: 'p1', quantity: 60 },
        { productId: 'p1', quantity: 60 },
      ],
      [null],
    ];
    for (const items of bad)
      assert.equal(
        code(() => parseCart(items)),
        'INVALID_ARGUMENT',
        JSON.stringify(items),
      );
  });
  it('keeps the description within 127 characters', () => {
    const items = Array.from({ length: 20 }, (_, i) => ({ name: `很长的商品名称 number ${i}`, quantity: 2 }));
    const d = describeItems(items);
    assert.ok(Array.from(d).length <= 127, d);
    assert.match(d, /等40件商品$/);
    assert.equal(describeItems([{ name: 'a\nb', quantity: 1 }]), 'a b');
    assert.equal(Buffer.byteLength(truncateUtf8('咖啡咖啡', 7)), 6);
  });
});

describe('order state machine', () => {
  it('NOTPAY → SUCCESS once, with a version-guarded update', () => {
    const o = newOrder({
      outTradeNo: 'T1234567',
      openid: 'o-user',
      items: [],
      amountFen: 100,
      description: 'd',
      apiVersion: 'v3',
      now,
    });
    const facts = { transactionId: 'tx1', amountTotalFen: 100, payerOpenid: 'o-user', paidAt: now };
    const d = markPaid(o, facts, now);
    assert.equal(d.kind, 'apply');
    if (d.kind !== 'apply') return;
    assert.deepEqual(d.transition.where, { _id: 'T1234567', status: 'NOTPAY', version: 0 });
    assert.equal(d.transition.set.status, 'SUCCESS');
    assert.equal(d.transition.set.version, 1);
    const after = { ...o, ...d.transition.set };
    assert.equal(markPaid(after, facts, now).kind, 'already');
    assert.deepEqual(markPaid(after, { ...facts, transactionId: 'tx2' }, now), {
      kind: 'anomaly',
      reason: 'second-transaction',
    });
  });
  it('treats contradicting facts as anomalies', () => {
    const o = newOrder({
      outTradeNo: 'T1234567',
      openid: 'o-user',
      items: [],
      amountFen: 100,
      description: 'd',
      apiVersion: 'v3',
      now,
    });
    assert.deepEqual(markPaid(o, { transactionId: 't', amountTotalFen: 99, paidAt: now }, now), {
      kind: 'anomaly',
      reason: 'amount-mismatch',
    });
    assert.deepEqual(
      markPaid(o, { transactionId: 't', amountTotalFen: 100, payerOpenid: 'other', paidAt: now }, now),
      { kind: 'anomaly', reason: 'payer-mismatch' },
    );
    const closed = { ...o, status: 'CLOSED' as const };
    assert.deepEqual(markPaid(closed, { transactionId: 't', amountTotalFen: 100, paidAt: now }, now), {
      kind: 'anomaly',
      reason: 'paid-after-close',
    });
  });
  it('closes only unpaid orders and reuses unexpired prepay ids', () => {
    const o = newOrder({
      outTradeNo: 'T1234567',
      openid: 'o',
      items: [],
      amountFen: 100,
      description: 'd',
      apiVersion: 'v3',
      now,
    });
    assert.equal(markClosed(o, now).kind, 'apply');
    assert.equal(markClosed({ ...o, status: 'CLOSED' }, now).kind, 'already');
    assert.equal(markClosed(paidOrder(), now).kind, 'anomaly');
    const p = recordPrepay(o, 'wx123', now);
    assert.equal(p.kind, 'apply');
    if (p.kind !== 'apply') return;
    const withPrepay = { ...o, ...p.transition.set };
    assert.equal(reusablePrepayId(withPrepay, now), 'wx123');
    assert.equal(
      withPrepay.prepayExpiresAt?.getTime(),
      now.getTime() + 2 * 3600_000,
      'the time_expire WeChat was given',
    );
    assert.equal(reusablePrepayId(withPrepay, new Date(now.getTime() + 2 * 3600_000 - 1)), 'wx123');
    assert.equal(reusablePrepayId(withPrepay, new Date(now.getTime() + 2 * 3600_000)), undefined);
    assert.equal(recordPrepay(withPrepay, 'wx123', now).kind, 'already');
  });
  it('never reserves more than is refundable', () => {
    let o = paidOrder();
    const t1 = reserveRefund(o, { outRefundNo: 'R1', amountFen: 1000 }, now);
    assert.deepEqual(t1.where, { _id: o._id, status: 'SUCCESS', version: 1 });
    o = { ...o, ...t1.set };
    assert.equal(o.refundingFen, 1000);
    assert.deepEqual(o.reservedRefundNos, ['R1'], 'the reservation names its refund');
    assert.equal(refundableFen(o), 2000);
    assert.equal(
      code(() => reserveRefund(o, { outRefundNo: 'R2', amountFen: 2001 }, now)),
      'CONFLICT',
    );
    assert.equal(
      code(() => reserveRefund(o, { outRefundNo: 'R2', amountFen: 0 }, now)),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      code(() => reserveRefund({ ...o, status: 'NOTPAY' }, { outRefundNo: 'R2', amountFen: 1 }, now)),
      'CONFLICT',
    );
  });
  it('settles each refund exactly once, reaching REFUNDED when all is refunded', () => {
    let o = paidOrder({ refundingFen: 3000, reservedRefundNos: ['R1', 'R2', 'R3'] });
    const a = settleRefund(o, { outRefundNo: 'R1', amountFen: 1000 }, 'SUCCESS', now);
    assert.equal(a.kind, 'apply');
    if (a.kind !== 'apply') return;
    o = { ...o, ...a.transition.set };
    assert.deepEqual([o.refundedFen, o.refundingFen, o.status], [1000, 2000, 'SUCCESS']);
    assert.equal(settleRefund(o, { outRefundNo: 'R1', amountFen: 1000 }, 'SUCCESS', now).kind, 'already');
    const rel = settleRefund(o, { outRefundNo: 'R2', amountFen: 500 }, 'RELEASE', now);
    if (rel.kind !== 'apply') return assert.fail('release');
    o = { ...o, ...rel.transition.set };
    assert.deepEqual([o.refundedFen, o.refundingFen], [1000, 1500]);
    const last = settleRefund(o, { outRefundNo: 'R3', amountFen: 1500 }, 'SUCCESS', now);
    if (last.kind !== 'apply') return assert.fail('last');
    o = { ...o, ...last.transition.set };
    assert.deepEqual([o.refundedFen, o.refundingFen, o.status], [2500, 0, 'SUCCESS']);
    assert.deepEqual(settleRefund(o, { outRefundNo: 'R4', amountFen: 500 }, 'SUCCESS', now), {
      kind: 'anomaly',
      reason: 'reservation-missing',
    });
    assert.deepEqual(o.reservedRefundNos, [], 'each settlement frees its named reservation');
    assert.deepEqual(
      settleRefund({ ...o, refundingFen: 500 }, { outRefundNo: 'R9', amountFen: 500 }, 'RELEASE', now),
      { kind: 'anomaly', reason: 'reservation-missing' },
      'a reservation held for another refund is not released',
    );
    const full = settleRefund(
      { ...o, refundingFen: 500, reservedRefundNos: ['R5'] },
      { outRefundNo: 'R5', amountFen: 500 },
      'SUCCESS',
      now,
    );
    assert.equal(full.kind === 'apply' && full.transition.set.status, 'REFUNDED');
  });
});

describe('paid after close', () => {
  const closed = (): OrderDoc => ({
    ...newOrder({
      outTradeNo: 'T7654321',
      openid: 'o-user',
      items: [],
      amountFen: 900,
      description: 'd',
      apiVersion: 'v3',
      now,
    }),
    status: 'CLOSED',
    closedAt: now,
  });
  const facts = { transactionId: 'tx9', amountTotalFen: 900, payerTotalFen: 900, paidAt: now };

  it('records the payment on the CLOSED order once; another transaction or amount is an anomaly', () => {
    const o = closed();
    assert.deepEqual(markPaid(o, facts, now), { kind: 'anomaly', reason: 'paid-after-close' });
    const d = recordPaidAfterClose(o, facts, now);
    if (d.kind !== 'apply') return assert.fail('apply');
    assert.deepEqual(d.transition.where, { _id: 'T7654321', status: 'CLOSED', version: 0 });
    assert.equal(d.transition.set.status, undefined, 'stays CLOSED');
    const after = { ...o, ...d.transition.set };
    assert.equal(after.transactionId, 'tx9');
    assert.equal(recordPaidAfterClose(after, facts, now).kind, 'already');
    assert.deepEqual(recordPaidAfterClose(after, { ...facts, transactionId: 'tx8' }, now), {
      kind: 'anomaly',
      reason: 'second-transaction',
    });
    assert.deepEqual(recordPaidAfterClose(o, { ...facts, amountTotalFen: 1 }, now), {
      kind: 'anomaly',
      reason: 'amount-mismatch',
    });
    assert.deepEqual(recordPaidAfterClose({ ...o, status: 'NOTPAY' }, facts, now), {
      kind: 'anomaly',
      reason: 'order-notpay',
    });
  });

  it('reserves the automatic refund once, only on a paid CLOSED order, and settles it keeping CLOSED', () => {
    const refund = { outRefundNo: 'ART7654321', amountFen: 900 };
    assert.deepEqual(reserveAutoRefund(closed(), refund, now), {
      kind: 'anomaly',
      reason: 'not-paid-after-close',
    });
    let o: OrderDoc = { ...closed(), transactionId: 'tx9' };
    const r = reserveAutoRefund(o, refund, now);
    if (r.kind !== 'apply') return assert.fail('reserve');
    o = { ...o, ...r.transition.set };
    assert.deepEqual([o.refundingFen, o.reservedRefundNos], [900, ['ART7654321']]);
    assert.equal(reserveAutoRefund(o, refund, now).kind, 'already');
    assert.deepEqual(reserveAutoRefund(o, { outRefundNo: 'AR2', amountFen: 1 }, now), {
      kind: 'anomaly',
      reason: 'refund-exceeds-rest',
    });
    const s = settleRefund(o, refund, 'SUCCESS', now);
    if (s.kind !== 'apply') return assert.fail('settle');
    o = { ...o, ...s.transition.set };
    assert.deepEqual([o.status, o.refundedFen, o.refundingFen], ['CLOSED', 900, 0]);
    assert.equal(
      reserveAutoRefund(o, refund, now).kind,
      'already',
      'a settled refund is never reserved again',
    );
  });
});

describe('refund rules', () => {
  const owner = { openid: 'o-user', isAdmin: false };
  const admin = { openid: 'o-admin', isAdmin: true };
  it('lets the owner refund everything inside the window only', () => {
    const o = paidOrder();
    assert.equal(decideRefundAmount({ order: o, requester: owner, now, windowHours: 168 }), 3000);
    assert.equal(
      decideRefundAmount({ order: o, requester: owner, amountFen: 3000, now, windowHours: 168 }),
      3000,
    );
    assert.equal(
      code(() => decideRefundAmount({ order: o, requester: owner, amountFen: 100, now, windowHours: 168 })),
      'PERMISSION_DENIED',
    );
    const late = new Date(now.getTime() + 169 * 3600_000);
    assert.equal(
      code(() => decideRefundAmount({ order: o, requester: owner, now: late, windowHours: 168 })),
      'PERMISSION_DENIED',
    );
    assert.equal(
      code(() =>
        decideRefundAmount({ order: { ...o, refundingFen: 1 }, requester: owner, now, windowHours: 168 }),
      ),
      'CONFLICT',
    );
  });
  it('hides other users’ orders and lets admins refund partial amounts', () => {
    const o = paidOrder({ refundedFen: 1000 });
    assert.equal(
      code(() =>
        decideRefundAmount({ order: o, requester: { openid: 'x', isAdmin: false }, now, windowHours: 168 }),
      ),
      'NOT_FOUND',
    );
    assert.equal(
      code(() => decideRefundAmount({ order: undefined, requester: admin, now, windowHours: 168 })),
      'NOT_FOUND',
    );
    assert.equal(
      decideRefundAmount({ order: o, requester: admin, amountFen: 500, now, windowHours: 168 }),
      500,
    );
    assert.equal(decideRefundAmount({ order: o, requester: admin, now, windowHours: 168 }), 2000);
    assert.equal(
      code(() => decideRefundAmount({ order: o, requester: admin, amountFen: 2001, now, windowHours: 168 })),
      'CONFLICT',
    );
    assert.equal(
      code(() =>
        decideRefundAmount({ order: { ...o, status: 'REFUNDED' }, requester: admin, now, windowHours: 168 }),
      ),
      'CONFLICT',
    );
    assert.equal(
      code(() =>
        decideRefundAmount({ order: { ...o, status: 'NOTPAY' }, requester: admin, now, windowHours: 168 }),
      ),
      'CONFLICT',
    );
  });
  it('moves PROCESSING to a final status once and knows the order effect', () => {
    const r = newRefund({
      outRefundNo: 'R12345678',
      order: paidOrder(),
      amountFen: 100,
      requestedBy: 'o-user',
      now,
    });
    assert.equal(orderEffect(r), undefined);
    const d = finishRefund(r, { status: 'SUCCESS', refundId: '50001', refundFen: 100 }, now);
    if (d.kind !== 'apply') return assert.fail('apply');
    assert.deepEqual(d.transition.where, { _id: 'R12345678', status: 'PROCESSING' });
    const done = { ...r, ...d.transition.set };
    assert.equal(orderEffect(done), 'SUCCESS');
    assert.equal(finishRefund(done, { status: 'SUCCESS' }, now).kind, 'already');
    assert.equal(finishRefund(done, { status: 'CLOSED' }, now).kind, 'anomaly');
    assert.deepEqual(finishRefund(r, { status: 'SUCCESS', refundFen: 99 }, now), {
      kind: 'anomaly',
      reason: 'amount-mismatch',
    });
    const abnormal = { ...r, status: 'ABNORMAL' as const };
    assert.equal(orderEffect(abnormal), undefined);
    assert.equal(finishRefund(abnormal, { status: 'SUCCESS' }, now).kind, 'apply');
    const failed = failRefund(r, 'NOT_ENOUGH', now);
    assert.equal(failed.kind === 'apply' && failed.transition.set.status, 'FAILED');
    assert.equal(orderEffect({ status: 'FAILED' }), 'RELEASE');
    assert.equal(markAppliedToOrder({ ...done, appliedToOrder: true }, now).kind, 'already');
  });
  it('abandoning an unreserved refund and confirming its reservation exclude each other', () => {
    const r = newRefund({
      outRefundNo: 'R12345679',
      order: paidOrder(),
      amountFen: 100,
      requestedBy: 'o-user',
      now,
    });
    assert.equal(r.reservedOnOrder, false);
    const abandon = abandonRefund(r, now);
    if (abandon.kind !== 'apply') return assert.fail('apply');
    // Conditional on the request not having confirmed meanwhile: the same document decides the race.
    assert.deepEqual(abandon.transition.where, { _id: r._id, status: 'PROCESSING', reservedOnOrder: false });
    const confirm = confirmReserved(r, now);
    if (confirm.kind !== 'apply') return assert.fail('apply');
    assert.deepEqual(confirm.transition.where, { _id: r._id, status: 'PROCESSING' });
    const held = { ...r, ...confirm.transition.set };
    assert.deepEqual(abandonRefund(held, now), { kind: 'anomaly', reason: 'refund-reserved' });
    assert.equal(confirmReserved(held, now).kind, 'already');
    const abandoned = { ...r, ...abandon.transition.set };
    assert.deepEqual(confirmReserved(abandoned, now), { kind: 'anomaly', reason: 'refund-failed' });
    // A refund written before the field existed keeps the old, unconditional abandonment.
    const { reservedOnOrder: _omit, ...older } = r;
    const old = abandonRefund(older, now);
    assert.equal(old.kind === 'apply' && 'reservedOnOrder' in old.transition.where, false);
  });
});
