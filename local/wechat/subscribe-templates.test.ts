// WeChat's value rules per key type, at their boundaries: what passes, what is refused, and that the
// refusal names the key and says what the value must be.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findTemplate, keyType, SUBSCRIBE_TEMPLATES, valueProblem } from './subscribe-templates';

const ok = (key: string, value: string) =>
  assert.equal(valueProblem(key, value), undefined, `${key}=${value}`);
const refused = (key: string, value: string, pattern: RegExp = /./) => {
  const problem = valueProblem(key, value);
  assert.ok(problem, `${key}=${JSON.stringify(value)} should be refused`);
  assert.ok(problem.startsWith(`argument invalid! data.${key}.value`), problem);
  assert.match(problem, pattern);
};

test('the three templates of the account, with fixed ids and keys', () => {
  assert.deepEqual(
    SUBSCRIBE_TEMPLATES.map((t) => [t.templateId, t.title, t.keys.map((k) => k.key).join(',')]),
    [
      [
        'BIfXasvkpY0zokQFR1Zoa0WgqHNhJP1wm2LMBT2lHlg',
        '订单支付成功通知',
        'thing1,amount2,time3,character_string4',
      ],
      [
        'Z3g6XXoOE7_L5RsPHG37FiAh4UrMU97b0td8uPVWab4',
        '退款成功通知',
        'thing1,amount2,time3,character_string4',
      ],
      ['HUrrPb4M7ZPFBC9CPMJhxdkm-r5QdygvxCTzpVaL2_E', '订单发货通知', 'thing1,character_string2,time3'],
    ],
  );
  assert.equal(findTemplate('nope'), undefined);
  assert.equal(findTemplate(SUBSCRIBE_TEMPLATES[1].templateId)?.title, '退款成功通知');
});

test('key type is the prefix before the digits', () => {
  assert.equal(keyType('thing1'), 'thing');
  assert.equal(keyType('character_string12'), 'character_string');
  assert.equal(keyType('phone_number3'), 'phone_number');
  assert.equal(keyType('thing'), undefined);
});

test('every type refuses an empty value', () => {
  for (const key of ['thing1', 'number1', 'time3', 'amount2', 'character_string4', 'phrase1'])
    refused(key, '', /is empty/);
  refused('thing1', '   ', /is empty/);
});

test('thing: any text up to 20 characters, counted as characters', () => {
  ok('thing1', '一'.repeat(20));
  ok('thing1', 'a'.repeat(20));
  ok('thing1', '😀'.repeat(20));
  ok('thing1', 'Mixed 商品 & symbols!');
  refused('thing1', '一'.repeat(21), /exceeds 20 characters/);
  refused('thing7', 'a'.repeat(21), /^argument invalid! data\.thing7\.value exceeds 20 characters/);
});

test('number: up to 32 digits, optional decimals', () => {
  ok('number1', '1'.repeat(32));
  ok('number1', '3.14');
  refused('number1', '1'.repeat(33), /32 digits/);
  refused('number1', '1.');
  refused('number1', '-1');
  refused('number1', '12a');
});

test('letter: up to 32 letters', () => {
  ok('letter1', 'a'.repeat(32));
  refused('letter1', 'a'.repeat(33), /32 letters/);
  refused('letter1', 'ab1');
  refused('letter1', 'ab c');
});

test('symbol: up to 5 symbols', () => {
  ok('symbol1', '+-*/%');
  refused('symbol1', '+-*/%!', /5 symbols/);
  refused('symbol1', 'a');
});

test('character_string: up to 32 letters, digits or symbols', () => {
  ok('character_string4', 'a'.repeat(32));
  ok('character_string4', 'WX20261130-0001_a#');
  refused('character_string4', 'a'.repeat(33), /32 letters, digits or symbols/);
  refused('character_string4', 'has space');
  refused('character_string4', '订单1');
});

test('time: 24-hour time, with an optional date, or a period', () => {
  for (const v of [
    '15:01',
    '00:00',
    '23:59',
    '2026-11-30 15:01',
    '2026年11月30日 15:01',
    '2026年1月5日 08:00',
  ])
    ok('time3', v);
  ok('time3', '2026-11-30 15:01~2026-11-30 16:00');
  ok('time3', '2024-02-29 12:00');
  for (const v of [
    '24:00',
    '12:60',
    '3:01',
    '2026-11-30',
    '2026-11-30 15:01:02',
    '2026-13-01 10:00',
    '2025-02-29 12:00',
    'soon',
    '1~2~3',
  ])
    refused('time3', v, /24-hour time/);
});

test('date: a date, with an optional time, or a period', () => {
  for (const v of ['2026-11-30', '2026年11月30日', '2026-11-30 15:01', '2026-11-01~2026-11-30'])
    ok('date1', v);
  for (const v of ['15:01', '2026/11/30', '2026-11-31', '30-11-2026']) refused('date1', v, /date such as/);
});

test('amount: one currency symbol, up to 10 digits, at most 2 decimals', () => {
  for (const v of ['¥0.01', '￥100', '$1.5', '¥1234567890.99', '¥12元']) ok('amount2', v);
  for (const v of ['0.01', '¥0.001', '¥12345678901', '¥-1', '¥¥1', '1元', '¥ 1'])
    refused('amount2', v, /currency symbol/);
});

test('phone_number: up to 17 digits, + or -', () => {
  ok('phone_number1', '+86-138-0000-0000');
  ok('phone_number1', '1'.repeat(17));
  refused('phone_number1', '1'.repeat(18), /17/);
  refused('phone_number1', '138 0000 0000');
});

test('car_number: up to 8, Chinese only first or last', () => {
  ok('car_number1', '粤A12345');
  ok('car_number1', '粤A1234学');
  ok('car_number1', 'A1234567');
  refused('car_number1', '粤A1234567', /8 characters/);
  refused('car_number1', '粤A粤345');
});

test('name: 10 Chinese characters or 20 letters, not mixed', () => {
  ok('name1', '张'.repeat(10));
  ok('name1', 'a'.repeat(20));
  ok('name1', 'John Smith');
  refused('name1', '张'.repeat(11), /10 Chinese/);
  refused('name1', 'a'.repeat(21));
  refused('name1', '张John');
});

test('phrase: up to 5 Chinese characters', () => {
  ok('phrase1', '已发货');
  ok('phrase1', '五个汉字啊');
  refused('phrase1', '六个汉字啊啊', /5 Chinese characters/);
  refused('phrase1', 'ok');
});
