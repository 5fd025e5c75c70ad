import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../layers/core/src/domain/errors.ts';
import {
  dueFires,
  ingestWindow,
  MAX_CATCH_UP_FIRES,
  nextFireTimes,
  validateCron,
} from '../../../layers/core/src/domain/schedules.ts';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const at = (text: string) => new Date(text);

describe('fire times across DST transitions', () => {
  describe('America/New_York (EST -05:00 / EDT -04:00)', () => {
    const zone = 'America/New_York';

    it('fires a 02:30 daily schedule at 03:00 EDT on the spring-forward day (02:30 does not exist), once', () => {
      const fires = nextFireTimes({ cron: '30 2 * * *', timezone: zone }, at('2026-03-07T12:00:00Z'), 3);
      expect(iso(fires)).toEqual([
        '2026-03-08T07:00:00.000Z', // 03:00 EDT: the first valid minute after the gap
        '2026-03-09T06:30:00.000Z', // 02:30 EDT
        '2026-03-10T06:30:00.000Z',
      ]);
    });

    it('fires a 01:30 daily schedule once on the fall-back day (01:30 happens twice), at the first 01:30', () => {
      const fires = nextFireTimes({ cron: '30 1 * * *', timezone: zone }, at('2026-10-31T12:00:00Z'), 3);
      expect(iso(fires)).toEqual([
        '2026-11-01T05:30:00.000Z', // 01:30 EDT
        '2026-11-02T06:30:00.000Z', // 01:30 EST
        '2026-11-03T06:30:00.000Z',
      ]);
    });

    it('fires an hourly schedule 23 times on the spring-forward day and 25 times on the fall-back day', () => {
      const hourly = { cron: '0 * * * *', timezone: zone };
      const inDay = (startUtc: string, endUtc: string) =>
        nextFireTimes(hourly, new Date(at(startUtc).getTime() - 1), 30).filter((d) => d < at(endUtc));
      expect(inDay('2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z')).toHaveLength(23);
      const fallBack = inDay('2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z');
      expect(fallBack).toHaveLength(25);
      // 01:00 EDT and 01:00 EST are both fire times, an hour apart.
      expect(iso(fallBack.slice(1, 3))).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z']);
    });
  });

  describe('Europe/Berlin (CET +01:00 / CEST +02:00)', () => {
    const zone = 'Europe/Berlin';

    it('fires a 02:30 daily schedule at 03:00 CEST on the spring-forward day, once', () => {
      const fires = nextFireTimes({ cron: '30 2 * * *', timezone: zone }, at('2026-03-28T12:00:00Z'), 2);
      expect(iso(fires)).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    });

    it('fires a 02:30 daily schedule once on the fall-back day, at 02:30 CEST', () => {
      const fires = nextFireTimes({ cron: '30 2 * * *', timezone: zone }, at('2026-10-24T12:00:00Z'), 2);
      expect(iso(fires)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    });

    it('fires a quarter-hourly schedule on both passes through the repeated hour, evenly spaced', () => {
      const fires = nextFireTimes({ cron: '*/15 * * * *', timezone: zone }, at('2026-10-25T00:30:00Z'), 10);
      const gaps = fires.slice(1).map((d, i) => d.getTime() - fires[i]!.getTime());
      expect(new Set(gaps)).toEqual(new Set([15 * 60_000]));
      expect(fires[0]!.toISOString()).toBe('2026-10-25T00:45:00.000Z'); // 02:45 CEST, then 02:00 CET
    });

    it('computes the same instants whatever the process time zone, since the zone is explicit', () => {
      const before = process.env.TZ;
      process.env.TZ = 'Asia/Tokyo';
      try {
        const fires = nextFireTimes({ cron: '30 2 * * *', timezone: zone }, at('2026-03-28T12:00:00Z'), 1);
        expect(iso(fires)).toEqual(['2026-03-29T01:00:00.000Z']);
      } finally {
        process.env.TZ = before;
      }
    });
  });
});

describe('validateCron', () => {
  it.each([
    ['61 * * * *', 'UTC', 'cron'],
    ['* * * *', 'UTC', 'cron'],
    ['0 0 * * * *', 'UTC', 'cron'],
    ['0 0 30 2 *', 'UTC', 'cron'],
    ['0 * * * *', 'Mars/Olympus_Mons', 'timezone'],
  ])('refuses %s in %s (naming %s)', (cron, timezone, path) => {
    let error: unknown;
    try {
      validateCron({ cron, timezone });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details[0]!.path).toBe(path);
  });

  it('accepts 5-field patterns in IANA zones', () => {
    expect(() => validateCron({ cron: '*/5 9-17 * * 1-5', timezone: 'Europe/Berlin' })).not.toThrow();
    expect(() => validateCron({ cron: '0 0 1 * *', timezone: 'UTC' })).not.toThrow();
  });
});

describe('dueFires after three hours of downtime', () => {
  // Every 15 minutes; the last tick ran at 09:00 (next fire 09:15); ticks resume at 12:03.
  const base = {
    cron: '*/15 * * * *',
    timezone: 'Europe/Berlin',
    nextFireAt: at('2026-06-01T09:15:00Z'),
    catchUpWindowS: 86_400,
  };
  const now = at('2026-06-01T12:03:00Z');
  const missed = 12; // 09:15 … 12:00

  it('skip: fires only the on-time fire (12:00), skips the eleven missed ones', () => {
    const due = dueFires({ ...base, catchUp: 'skip' }, now);
    expect(iso(due.fire)).toEqual(['2026-06-01T12:00:00.000Z']);
    expect(due.skip).toHaveLength(missed - 1);
    expect(due.skip.every((s) => s.reason === 'catch_up_skip')).toBe(true);
    expect(due.next!.toISOString()).toBe('2026-06-01T12:15:00.000Z');
  });

  it('skip: fires nothing when the latest due fire is itself older than the grace period', () => {
    const due = dueFires({ ...base, catchUp: 'skip' }, at('2026-06-01T12:12:00Z'));
    expect(due.fire).toEqual([]);
    expect(due.skip).toHaveLength(missed);
  });

  it('fire_once: coalesces every due fire into one, at the latest due fire time', () => {
    const due = dueFires({ ...base, catchUp: 'fire_once' }, now);
    expect(iso(due.fire)).toEqual(['2026-06-01T12:00:00.000Z']);
    expect(due.skip).toHaveLength(missed - 1);
    expect(due.skip.every((s) => s.reason === 'coalesced')).toBe(true);
  });

  it('fire_all: fires every missed fire time, oldest first', () => {
    const due = dueFires({ ...base, catchUp: 'fire_all' }, now);
    expect(due.fire).toHaveLength(missed);
    expect(due.fire[0]!.toISOString()).toBe('2026-06-01T09:15:00.000Z');
    expect(due.skip).toEqual([]);
    expect(due.skippedBeforeWindow).toBe(false);
  });

  it('fire_all: fires only inside the catch-up window; older fires are skipped unenumerated', () => {
    const due = dueFires({ ...base, catchUp: 'fire_all', catchUpWindowS: 3600 }, now);
    expect(iso(due.fire)).toEqual([
      '2026-06-01T11:15:00.000Z',
      '2026-06-01T11:30:00.000Z',
      '2026-06-01T11:45:00.000Z',
      '2026-06-01T12:00:00.000Z',
    ]);
    expect(due.skippedBeforeWindow).toBe(true);
  });

  it('fire_all: makes up at most MAX_CATCH_UP_FIRES fires, the most recent', () => {
    const due = dueFires(
      {
        ...base,
        cron: '* * * * *',
        catchUp: 'fire_all',
        nextFireAt: at('2026-05-30T00:00:00Z'),
        catchUpWindowS: 2_678_400,
      },
      now,
    );
    expect(due.fire).toHaveLength(MAX_CATCH_UP_FIRES);
    expect(due.fire.at(-1)!.toISOString()).toBe('2026-06-01T12:03:00.000Z');
    expect(due.skippedBeforeWindow).toBe(true);
  });

  it('an on-time tick fires the one due fire under every policy', () => {
    for (const catchUp of ['skip', 'fire_once', 'fire_all'] as const) {
      const due = dueFires({ ...base, catchUp }, at('2026-06-01T09:15:20Z'));
      expect(iso(due.fire)).toEqual(['2026-06-01T09:15:00.000Z']);
      expect(due.skip).toEqual([]);
    }
  });
});

describe('ingestWindow', () => {
  const spec = { cron: '0 * * * *', timezone: 'UTC', lagS: 300, maxWindowS: null };
  const fire = at('2026-06-01T12:00:00Z');

  it('is [watermark, fire time − lag)', () => {
    const window = ingestWindow(spec, fire, at('2026-06-01T10:30:00Z'))!;
    expect(iso([window.start, window.end])).toEqual(['2026-06-01T10:30:00.000Z', '2026-06-01T11:55:00.000Z']);
  });

  it('is capped at the maximum window, starting at the watermark', () => {
    const window = ingestWindow({ ...spec, maxWindowS: 1800 }, fire, at('2026-06-01T09:00:00Z'))!;
    expect(iso([window.start, window.end])).toEqual(['2026-06-01T09:00:00.000Z', '2026-06-01T09:30:00.000Z']);
  });

  it('starts one schedule interval back (minus lag) before the first watermark', () => {
    const window = ingestWindow(spec, fire, null)!;
    expect(iso([window.start, window.end])).toEqual(['2026-06-01T10:55:00.000Z', '2026-06-01T11:55:00.000Z']);
  });

  it('is empty when the watermark is already at or past fire time − lag', () => {
    expect(ingestWindow(spec, fire, at('2026-06-01T11:55:00Z'))).toBeNull();
    expect(ingestWindow(spec, fire, at('2026-06-01T11:59:00Z'))).toBeNull();
  });
});
