import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseV2Time, v2RefundStatus } from './v2';
import { rfc3339China } from '../wxpay/v3';
import { paymentFactsOf } from './v3';

describe('gateway wire conversions', () => {
  it('formats time_expire in China Standard Time', () => {
    assert.equal(rfc3339China(Date.parse('2026-11-25T16:30:05.123Z')), '2026-11-26T00:30:05+08:00');
  });
  it('reads v2 Beijing times in both documented forms', () => {
    assert.equal(parseV2Time('20261126003005')?.toISOString(), '2026-11-25T16:30:05.000Z');
    assert.equal(parseV2Time('2026-11-26 00:30:05')?.toISOString(), '2026-11-25T16:30:05.000Z');
    assert.equal(parseV2Time('yesterday'), undefined);
    assert.equal(parseV2Time(undefined), undefined);
  });
  it('maps v2 refund statuses onto ours', () => {
    assert.deepEqual(['SUCCESS', 'REFUNDCLOSE', 'CHANGE', 'PROCESSING', 'odd'].map(v2RefundStatus), [
      'SUCCESS',
      'CLOSED',
      'ABNORMAL',
      'PROCESSING',
      'PROCESSING',
    ]);
  });
  it('turns a v3 transaction into payment facts without inventing an amount', () => {
    const f = paymentFactsOf({
      transaction_id: '42',
      amount: { total: 100, payer_total: 90 },
      payer: { openid: 'o' },
      success_time: '2026-11-26T00:30:05+08:00',
    });
    assert.deepEqual(f, {
      transactionId: '42',
      amountTotalFen: 100,
      payerTotalFen: 90,
      payerOpenid: 'o',
      paidAt: new Date('2026-11-25T16:30:05Z'),
    });
    assert.equal(paymentFactsOf({}).amountTotalFen, -1, 'a missing amount never matches an order');
  });
});
