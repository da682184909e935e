// The fulfilment rules as pure functions: cart type, ship input, WeChat's body, the state machine.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  claimUpload,
  fulfilmentTypeOf,
  itemDescOf,
  markConfirmed,
  markSettled,
  maskPhone,
  newFulfilment,
  parseShipments,
  recordUpload,
  recordUploadsExhausted,
  shipBlocker,
  shippingInfoBody,
  uploadTime,
  type FulfilledOrder,
} from './fulfilment';
import { newOrder } from './order';

const at = new Date('2026-11-30T02:03:04.005Z');

function paid(extra: Partial<FulfilledOrder> = {}): FulfilledOrder {
  return {
    ...newOrder({
      outTradeNo: 'ORDER123456',
      openid: 'oUser123456',
      items: [
        { productId: 'a', name: '拿铁咖啡', priceFen: 2800, quantity: 2 },
        { productId: 'b', name: '芝士蛋糕', priceFen: 3250, quantity: 1 },
      ],
      amountFen: 8850,
      description: 'x',
      apiVersion: 'v3',
      now: at,
    }),
    status: 'SUCCESS',
    transactionId: '4200000000',
    version: 3,
    ...extra,
  };
}

const applied = <T>(d: { kind: string; transition?: { set: T } }) => {
  assert.equal(d.kind, 'apply');
  return d.transition!.set;
};

