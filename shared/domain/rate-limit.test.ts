// The window rules of the per-user limits, at their edges (pure: no database, no clock).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RATE_LIMITS, decideCharge, secondsUntilWindowEnds, windowStartOf } from './rate-limit';

const PREPAY = RATE_LIMITS.prepay;
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0); // a minute boundary

describe('rate-limit windows', () => {
  it('are the production limits of docs/numbers.md', () => {
    assert.deepEqual(RATE_LIMITS, {
      prepay: { limit: 10, windowMs: 60_000 },
      refund: { limit: 5, windowMs: 60_000 },
    });
  });

  it('align to multiples of their length, so a window ends on the boundary, not a minute after the first call', () => {
    assert.equal(windowStartOf(PREPAY, T0), T0);
    assert.equal(windowStartOf(PREPAY, T0 + 59_999), T0);
    assert.equal(windowStartOf(PREPAY, T0 + 60_000), T0 + 60_000);
    assert.equal(windowStartOf(PREPAY, T0 - 1), T0 - 60_000);
  });

  it('give whole seconds to wait, at least 1, rounded up', () => {
    assert.equal(secondsUntilWindowEnds(PREPAY, T0, T0), 60);
    assert.equal(secondsUntilWindowEnds(PREPAY, T0, T0 + 1), 60);
    assert.equal(secondsUntilWindowEnds(PREPAY, T0, T0 + 58_001), 2);
    assert.equal(secondsUntilWindowEnds(PREPAY, T0, T0 + 59_999), 1);
    assert.equal(secondsUntilWindowEnds(PREPAY, T0, T0 + 60_000), 1, 'never 0: a client would retry at once');
  });

  it('count the first call, then each call while the window has room, then refuse', () => {
    assert.deepEqual(decideCharge(undefined, PREPAY, T0 + 5_000), {
      kind: 'insert',
      counter: { windowStartMs: T0, count: 1 },
    });
    assert.deepEqual(decideCharge({ windowStartMs: T0, count: 9 }, PREPAY, T0 + 5_000), {
      kind: 'count',
      windowStartMs: T0,
    });
    assert.deepEqual(decideCharge({ windowStartMs: T0, count: 10 }, PREPAY, T0 + 5_000), {
      kind: 'limited',
      retryAfterSeconds: 55,
    });
    assert.deepEqual(decideCharge({ windowStartMs: T0, count: 10 }, PREPAY, T0 + 59_999), {
      kind: 'limited',
      retryAfterSeconds: 1,
    });
  });

  it('start a new window at 1 once the stored one is over, exactly at its end', () => {
    assert.deepEqual(decideCharge({ windowStartMs: T0, count: 10 }, PREPAY, T0 + 60_000), {
      kind: 'reset',
      from: { windowStartMs: T0, count: 10 },
      counter: { windowStartMs: T0 + 60_000, count: 1 },
    });
    assert.equal(decideCharge({ windowStartMs: T0 - 600_000, count: 3 }, PREPAY, T0).kind, 'reset');
  });

  it('treat a window started by an instance whose clock is ahead as current', () => {
    assert.deepEqual(decideCharge({ windowStartMs: T0 + 60_000, count: 4 }, PREPAY, T0 + 59_000), {
      kind: 'count',
      windowStartMs: T0 + 60_000,
    });
    assert.equal(
      decideCharge({ windowStartMs: T0 + 60_000, count: 10 }, PREPAY, T0 + 59_000).kind,
      'limited',
    );
  });

  it('reset a hand-edited counter instead of trusting it', () => {
    for (const broken of [{}, { windowStartMs: T0 }, { windowStartMs: 'x', count: 1 }, { count: 99 }])
      assert.equal(decideCharge(broken as never, PREPAY, T0).kind, 'reset', JSON.stringify(broken));
  });
});
