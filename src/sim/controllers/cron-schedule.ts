/**
 * Cron schedules as the CronJob controller reads them (robfig/cron's
 * ParseStandard, which kube-controller-manager uses): five fields
 * `minute hour day-of-month month day-of-week` with `*`, `?`, lists `a,b`,
 * ranges `a-b`, steps `* /n` and `a-b/n` (no space), month names JAN-DEC and
 * day names SUN-SAT (0-6, as robfig/cron: 7 is out of range), and the descriptors @yearly
 * (@annually), @monthly, @weekly, @daily (@midnight) and @hourly. When both
 * day fields are restricted a day matches either (cron's rule); otherwise both.
 *
 * Times are evaluated on the wall clock of an IANA time zone (the CronJob's
 * spec.timeZone; UTC otherwise, as on EKS), so DST gaps and repeats behave as
 * cron does on that wall clock.
 */

/** A parsed schedule. */
export interface CronSchedule {
  /** The first activation strictly after `afterMs` (epoch ms, on whole minutes), undefined when none within 5 years. */
  next(afterMs: number): number | undefined;
}

/** Thrown for schedules and time zones the controller cannot use; message as upstream words it. */
export class CronError extends Error {}

interface Field {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const FIELDS: Field[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
];

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

function parseValue(s: string, f: Field): number {
  const named = f.names?.[s.toLowerCase()];
  if (named !== undefined) return named;
  if (!/^\d+$/.test(s)) throw new CronError(`failed to parse int from ${s}: strconv.Atoi: parsing "${s}": invalid syntax`);
  return Number(s);
}

function parseField(expr: string, f: Field): { bits: boolean[]; star: boolean } {
  const bits = new Array<boolean>(f.max + 2).fill(false);
  let star = false;
  for (const part of expr.split(',')) {
    const [rangePart, stepPart, extra] = part.split('/');
    if (extra !== undefined) throw new CronError(`too many slashes: ${part}`);
    let lo: number;
    let hi: number;
    if (rangePart === '*' || rangePart === '?') {
      lo = f.min;
      hi = f.max;
      if (stepPart === undefined) star = true;
    } else {
      const bounds = rangePart!.split('-');
      if (bounds.length > 2) throw new CronError(`too many hyphens: ${rangePart}`);
      lo = parseValue(bounds[0]!, f);
      hi = bounds.length === 2 ? parseValue(bounds[1]!, f) : lo;
      if (stepPart !== undefined && bounds.length === 1) hi = f.max;
    }
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart)) throw new CronError(`failed to parse int from ${stepPart}: strconv.Atoi: parsing "${stepPart}": invalid syntax`);
      step = Number(stepPart);
      if (step === 0) throw new CronError(`step of range should be a positive number: ${part}`);
    }
    if (lo < f.min) throw new CronError(`beginning of range (${lo}) below minimum (${f.min}): ${part}`);
    if (hi > f.max) throw new CronError(`end of range (${hi}) above maximum (${f.max}): ${part}`);
    if (lo > hi) throw new CronError(`beginning of range (${lo}) beyond end of range (${hi}): ${part}`);
    for (let v = lo; v <= hi; v += step) bits[v] = true;
  }
  return { bits, star };
}

interface Wall {
  minute: number;
  hour: number;
  dom: number;
  month: number;
  dow: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** checkTimeZone throws CronError unless tz is a time zone this runtime knows (as time.LoadLocation would). */
export function checkTimeZone(tz: string): void {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new CronError(`unknown time zone ${tz}`);
  }
}

function wallClock(ms: number, tz: string | undefined): Wall {
  if (!tz || tz === 'UTC' || tz === 'Etc/UTC' || tz === 'Local') {
    const d = new Date(ms);
    return { minute: d.getUTCMinutes(), hour: d.getUTCHours(), dom: d.getUTCDate(), month: d.getUTCMonth() + 1, dow: d.getUTCDay() };
  }
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formatters.set(tz, f);
  }
  const w: Wall = { minute: 0, hour: 0, dom: 1, month: 1, dow: 0 };
  for (const p of f.formatToParts(new Date(ms))) {
    if (p.type === 'minute') w.minute = Number(p.value);
    else if (p.type === 'hour') w.hour = Number(p.value) % 24;
    else if (p.type === 'day') w.dom = Number(p.value);
    else if (p.type === 'month') w.month = Number(p.value);
    else if (p.type === 'weekday') w.dow = WEEKDAYS[p.value] ?? 0;
  }
  return w;
}

const MIN = 60_000;
const FIVE_YEARS = 5 * 366 * 24 * 60 * MIN;

/**
 * parseCronSchedule parses a CronJob schedule for a time zone (undefined:
 * UTC). Throws CronError with robfig/cron's wording for bad input.
 */
