// The bill parser against bills written by hand in WeChat's documented layout (header, backtick
// fields, summary header and row), amounts from 0.01 to 1234567.89, and the malformed variants.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import {
  BillFormatError,
  TradeBillTotals,
  gunzipped,
  parseFundFlowBill,
  parseTradeBill,
  type FundFlowRow,
  type TradeBillRow,
} from './bill-parser';
import { fenToYuan, parseCount, yuanToFen } from './yuan';

const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const SUMMARY_HEADER =
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
const PAY1 =
  '`2026-11-29 12:00:01,`wx8888888888888888,`1900000109,`0,`,`4200000001202611290000000001,`T20261129A,`oUser1,`JSAPI,`SUCCESS,`OTHERS,`CNY,`0.01,`0.00,`0,`0,`0.00,`0.00,`,`,`Tea, green,`,`0.00000,`0.60%,`0.01,`0.00,`';
const PAY2 =
  '`2026-11-29 13:30:00,`wx8888888888888888,`1900000109,`0,`,`4200000001202611290000000002,`T20261129B,`oUser2,`JSAPI,`SUCCESS,`CMB_CREDIT,`CNY,`1234567.89,`0.00,`0,`0,`0.00,`0.00,`,`,`Big order,`,`7407.40734,`0.60%,`1234567.89,`0.00,`';
const REFUND =
  '`2026-11-29 15:00:00,`wx8888888888888888,`1900000109,`0,`,`4200000001202611290000000002,`T20261129B,`oUser2,`JSAPI,`REFUND,`CMB_CREDIT,`CNY,`0.00,`0.00,`50300000012026112900000000001,`R20261129B1,`100.50,`0.00,`ORIGINAL,`SUCCESS,`Big order,`,`-0.60300,`0.60%,`0.00,`100.50,`';
const SUMMARY = '`3,`1234567.90,`100.50,`0.00,`7406.80434,`1234567.90,`100.50';

const bill = (...lines: string[]) => lines.join('\r\n') + '\r\n';

async function parseTrade(text: string | Buffer, chunkSize = 7) {
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  // Small chunks split multi-byte characters and lines across reads.
  const chunks: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunkSize) chunks.push(buf.subarray(i, i + chunkSize));
  const rows: TradeBillRow[] = [];
  const out = await parseTradeBill(Readable.from(chunks), (r) => rows.push(r));
  return { ...out, rows: rows };
}

describe('yuan → fen', () => {
  it('converts by string arithmetic, never floating point', () => {
    assert.equal(yuanToFen('0.01'), 1);
    assert.equal(yuanToFen('1234567.89'), 123456789);
    assert.equal(yuanToFen('0.29'), 29); // 0.29 * 100 = 28.999999999999996 in floating point
    assert.equal(yuanToFen('19.9'), 1990);
    assert.equal(yuanToFen('7'), 700);
    assert.equal(yuanToFen('0.00'), 0);
    assert.equal(yuanToFen('-0.60'), -60);
    assert.equal(fenToYuan(123456789), '1234567.89');
    assert.equal(fenToYuan(1), '0.01');
    assert.equal(fenToYuan(-60), '-0.60');
  });
  it('rejects malformed amounts', () => {
    for (const bad of [
      '',
      '.5',
      '1.',
      '1.234',
      '1e3',
      '+1.00',
      ' 1.00',
      '01.00',
      '1,000.00',
      'NaN',
      '0x10',
      '１.00',
    ])
      assert.equal(yuanToFen(bad), undefined, bad);
  });
  it('reads summary counts as both bills write them', () => {
    assert.equal(parseCount('20'), 20);
    assert.equal(parseCount('20.0'), 20);
    assert.equal(parseCount('20.5'), undefined);
    assert.equal(parseCount('-1'), undefined);
  });
});