describe('fulfilment', () => {
  it('a cart is virtual only when every item is; mixed physical types are refused', () => {
    assert.equal(fulfilmentTypeOf(['virtual', 'virtual']), 'virtual');
    assert.equal(fulfilmentTypeOf(['virtual', 'express']), 'express');
    assert.equal(fulfilmentTypeOf(['pickup', 'virtual', 'pickup']), 'pickup');
    assert.equal(fulfilmentTypeOf([undefined]), 'express');
    assert.throws(() => fulfilmentTypeOf(['express', 'pickup']), { code: 'INVALID_ARGUMENT' });
  });

  it('WeChat gets RFC 3339 China time, item names, and one entry for virtual goods', () => {
    assert.equal(uploadTime(at), '2026-11-30T10:03:04.005+08:00');
    assert.equal(itemDescOf(paid().items), '拿铁咖啡×2、芝士蛋糕');
    assert.equal([...itemDescOf([{ name: '字'.repeat(200), quantity: 1 }])].length, 120);
    const body = shippingInfoBody({ order: paid(), mchid: '1900000109', type: 'virtual', now: at });
    assert.deepEqual(body, {
      order_key: { order_number_type: 1, mchid: '1900000109', out_trade_no: 'ORDER123456' },
      logistics_type: 3,
      delivery_mode: 1,
      shipping_list: [{ item_desc: '拿铁咖啡×2、芝士蛋糕' }],
      upload_time: '2026-11-30T10:03:04.005+08:00',
      payer: { openid: 'oUser123456' },
    });
    const split = shippingInfoBody({
      order: paid(),
      mchid: '1900000109',
      type: 'express',
      shipments: parseShipments(
        [
          { trackingNo: 'SF1', expressCompany: 'SF', consignorContact: '13800001234' },
          { trackingNo: 'ZT-2', expressCompany: 'ZTO', itemDesc: '蛋糕' },
        ],
        'd',
      ),
      now: at,
    });
    assert.equal(split.delivery_mode, 2);
    assert.equal(split.is_all_delivered, true);
    assert.deepEqual(split.shipping_list, [
      {
        tracking_no: 'SF1',
        express_company: 'SF',
        item_desc: 'd',
        contact: { consignor_contact: '138****1234' },
      },
      { tracking_no: 'ZT-2', express_company: 'ZTO', item_desc: '蛋糕' },
    ]);
  });

  it('ship input is validated field by field', () => {
    const bad: unknown[] = [
      undefined,
      'x',
      [],
      Array.from({ length: 16 }, (_, i) => ({ trackingNo: `T${i}`, expressCompany: 'ZTO' })),
      [{}],
      [{ trackingNo: '', expressCompany: 'ZTO' }],
      [{ trackingNo: 'a b', expressCompany: 'ZTO' }],
      [{ trackingNo: 'x'.repeat(129), expressCompany: 'ZTO' }],
      [{ trackingNo: { $ne: 1 }, expressCompany: 'ZTO' }],
      [{ trackingNo: 'T1', expressCompany: 'UPS' }],
      [{ trackingNo: 'T1', expressCompany: 'ZTO', itemDesc: '' }],
      [{ trackingNo: 'T1', expressCompany: 'ZTO', itemDesc: '字'.repeat(121) }],
      [{ trackingNo: 'T1', expressCompany: 'ZTO', itemDesc: 'a\u0000b' }],
      [{ trackingNo: 'T1', expressCompany: 'SF' }],
      [{ trackingNo: 'T1', expressCompany: 'SF', consignorContact: 'call me' }],
      [{ trackingNo: 'T1', expressCompany: 'ZTO', extra: 1 }],
      [null],
    ];
    for (const value of bad)
      assert.throws(() => parseShipments(value, 'd'), { code: 'INVALID_ARGUMENT' }, JSON.stringify(value));
    assert.equal(maskPhone('13800001234'), '138****1234');
    assert.equal(maskPhone('138****1234'), '138****1234');
  });

  it('only paid, unrefunded, unconfirmed orders with a change left may ship', () => {
    assert.equal(shipBlocker(paid()), undefined);
    assert.match(shipBlocker(paid({ status: 'NOTPAY' }))!, /only paid/);
    assert.match(shipBlocker(paid({ status: 'REFUNDED', refundedFen: 8850 }))!, /refunded/);
    assert.match(shipBlocker(paid({ refundingFen: 8850 }))!, /refunded/);
    assert.equal(shipBlocker(paid({ refundedFen: 100 })), undefined, 'a partial refund still ships');
    assert.match(
      shipBlocker(paid({ fulfilment: { ...newFulfilment('express'), uploads: 2 } }))!,
      /one change/,
    );
    assert.match(
      shipBlocker(paid({ fulfilment: { ...newFulfilment('express'), status: 'CONFIRMED', uploads: 1 } }))!,
      /received/,
    );
  });

  it('PENDING → SHIPPED → (change) → CONFIRMED → SETTLED, each a versioned conditional update', () => {
    const o = paid({ fulfilment: newFulfilment('express') });
    const first = recordUpload(o, [{ trackingNo: 'T1', expressCompany: 'ZTO', itemDesc: 'x' }], at);
    assert.deepEqual(first.kind === 'apply' && first.transition.where, { _id: 'ORDER123456', version: 3 });
    const s1 = applied(first);
    assert.equal(s1.version, 4);
    assert.deepEqual(s1.fulfilment, {
      type: 'express',
      status: 'SHIPPED',
      uploads: 1,
      shippedAt: at,
      shipments: [{ trackingNo: 'T1', expressCompany: 'ZTO', itemDesc: 'x' }],
    });
    const o2 = { ...o, ...s1 } as FulfilledOrder;
    const s2 = applied(recordUpload(o2, [{ trackingNo: 'T2', expressCompany: 'YTO', itemDesc: 'x' }], at));
    assert.equal(s2.fulfilment!.uploads, 2);
    const o3 = { ...o2, ...s2 } as FulfilledOrder;
    assert.deepEqual(recordUpload(o3, undefined, at), { kind: 'anomaly', reason: 'uploads-exhausted' });
    assert.deepEqual(recordUploadsExhausted(o3, at), { kind: 'already' });
    const confirmedAt = new Date('2026-12-01T00:00:00Z');
    const s4 = applied(markConfirmed(o3, confirmedAt, at));
    assert.equal(s4.fulfilment!.status, 'CONFIRMED');
    const o4 = { ...o3, ...s4 } as FulfilledOrder;
    assert.deepEqual(markConfirmed(o4, confirmedAt, at), { kind: 'already' });
    const s5 = applied(markSettled(o4, new Date('2026-12-02T00:00:00Z'), undefined, at));
    assert.equal(s5.fulfilment!.status, 'SETTLED');
    assert.deepEqual(s5.fulfilment!.confirmedAt, confirmedAt);
    const o5 = { ...o4, ...s5 } as FulfilledOrder;
    assert.deepEqual(markSettled(o5, at, undefined, at), { kind: 'already' });
    assert.deepEqual(markConfirmed(o5, at, at), { kind: 'already' });
    assert.deepEqual(markConfirmed(paid({ status: 'NOTPAY' }), at, at), {
      kind: 'anomaly',
      reason: 'order-notpay',
    });
  });

  it('the automatic upload is claimed by one invocation at a time', () => {
    const o = paid({ fulfilment: newFulfilment('virtual') });
    const s = applied(claimUpload(o, at));
    const claimed = { ...o, ...s } as FulfilledOrder;
    assert.deepEqual(claimUpload(claimed, at), { kind: 'anomaly', reason: 'claimed' });
    const later = new Date(at.getTime() + 31_000);
    assert.equal(applied(claimUpload(claimed, later)).fulfilment!.attempts, 2);
    const done = { ...o, fulfilment: { ...newFulfilment('virtual'), uploads: 1 } } as FulfilledOrder;
    assert.deepEqual(claimUpload(done, later), { kind: 'already' });
  });
});
