// The console's projection of the host's invocations: what the page may show, newest first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvocationRecord } from '../host/invocation-log';
import { project, projectInvocations } from './state';

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
