import { Cron } from 'croner';
import { ValidationError } from './errors.ts';

/**
 * Cron schedules (DESIGN §2): when a schedule fires, which missed fires a tick makes up for, and the
 * event-time window a scheduled ingest run processes. Pure: the caller passes the instant (`now`), so
 * ticks, tests and replays compute the same fire times.
 *
 * Cron expressions are classic 5-field patterns (minute hour day-of-month month day-of-week) evaluated in
 * an IANA time zone by croner. Across DST changes a fixed-time schedule (`30 2 * * *`) fires once a day:
 * at the first valid minute after a spring-forward gap, and once (the first occurrence) when the clock
 * falls back; a schedule whose minute or hour field repeats (`0 * * * *`, `*\/15 * * * *`) fires at every
 * real instant that matches, so on both occurrences of a repeated hour and never inside a gap
 * (docs/adr/0011-time-schedules-watermarks-backfills.md).
 */
export type CatchUpPolicy = 'skip' | 'fire_once' | 'fire_all';

/** A fire this late is a catch-up, not an on-time fire (ticks run every minute; one may be missed). */
export const ON_TIME_GRACE_MS = 5 * 60_000;
/** A tick makes up for at most this many fire times of one schedule, the most recent ones. */
export const MAX_CATCH_UP_FIRES = 1_000;

export interface CronSpec {
  cron: string;
  timezone: string;
}

/** True when the zone is an IANA zone this runtime knows (`UTC`, `Europe/Berlin`, ...). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function cronOf(spec: CronSpec): Cron {
  return new Cron(spec.cron, { timezone: spec.timezone, paused: true, mode: '5-part' });
}

/** Throws a 400 naming the field when the pattern or the zone is invalid, or the pattern never fires. */
export function validateCron(spec: CronSpec): void {
  if (!isTimeZone(spec.timezone)) {
    throw new ValidationError('unknown time zone', [
      { path: 'timezone', message: `'${spec.timezone}' is not an IANA time zone` },
    ]);
  }
  let cron: Cron;
  try {
    cron = cronOf(spec);
  } catch (error) {
    throw new ValidationError('invalid cron expression', [
      { path: 'cron', message: (error as Error).message.replace(/^CronPattern: /, '') },
    ]);
  }
  if (cron.nextRun(new Date(0)) === null) {
    throw new ValidationError('invalid cron expression', [
      { path: 'cron', message: 'the pattern never fires' },
    ]);
  }
}

/** The next `count` fire times strictly after `after`. */
export function nextFireTimes(spec: CronSpec, after: Date, count: number): Date[] {
  return cronOf(spec).nextRuns(count, after);
}

export function nextFireTime(spec: CronSpec, after: Date): Date | null {
  return cronOf(spec).nextRun(after);
}

/** The last fire time strictly before `before`, or null. */
export function previousFireTime(spec: CronSpec, before: Date): Date | null {
  return cronOf(spec).previousRuns(1, before)[0] ?? null;
}

export type SkipReason = 'catch_up_skip' | 'coalesced' | 'outside_window';

export interface DueFires {
  /** Fire times to fire now, oldest first. */
  fire: Date[];
  /** Fire times passed over, oldest first, each with why. */
  skip: { at: Date; reason: SkipReason }[];
  /** Missed fire times before the catch-up window (or beyond MAX_CATCH_UP_FIRES), not enumerated. */
  skippedBeforeWindow: boolean;
  /** The schedule's next fire time after `now`. */
  next: Date | null;
}

/**
 * What a tick at `now` does with a schedule whose next fire time was `nextFireAt`: every fire time in
 * [nextFireAt, now] is due. One less than ON_TIME_GRACE_MS old is on time and fires under every policy;
 * older ones were missed (downtime, paused ticks) and follow the catch-up policy, within the window
 * `catchUpWindowS` seconds back from `now`:
 * - `skip`: missed fires are skipped;
 * - `fire_once`: all due fires coalesce into one run, at the latest due fire time;
 * - `fire_all`: every due fire in the window fires (at most MAX_CATCH_UP_FIRES, the most recent).
 * Missed fires older than the window are skipped under every policy.
 */
export function dueFires(
  spec: CronSpec & { nextFireAt: Date; catchUp: CatchUpPolicy; catchUpWindowS: number },
  now: Date,
): DueFires {
  const cron = cronOf(spec);
  const windowStart = new Date(now.getTime() - spec.catchUpWindowS * 1000);
  const from = spec.nextFireAt > windowStart ? spec.nextFireAt : windowStart;
  // Fire times in [from, now], oldest first, at most MAX_CATCH_UP_FIRES + 1 of them: walking back from
  // `now` bounds the work however long the downtime was.
  const recent = cron
    .previousRuns(MAX_CATCH_UP_FIRES + 1, new Date(now.getTime() + 1))
    .filter((at) => at >= from && at <= now)
    .sort((a, b) => a.getTime() - b.getTime());
  const skippedBeforeWindow = spec.nextFireAt < windowStart || recent.length > MAX_CATCH_UP_FIRES;
  const inWindow = recent.slice(-MAX_CATCH_UP_FIRES);
  const next = cron.nextRun(now);
  const onTime = (at: Date) => now.getTime() - at.getTime() < ON_TIME_GRACE_MS;
  const fire: Date[] = [];
  const skip: DueFires['skip'] = [];
  if (spec.catchUp === 'fire_all') {
    fire.push(...inWindow);
  } else if (spec.catchUp === 'fire_once') {
    const latest = inWindow.at(-1);
    if (latest) fire.push(latest);
    for (const at of inWindow.slice(0, -1)) skip.push({ at, reason: 'coalesced' });
  } else {
    for (const at of inWindow) {
      if (onTime(at)) fire.push(at);
      else skip.push({ at, reason: 'catch_up_skip' });
    }
  }
  return { fire, skip, skippedBeforeWindow, next };
}

export interface IngestWindow {
  start: Date;
  end: Date;
}

/**
 * The event-time window of a scheduled ingest run fired at `fireTime`: [watermark, fireTime − lag),
 * capped at `maxWindowS`. Without a watermark yet, the window starts one schedule interval back (the
 * previous fire time), or `maxWindowS` back when that is shorter. Null when the window is empty (the
 * watermark is already at or past its end). `fireTime` rather than the clock makes it deterministic:
 * racing ticks and a replayed fire compute the same window.
 */
export function ingestWindow(
  spec: CronSpec & { lagS: number; maxWindowS: number | null },
  fireTime: Date,
  watermark: Date | null,
): IngestWindow | null {
  const end = new Date(fireTime.getTime() - spec.lagS * 1000);
  let start = watermark;
  if (start === null) {
    const previous = previousFireTime(spec, fireTime);
    start =
      previous === null
        ? new Date(end.getTime() - (spec.maxWindowS ?? 3600) * 1000)
        : new Date(previous.getTime() - spec.lagS * 1000);
  }
  const capped =
    spec.maxWindowS !== null && end.getTime() - start.getTime() > spec.maxWindowS * 1000
      ? new Date(start.getTime() + spec.maxWindowS * 1000)
      : end;
  return capped > start ? { start, end: capped } : null;
}