describe('trade bill (ALL)', () => {
  it('parses rows and the summary of a hand-written bill, whatever the chunking', async () => {
    for (const chunkSize of [1, 7, 4096]) {
      const out = await parseTrade(bill(HEADER, PAY1, PAY2, REFUND, SUMMARY_HEADER, SUMMARY), chunkSize);
      assert.equal(out.rows.length, 3);
      const [p1, p2, r] = out.rows;
      assert.equal(p1.outTradeNo, 'T20261129A');
      assert.equal(p1.orderFen, 1);
      assert.equal(p1.tradeState, 'SUCCESS');
      assert.equal(p1.refundId, '0');
      assert.equal(p2.orderFen, 123456789);
      assert.equal(p2.transactionId, '4200000001202611290000000002');
      assert.equal(r.tradeState, 'REFUND');
      assert.equal(r.outRefundNo, 'R20261129B1');
      assert.equal(r.refundId, '50300000012026112900000000001');
      assert.equal(r.requestedRefundFen, 10050);
      assert.equal(r.refundStatus, 'SUCCESS');
      assert.equal(r.line, 4);
      assert.deepEqual(out.summary, {
        count: 3,
        settlementFen: 123456790,
        refundFen: 10050,
        couponRefundFen: 0,
        feeText: '7406.80434',
        orderFen: 123456790,
        requestedRefundFen: 10050,
      });
      const totals = new TradeBillTotals();
      out.rows.forEach((x) => totals.add(x));
      assert.deepEqual(totals.differences(out.summary), []);
    }
  });

  it('keeps a comma inside a field (商品名称 "Tea, green")', async () => {
    const out = await parseTrade(
      bill(HEADER, PAY1, SUMMARY_HEADER, '`1,`0.01,`0.00,`0.00,`0.00000,`0.01,`0.00'),
    );
    assert.equal(out.rows[0].outTradeNo, 'T20261129A');
  });

  it('an empty day is the header and a zero summary', async () => {
    const out = await parseTrade(bill(HEADER, SUMMARY_HEADER, '`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00'));
    assert.equal(out.rows.length, 0);
    assert.equal(out.summary.count, 0);
  });

  it('reads the gzip WeChat sends with tar_type=GZIP', async () => {
    const gz = gzipSync(Buffer.from(bill(HEADER, PAY1, PAY2, REFUND, SUMMARY_HEADER, SUMMARY)));
    const rows: TradeBillRow[] = [];
    const out = await parseTradeBill(gunzipped(Readable.from([gz])), (r) => rows.push(r));
    assert.equal(out.rows, 3);
    assert.equal(rows[1].orderFen, 123456789);
  });

  it('a summary that differs from the rows is reported column by column', async () => {
    const out = await parseTrade(
      bill(HEADER, PAY1, PAY2, REFUND, SUMMARY_HEADER, '`3,`1234567.90,`100.51,`0.00,`0,`1234567.90,`100.50'),
    );
    const totals = new TradeBillTotals();
    out.rows.forEach((x) => totals.add(x));
    assert.deepEqual(totals.differences(out.summary), [
      { column: '退款总金额', rows: 10050, summary: 10051 },
    ]);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['empty', '', /is empty/],
    [
      'columns reordered',
      bill(
        HEADER.replace('商户订单号,用户标识', '用户标识,商户订单号'),
        SUMMARY_HEADER,
        '`0,`0,`0,`0,`0,`0,`0',
      ),
      /not the trade bill \(ALL\) header/,
    ],
    ['SUCCESS-type header', bill('交易时间,公众账号ID,商户号', SUMMARY_HEADER), /not the trade bill/],
    ['no backtick', bill(HEADER, PAY1.replace(/`/g, ''), SUMMARY_HEADER, SUMMARY), /summary header/],
    [
      'missing field',
      bill(HEADER, PAY1.replace(',`0.60%', ''), SUMMARY_HEADER, SUMMARY),
      /has 26 fields where the header has 27/,
    ],
    [
      'float amount',
      bill(HEADER, PAY1.replace('`0.01,`0.00,`0,', '`0.010,`0.00,`0,'), SUMMARY_HEADER, SUMMARY),
      /应结订单金额 "0.010" is not an amount/,
    ],
    [
      'bad time',
      bill(HEADER, PAY1.replace('2026-11-29 12:00:01', '2026/11/29 12:00'), SUMMARY_HEADER, SUMMARY),
      /交易时间/,
    ],
    ['truncated before summary', bill(HEADER, PAY1), /truncated/],
    ['truncated after summary header', bill(HEADER, PAY1, SUMMARY_HEADER), /without the summary row/],
    [
      'text after the summary',
      bill(HEADER, PAY1, SUMMARY_HEADER, SUMMARY, '`extra'),
      /after the summary row/,
    ],
  ];
  for (const [what, text, expect] of malformed) {
    it(`refuses a bill with ${what}`, async () => {
      await assert.rejects(parseTrade(text), (err: unknown) => {
        assert.ok(err instanceof BillFormatError, String(err));
        assert.match(err.message, expect);
        return true;
      });
    });
  }

  it('refuses a runaway line instead of buffering it', async () => {
    const huge = Readable.from(
      (function* () {
        yield HEADER + '\n`';
        for (let i = 0; i < 100; i++) yield 'x'.repeat(4096);
      })(),
    );
    await assert.rejects(
      parseTradeBill(huge, () => {}),
      /longer than/,
    );
  });
});

describe('fund-flow bill (BASIC)', () => {
  const FF_HEADER =
    '记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号';
  it('parses rows and the summary with its "20.0" counts', async () => {
    const text = bill(
      FF_HEADER,
      '`2026-11-29 12:00:01,`4200000001202611290000000001,`1900000109202611290000000001,`交易,`交易,`收入,`1234567.89,`1234567.89,`system,`,`T20261129A',
      '`2026-11-29 15:00:00,`50300000012026112900000000001,`1900000109202611290000000002,`退款,`退款,`支出,`0.01,`1234567.88,`system,`缺货,`REF4200000001202611290000000002',
      '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额',
      '`2.0,`1.0,`1234567.89,`1.0,`0.01',
    );
    const rows: FundFlowRow[] = [];
    const out = await parseFundFlowBill(Readable.from([Buffer.from(text)]), (r) => rows.push(r));
    assert.equal(rows.length, 2);
    assert.equal(rows[0].amountFen, 123456789);
    assert.equal(rows[1].direction, '支出');
    assert.equal(rows[1].amountFen, 1);
    assert.deepEqual(out.summary, {
      count: 2,
      incomeCount: 1,
      incomeFen: 123456789,
      expenseCount: 1,
      expenseFen: 1,
    });
  });
  it('accepts the full-width parentheses some bills use in the header', async () => {
    const text = bill(
      FF_HEADER.replace(/\(/g, '（').replace(/\)/g, '）'),
      '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额',
      '`0.0,`0.0,`0.00,`0.0,`0.00',
    );
    const out = await parseFundFlowBill(Readable.from([text]), () => {});
    assert.equal(out.rows, 0);
  });
  it('refuses an unknown 收支类型', async () => {
    const text = bill(
      FF_HEADER,
      '`2026-11-29 12:00:01,`1,`2,`交易,`交易,`IN,`1.00,`1.00,`system,`,`T',
      '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额',
      '`1.0,`1.0,`1.00,`0.0,`0.00',
    );
    await assert.rejects(
      parseFundFlowBill(Readable.from([text]), () => {}),
      /收支类型 "IN"/,
    );
  });
});
