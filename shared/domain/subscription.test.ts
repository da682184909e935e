// WX_SUBSCRIBE_TEMPLATES, createPayment's `subscriptions` and the filling of message data: pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import '../config/subscribe-templates';
import { createConfig } from '../config/config';
import { FUNCTIONS, NEEDS } from '../config/declaration';
import { ConfigError } from '../config/errors';
import { AppError } from './errors';
import {
  chinaTimeText,
  cutText,
  fillMessageData,
  messagePage,
  parseSubscribeTemplates,
  parseSubscriptions,
  templateIdsOf,
  TemplateConfigError,
  yuanText,
} from './subscription';

const PAID_ID = 'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg';
const REFUNDED_ID = 'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4';
const SHIPPED_ID = 'HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E';

const CONFIG = {
  paid: {
    templateId: PAID_ID,
    page: 'pages/order-detail/order-detail?orderId={orderId}',
    data: { thing1: 'productNames', amount2: 'amount', time3: 'paidAt', character_string4: 'orderId' },
  },
  refunded: {
    templateId: REFUNDED_ID,
    data: {
      thing1: 'productNames',
      amount2: 'refundAmount',
      time3: 'refundedAt',
      character_string4: 'orderId',
    },
  },
  shipped: {
    templateId: SHIPPED_ID,
    data: {
      thing1: 'productNames',
      character_string2: 'trackingNo',
      time3: 'shippedAt',
      thing4: 'text:已发货',
    },
  },
};

function problem(config: unknown): string {
  try {
    parseSubscribeTemplates(typeof config === 'string' ? config : JSON.stringify(config));
  } catch (err) {
    assert.ok(err instanceof TemplateConfigError, String(err));
    return err.message;
  }
  return 'accepted';
}

