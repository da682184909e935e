// The console's projection of the host's invocations: what the page may show, newest first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvocationRecord } from '../host/invocation-log';
import { project, projectInvocations, projectMessages } from './state';

test('invocations reach the page newest first, with outcome and reason but never the caller', () => {
  const base: InvocationRecord = {
    requestId: 'r1',
    functionName: 'payNotify',
    trigger: 'http',
    at: '2026-01-01T00:00:00.000Z',
    cold: false,
    durationMs: 12,
    outcome: 'ok',
    status: 204,
  };
  const crash: InvocationRecord = {
    ...base,
    requestId: 'r2',
    trigger: 'callFunction',
    openid: 'o-secret-user',
    outcome: 'crash',
    status: 500,
    errorMessage: 'the instance of payNotify was killed (SIGKILL) during the invocation by a crash fault',
  };
  const shown = projectInvocations([base, crash]);
  assert.deepEqual(
    shown.map((r) => [r.requestId, r.outcome, r.status]),
    [
      ['r2', 'crash', 500],
      ['r1', 'ok', 204],
    ],
  );
  assert.match(String(shown[0].errorMessage), /crash fault/);
  assert.ok(!JSON.stringify(shown).includes('o-secret-user'), 'the openid stays on the server');
});

test("an order's fulfilment reaches the page as state and packages, without upload bookkeeping", () => {
  const [shown] = project('orders', [
    {
      _id: 'o1',
      status: 'SUCCESS',
      fulfilment: {
        type: 'express',
        status: 'SHIPPED',
        uploads: 1,
        attempts: 2,
        claimUntil: { $date: '2026-01-01T00:00:05.000Z' },
        shippedAt: { $date: '2026-01-01T00:00:00.000Z' },
        shipments: [
          { trackingNo: 'ZT1', expressCompany: 'ZTO', itemDesc: 'tea', consignorContact: '138****0000' },
        ],
      },
    },
  ]);
  assert.deepEqual(shown.fulfilment, {
    type: 'express',
    status: 'SHIPPED',
    shippedAt: '2026-01-01T00:00:00.000Z',
    shipments: [{ trackingNo: 'ZT1', expressCompany: 'ZTO' }],
  });
  assert.equal(
    project('orders', [{ _id: 'o2' }])[0].fulfilment,
    undefined,
    'an order of the old flow has none',
  );
});

test('subscription messages reach the phone newest first, titled and labelled by their template', () => {
  const templates = [
    {
      templateId: 'T-paid',
      title: '订单支付成功通知',
      keys: [
        { key: 'thing1', name: '商品名称' },
        { key: 'amount2', name: '支付金额' },
      ],
    },
  ];
  const shown = projectMessages(
    [
      {
        msgid: 1,
        openid: 'o1',
        templateId: 'T-paid',
        page: 'pages/order/order?id=1',
        // sent in another order than the template's: the phone follows the template
        data: { amount2: { value: '¥0.01' }, thing1: { value: '测试商品' } },
        miniprogramState: 'formal',
        lang: 'zh_CN',
        sentAt: '2026-11-30T07:01:00.000Z',
      },
      {
        msgid: 2,
        openid: 'o1',
        templateId: 'T-gone',
        page: null,
        data: { thing1: { value: 'x' } },
        sentAt: '2026-11-30T07:02:00.000Z',
      },
    ],
    templates,
  );
  assert.deepEqual(shown, [
    {
      msgid: 2,
      openid: 'o1',
      templateId: 'T-gone',
      title: 'T-gone',
      page: null,
      lines: [{ name: 'thing1', value: 'x' }],
      sentAt: '2026-11-30T07:02:00.000Z',
    },
    {
      msgid: 1,
      openid: 'o1',
      templateId: 'T-paid',
      title: '订单支付成功通知',
      page: 'pages/order/order?id=1',
      lines: [
        { name: '商品名称', value: '测试商品' },
        { name: '支付金额', value: '¥0.01' },
      ],
      sentAt: '2026-11-30T07:01:00.000Z',
    },
  ]);
});
