// The timer trigger is recognised as the platform marks it, never by a missing openid alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTimerInvocation } from './timer-event';

const timer = { Type: 'Timer', TriggerName: 'reconcileTimer', Time: '2026-11-30T10:00:00Z', Message: '' };
const ctx = (source: string) => ({ environ: `TCB_ENV=local;SCF_NAMESPACE=local;TCB_SOURCE=${source};` });

describe('isTimerInvocation', () => {
  it('accepts the platform timer event invoked by the platform', () => {
    assert.equal(isTimerInvocation(timer, ctx('scf'), undefined), true);
  });
  it('refuses the same event sent as data by a client, with or without an openid', () => {
    assert.equal(isTimerInvocation(timer, ctx('wx_client'), undefined), false);
    assert.equal(isTimerInvocation(timer, ctx('wx_http'), undefined), false);
    assert.equal(isTimerInvocation(timer, ctx('scf'), 'o-user'), false);
    assert.equal(isTimerInvocation(timer, {}, undefined), false, 'no platform context');
  });
  it('refuses anything that is not the timer event shape', () => {
    assert.equal(isTimerInvocation({}, ctx('scf'), undefined), false);
    assert.equal(isTimerInvocation({ minAgeSeconds: 0 }, ctx('scf'), undefined), false);
    assert.equal(isTimerInvocation({ ...timer, Time: 1 }, ctx('scf'), undefined), false);
    assert.equal(isTimerInvocation(null, ctx('scf'), undefined), false);
  });
});
