import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronError, mostRecentTime, parseCronSchedule, validateCronJobSchedule } from './cron-schedule.ts';

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron schedules', () => {
  it('computes next activations for the five standard fields', () => {
    assert.equal(iso(parseCronSchedule('*/5 * * * *').next(at('2026-03-01T10:02:30Z'))), '2026-03-01T10:05:00.000Z');
    assert.equal(iso(parseCronSchedule('*/5 * * * *').next(at('2026-03-01T10:05:00Z'))), '2026-03-01T10:10:00.000Z');
    assert.equal(iso(parseCronSchedule('30 2 * * *').next(at('2026-03-01T10:00:00Z'))), '2026-03-02T02:30:00.000Z');
    assert.equal(iso(parseCronSchedule('0 9-17/4 * * MON-FRI').next(at('2026-03-06T18:00:00Z'))), '2026-03-09T09:00:00.000Z'); // Fri evening -> Mon 09:00
    assert.equal(iso(parseCronSchedule('0 0 1 jan,jul *').next(at('2026-03-01T00:00:00Z'))), '2026-07-01T00:00:00.000Z');
    assert.equal(iso(parseCronSchedule('15,45 * * * *').next(at('2026-03-01T10:20:00Z'))), '2026-03-01T10:45:00.000Z');
    assert.equal(iso(parseCronSchedule('0 0 29 2 *').next(at('2026-03-01T00:00:00Z'))), '2028-02-29T00:00:00.000Z');
    assert.equal(parseCronSchedule('0 0 30 2 *').next(at('2026-03-01T00:00:00Z')), undefined);
  });

  it('day-of-month and day-of-week: either when both are restricted, both otherwise', () => {
    // The 13th or any Friday.
    assert.equal(iso(parseCronSchedule('0 0 13 * 5').next(at('2026-03-01T00:00:00Z'))), '2026-03-06T00:00:00.000Z');
    // Any day in March that is a Friday (dom is *).
    assert.equal(iso(parseCronSchedule('0 0 * 3 FRI').next(at('2026-03-07T00:00:00Z'))), '2026-03-13T00:00:00.000Z');
  });

  it('descriptors', () => {
    const from = at('2026-03-04T10:20:00Z');
    assert.equal(iso(parseCronSchedule('@hourly').next(from)), '2026-03-04T11:00:00.000Z');
    assert.equal(iso(parseCronSchedule('@daily').next(from)), '2026-03-05T00:00:00.000Z');
    assert.equal(iso(parseCronSchedule('@midnight').next(from)), '2026-03-05T00:00:00.000Z');
    assert.equal(iso(parseCronSchedule('@weekly').next(from)), '2026-03-08T00:00:00.000Z');
    assert.equal(iso(parseCronSchedule('@monthly').next(from)), '2026-04-01T00:00:00.000Z');
    assert.equal(iso(parseCronSchedule('@yearly').next(from)), '2027-01-01T00:00:00.000Z');
    assert.equal(iso(parseCronSchedule('@annually').next(from)), '2027-01-01T00:00:00.000Z');
  });

  it('evaluates on the wall clock of spec.timeZone, across DST', () => {
    // 09:00 in New York is 14:00 UTC in winter, 13:00 UTC in summer.
    const s = parseCronSchedule('0 9 * * *', 'America/New_York');
    assert.equal(iso(s.next(at('2026-03-06T12:00:00Z'))), '2026-03-06T14:00:00.000Z');
    assert.equal(iso(s.next(at('2026-03-08T00:00:00Z'))), '2026-03-08T13:00:00.000Z'); // DST began at 2am that day
    // 02:30 does not exist on the spring-forward day: the next is the day after.
    assert.equal(iso(parseCronSchedule('30 2 * * *', 'America/New_York').next(at('2026-03-08T05:00:00Z'))), '2026-03-09T06:30:00.000Z');
    assert.equal(iso(parseCronSchedule('0 0 * * *', 'Asia/Kolkata').next(at('2026-03-01T00:00:00Z'))), '2026-03-01T18:30:00.000Z');
  });

  it('rejects bad schedules and time zones with robfig/cron wording', () => {
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof CronError);
        return e.message;
      }
      return 'no error';
    };
    assert.equal(msg(() => parseCronSchedule('* * * *')), 'expected exactly 5 fields, found 4: [* * * *]');
    assert.equal(msg(() => parseCronSchedule('60 * * * *')), 'end of range (60) above maximum (59): 60');
    assert.equal(msg(() => parseCronSchedule('0 0 0 * *')), 'beginning of range (0) below minimum (1): 0');
    assert.equal(msg(() => parseCronSchedule('5-1 * * * *')), 'beginning of range (5) beyond end of range (1): 5-1');
    assert.equal(msg(() => parseCronSchedule('x * * * *')), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
    assert.equal(msg(() => parseCronSchedule('@every 5m')), 'unrecognized descriptor: @every 5m');
    assert.equal(msg(() => parseCronSchedule('TZ=UTC * * * * *')), 'CRON_TZ or TZ used in schedule is not supported, please use timeZone field instead');
    assert.equal(msg(() => parseCronSchedule('* * * * *', 'Mars/Olympus')), 'unknown time zone Mars/Olympus');
  });

  it('finds the most recent missed activation and counts misses', () => {
    const s = parseCronSchedule('*/10 * * * *');
    assert.deepEqual(mostRecentTime(s, at('2026-03-01T10:00:00Z'), at('2026-03-01T10:35:00Z')), { time: at('2026-03-01T10:30:00Z'), missed: 3, tooMany: false });
    assert.deepEqual(mostRecentTime(s, at('2026-03-01T10:00:00Z'), at('2026-03-01T10:05:00Z')), { missed: 0, tooMany: false });
    const many = mostRecentTime(parseCronSchedule('* * * * *'), at('2026-01-01T00:00:00Z'), at('2026-03-01T10:35:30Z'));
    assert.equal(iso(many.time), '2026-03-01T10:35:00.000Z');
    assert.equal(many.tooMany, true);
  });

  it('validates schedule and timeZone as the API server does', () => {
    assert.deepEqual(validateCronJobSchedule('*/5 * * * *', 'Europe/Paris'), []);
    assert.deepEqual(validateCronJobSchedule('61 * * * *', undefined), [{ field: 'spec.schedule', value: '61 * * * *', detail: 'end of range (61) above maximum (59): 61' }]);
    assert.deepEqual(validateCronJobSchedule('CRON_TZ=UTC 0 * * * *', undefined), [{ field: 'spec.schedule', value: 'CRON_TZ=UTC 0 * * * *', detail: 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead' }]);
    assert.deepEqual(validateCronJobSchedule('0 * * * *', 'Mars/Olympus'), [{ field: 'spec.timeZone', value: 'Mars/Olympus', detail: 'unknown time zone Mars/Olympus' }]);
    assert.equal(validateCronJobSchedule('0 * * * *', 'Local')[0]?.detail, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones');
    assert.equal(validateCronJobSchedule('0 * * * *', '')[0]?.detail, 'timeZone must be nil or non-empty string');
  });
});