export function parseCronSchedule(schedule: string, timeZone?: string): CronSchedule {
  const raw = schedule.trim();
  if (/^(CRON_)?TZ=/.test(raw)) throw new CronError('CRON_TZ or TZ used in schedule is not supported, please use timeZone field instead');
  if (timeZone !== undefined) checkTimeZone(timeZone);
  let expr = raw;
  if (expr.startsWith('@')) {
    const d = DESCRIPTORS[expr.toLowerCase()];
    if (!d) throw new CronError(`unrecognized descriptor: ${expr}`);
    expr = d;
  }
  const parts = expr.split(/\s+/).filter(Boolean);
  if (parts.length !== 5) throw new CronError(`expected exactly 5 fields, found ${parts.length}: [${parts.join(' ')}]`);
  const [mi, ho, dm, mo, dw] = parts.map((p, i) => parseField(p, FIELDS[i]!));
  const dayMatches = (w: Wall) => {
    const a = dm!.bits[w.dom]!;
    const b = dw!.bits[w.dow]!;
    return dm!.star || dw!.star ? a && b : a || b;
  };
  return {
    next(afterMs: number): number | undefined {
      let t = Math.floor(afterMs / MIN) * MIN + MIN;
      const limit = afterMs + FIVE_YEARS;
      while (t <= limit) {
        const w = wallClock(t, timeZone);
        if (!mo!.bits[w.month] || !dayMatches(w)) {
          // To the next wall-clock day, conservatively (a DST day may be 23 h long).
          const rest = (23 - w.hour) * 60 + (60 - w.minute);
          t += (rest > 120 ? rest - 60 : rest) * MIN;
          continue;
        }
        if (!ho!.bits[w.hour]) {
          t += (60 - w.minute) * MIN;
          continue;
        }
        if (!mi!.bits[w.minute]) {
          let m = w.minute + 1;
          while (m < 60 && !mi!.bits[m]) m++;
          t += (m - w.minute) * MIN;
          continue;
        }
        return t;
      }
      return undefined;
    },
  };
}

/**
 * mostRecentTime: the latest activation in (earliestMs, nowMs], and how
 * many were missed in that window (capped: `tooMany` past 100), as the
 * CronJob controller's mostRecentScheduleTime computes them.
 */
export function mostRecentTime(s: CronSchedule, earliestMs: number, nowMs: number): { time?: number; missed: number; tooMany: boolean } {
  let t = s.next(earliestMs);
  if (t === undefined || t > nowMs) return { missed: 0, tooMany: false };
  let last = t;
  let n = 1;
  while (n <= 100) {
    t = s.next(last);
    if (t === undefined || t > nowMs) return { time: last, missed: n, tooMany: false };
    last = t;
    n++;
  }
  // Many missed: find the latest by searching back from now in widening windows.
  for (const span of [60, 1440, 7 * 1440, 32 * 1440, 367 * 1440, 5 * 367 * 1440].map((m) => m * MIN)) {
    let u = s.next(Math.max(last, nowMs - span));
    if (u === undefined || u > nowMs) continue;
    let best = u;
    for (;;) {
      u = s.next(best);
      if (u === undefined || u > nowMs) break;
      best = u;
    }
    return { time: best, missed: n, tooMany: true };
  }
  return { time: last, missed: n, tooMany: true };
}

/** One validation problem: the field path, the bad value and upstream's detail. */
export interface CronFieldProblem {
  field: 'spec.schedule' | 'spec.timeZone';
  value: string;
  detail: string;
}

/**
 * validateCronJobSchedule: the API server's checks of a CronJob's schedule
 * and timeZone (validateScheduleFormat, validateTimeZone), with upstream's details.
 */
export function validateCronJobSchedule(schedule: string, timeZone: string | undefined | null): CronFieldProblem[] {
  const out: CronFieldProblem[] = [];
  const withoutTz = schedule.replace(/^\s*(CRON_)?TZ=\S+\s*/, '');
  try {
    parseCronSchedule(withoutTz);
  } catch (e) {
    out.push({ field: 'spec.schedule', value: schedule, detail: (e as Error).message });
  }
  if (schedule.includes('TZ')) out.push({ field: 'spec.schedule', value: schedule, detail: 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead' });
  if (timeZone !== undefined && timeZone !== null) {
    if (timeZone === '') out.push({ field: 'spec.timeZone', value: timeZone, detail: 'timeZone must be nil or non-empty string' });
    else if (timeZone.toLowerCase() === 'local') out.push({ field: 'spec.timeZone', value: timeZone, detail: 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones' });
    else {
      try {
        checkTimeZone(timeZone);
      } catch (e) {
        out.push({ field: 'spec.timeZone', value: timeZone, detail: (e as Error).message });
      }
    }
  }
  return out;
}