describe('parseSubscribeTemplates', () => {
  it('reads the three events and lists their template ids once each', () => {
    const t = parseSubscribeTemplates(JSON.stringify(CONFIG));
    assert.equal(t.paid?.templateId, PAID_ID);
    assert.equal(t.shipped?.data.thing4, 'text:已发货');
    assert.deepEqual(templateIdsOf(t), [PAID_ID, REFUNDED_ID, SHIPPED_ID]);
    assert.deepEqual(Object.keys(parseSubscribeTemplates(JSON.stringify({ paid: CONFIG.paid }))), ['paid']);
  });

  it('refuses each mistake with a message that says what to fix', () => {
    assert.match(problem('{paid:'), /is not valid JSON; it must be JSON like \{"paid"/);
    assert.match(problem([]), /must be a non-empty JSON object/);
    assert.match(problem({}), /must be a non-empty JSON object/);
    assert.match(
      problem({ delivered: CONFIG.paid }),
      /event "delivered" is not one of paid, refunded, shipped/,
    );
    assert.match(
      problem({ paid: { ...CONFIG.paid, templateId: 'short' } }),
      /paid\.templateId must be the template id of 微信公众平台/,
    );
    assert.match(
      problem({ paid: { ...CONFIG.paid, page: 'https://evil.example/' } }),
      /paid\.page must be a page path/,
    );
    assert.match(problem({ paid: { ...CONFIG.paid, extra: 1 } }), /paid\.extra is not a field/);
    assert.match(
      problem({ paid: { ...CONFIG.paid, data: {} } }),
      /paid\.data must map each of the template's keys/,
    );
    assert.match(
      problem({ paid: { ...CONFIG.paid, data: { thing1: 'productName' } } }),
      /paid\.data\.thing1 names an unknown source "productName"; use one of productNames, orderId/,
    );
    assert.match(
      problem({ paid: { ...CONFIG.paid, data: { amount2: 'refundAmount' } } }),
      /paid\.data\.amount2 uses refundAmount, which the paid event does not have/,
    );
    assert.match(
      problem({ paid: { ...CONFIG.paid, data: { time3: 'amount' } } }),
      /paid\.data\.time3 is of type time, which cannot hold amount \(a money value\); map it to a key of type thing, number, amount/,
    );
    assert.match(
      problem({ paid: { ...CONFIG.paid, data: { bogus: 'amount' } } }),
      /paid\.data\.bogus is not a template key/,
    );
    assert.match(problem({ paid: { ...CONFIG.paid, data: { thing1: 3 } } }), /must be a string/);
    assert.match(
      problem({ paid: { ...CONFIG.paid, data: { phrase5: 'text:payment received' } } }),
      /paid\.data\.phrase5 holds a literal that breaks WeChat's rule for phrase values \(at most 5 characters\)/,
    );
  });

  it('is checked as WX_SUBSCRIBE_TEMPLATES at the first invocation; unset sends nothing', () => {
    const base = { WX_APPID: 'wx0123456789abcdef' };
    assert.equal(createConfig(base).subscribeTemplates(), undefined);
    assert.equal(createConfig({ ...base, WX_SUBSCRIBE_TEMPLATES: '  ' }).subscribeTemplates(), undefined);
    const bad = createConfig({ ...base, WX_SUBSCRIBE_TEMPLATES: '{"paid":{}}' });
    // What validateFor runs for each function that sends or checks subscriptions.
    for (const name of ['createPayment', 'refund', 'payNotify', 'refundNotify', 'reconcile', 'ship'] as const)
      assert.ok((FUNCTIONS[name] as readonly string[]).includes('subscribeTemplates'), name);
    assert.throws(
      () => NEEDS.subscribeTemplates.read(bad),
      (err: Error) => err instanceof ConfigError && err.variable === 'WX_SUBSCRIBE_TEMPLATES',
    );
    assert.throws(() => bad.subscribeTemplates(), /WX_SUBSCRIBE_TEMPLATES paid\.templateId/);
  });
});

describe('parseSubscriptions (createPayment)', () => {
  const templates = parseSubscribeTemplates(JSON.stringify(CONFIG));
  const refused = (value: unknown, t = templates) => {
    try {
      parseSubscriptions(value, t);
    } catch (err) {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      return err.message;
    }
    return 'accepted';
  };

  it('keeps the accepted ids that the server sends', () => {
    assert.deepEqual(parseSubscriptions(undefined, templates), []);
    assert.deepEqual(parseSubscriptions([], templates), []);
    assert.deepEqual(parseSubscriptions([SHIPPED_ID, PAID_ID], templates), [SHIPPED_ID, PAID_ID]);
  });

  it('refuses anything else as INVALID_ARGUMENT', () => {
    assert.match(refused('x'), /subscriptions must be an array of at most 3 template ids/);
    assert.match(refused([PAID_ID, REFUNDED_ID, SHIPPED_ID, PAID_ID]), /at most 3/);
    assert.match(refused([{ $ne: null }]), /subscriptions\[0\] must be a template id/);
    assert.match(refused(['a'.repeat(43)]), /subscriptions\[0\] is not a template id this server sends/);
    assert.match(refused([PAID_ID, PAID_ID]), /subscriptions\[1\] repeats a template id/);
  });

  it('without a configuration, a well-formed list is accepted and dropped', () => {
    assert.deepEqual(parseSubscriptions([PAID_ID], undefined), []);
    assert.match(refused([''], undefined), /must be a template id/);
  });
});

describe('filling the data', () => {
  const templates = parseSubscribeTemplates(JSON.stringify(CONFIG));

  it('cuts text to the key rule with an ellipsis, writes fen as ¥ and times in China time', () => {
    assert.equal(cutText('乌龙茶', 20), '乌龙茶');
    assert.equal(cutText('a'.repeat(21), 20), `${'a'.repeat(19)}…`);
    assert.equal(Array.from(cutText('🍵'.repeat(30), 20)).length, 20, 'counts characters, not UTF-16 units');
    assert.equal(yuanText(1), '¥0.01');
    assert.equal(yuanText(123456), '¥1234.56');
    assert.equal(yuanText(100, ''), '1.00');
    assert.equal(chinaTimeText(new Date('2026-11-30T16:01:59Z')), '2026-12-01 00:01');
  });

  it('fills every key of the template from the facts of the event', () => {
    const paidAt = new Date('2026-11-30T07:01:00Z');
    const facts = {
      orderId: 'K0123456789abcdef0123456789abcde',
      productNames: ['云南普洱熟茶饼 357克 2019年', '蛋糕'],
      amountFen: 2550,
      paidAt,
    };
    assert.deepEqual(fillMessageData(templates.paid!, facts), {
      thing1: { value: '云南普洱熟茶饼 357克 2019年、…' },
      amount2: { value: '¥25.50' },
      time3: { value: '2026-11-30 15:01' },
      character_string4: { value: 'K0123456789abcdef0123456789abcde' },
    });
    assert.equal(Array.from(fillMessageData(templates.paid!, facts).thing1.value).length, 20);
    const shipped = fillMessageData(templates.shipped!, { ...facts, shippedAt: paidAt });
    assert.deepEqual(shipped.character_string2, { value: '-' }, 'a fact the order lacks shows "-"');
    assert.deepEqual(shipped.thing4, { value: '已发货' });
    assert.equal(messagePage(templates.paid!, 'K1'), 'pages/order-detail/order-detail?orderId=K1');
    assert.equal(messagePage(templates.refunded!, 'K1'), undefined);
    const dated = parseSubscribeTemplates(
      JSON.stringify({
        paid: { templateId: PAID_ID, data: { date1: 'paidAt', number2: 'amount', thing3: 'paidAt' } },
      }),
    );
    assert.deepEqual(fillMessageData(dated.paid!, facts), {
      date1: { value: '2026-11-30' },
      number2: { value: '25.50' },
      thing3: { value: '2026-11-30 15:01' },
    });
  });
});
