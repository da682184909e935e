import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CronError, cronMatches, parseCron } from './cron';

// Beijing time = UTC+8: 2026-11-25T04:05:00Z is 12:05:00 in Beijing, a Wednesday.
const at = (iso: string) => new Date(iso);

test('every five minutes at second 0 (the reconcile schedule)', () => {
  const s = parseCron('0 */5 * * * * *');
  assert.equal(cronMatches(s, at('2026-11-25T04:05:00Z')), true);
  assert.equal(cronMatches(s, at('2026-11-25T04:05:00.999Z')), true);
  assert.equal(cronMatches(s, at('2026-11-25T04:05:01Z')), false);
  assert.equal(cronMatches(s, at('2026-11-25T04:06:00Z')), false);
  assert.equal(cronMatches(s, at('2026-11-25T04:10:00Z')), true);
});

test('hours, weekdays and months are Beijing time; lists, ranges, steps and names', () => {
  const s = parseCron('30 15 10 * * MON-FRI *');
  assert.equal(cronMatches(s, at('2026-11-25T02:15:30Z')), true, 'Wed 10:15:30 Beijing');
  assert.equal(cronMatches(s, at('2026-11-25T10:15:30Z')), false, '10:15 UTC is 18:15 Beijing');
  assert.equal(cronMatches(s, at('2026-11-29T02:15:30Z')), false, 'Sunday');
  const t = parseCron('0 0 1,13 1 JAN,JUL * 2027');
  assert.equal(cronMatches(t, at('2027-01-01T05:00:00Z')), true, '13:00 on 1 Jan 2027 Beijing');
  assert.equal(cronMatches(t, at('2026-01-01T05:00:00Z')), false, 'wrong year');
  const u = parseCron('10-20/5 * * * * * *');
  assert.deepEqual(
    [9, 10, 15, 20, 25].map((sec) => cronMatches(u, at(`2026-11-25T04:05:${String(sec).padStart(2, '0')}Z`))),
    [false, true, true, true, false],
  );
});

test('malformed schedules fail with a message that shows the expected form', () => {
  assert.throws(
    () => parseCron('*/5 * * * *'),
    (e: unknown) => e instanceof CronError && /7 fields/.test(e.message),
  );
  assert.throws(() => parseCron('61 * * * * * *'), CronError);
  assert.throws(() => parseCron('x * * * * * *'), /not a number/);
  assert.throws(() => parseCron('*/0 * * * * * *'), /at least 1/);
});
