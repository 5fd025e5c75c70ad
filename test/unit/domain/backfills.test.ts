import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  estimateDuration,
  MAX_BACKFILL_CHUNKS,
  mergeWindows,
  planChunks,
} from '../../../layers/core/src/domain/backfills.ts';

const t = (hour: number) => new Date(Date.UTC(2024, 0, 1) + hour * 3_600_000);
const w = (from: number, to: number) => ({ start: t(from), end: t(to) });
const hours = (windows: { start: Date; end: Date }[]) =>
  windows.map((x) => [
    (x.start.getTime() - t(0).getTime()) / 3_600_000,
    (x.end.getTime() - t(0).getTime()) / 3_600_000,
  ]);

describe('planChunks', () => {
  it('splits the range on a grid from its start; the last chunk is cut at the end', () => {
    expect(hours(planChunks(w(0, 10), 3 * 3600, []))).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
      [9, 10],
    ]);
  });

  it('leaves out covered windows and keeps only the uncovered pieces of partly covered chunks', () => {
    const covered = [w(1, 2), w(4, 7), w(-5, 0.5)];
    expect(hours(planChunks(w(0, 10), 3 * 3600, covered))).toEqual([
      [0.5, 1],
      [2, 3],
      [3, 4],
      [7, 9],
      [9, 10],
    ]);
  });

  it('plans nothing when the whole range is covered', () => {
    expect(planChunks(w(0, 10), 3600, [w(0, 6), w(5, 10)])).toEqual([]);
  });

  it('stops one past the limit, so an oversized plan is detected without building it whole', () => {
    expect(planChunks(w(0, 100_000), 3600, [])).toHaveLength(MAX_BACKFILL_CHUNKS + 1);
  });

  it('covers exactly the range minus the covered windows, with chunks no longer than chunk size (property)', () => {
    const interval = fc
      .tuple(fc.integer({ min: -20, max: 120 }), fc.integer({ min: 1, max: 40 }))
      .map(([from, length]) => w(from, from + length));
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(interval, { maxLength: 8 }),
        (chunkH, covered) => {
          const range = w(0, 100);
          const chunks = planChunks(range, chunkH * 3600, covered);
          const merged = mergeWindows(covered, range);
          // Boundaries are whole hours, so one instant inside each hour decides that hour.
          for (let hour = 0.5; hour < 100; hour += 1) {
            const instant = t(hour).getTime();
            const inChunk = chunks.filter(
              (c) => c.start.getTime() <= instant && instant < c.end.getTime(),
            ).length;
            const isCovered = merged.some((c) => c.start.getTime() <= instant && instant < c.end.getTime());
            expect(inChunk).toBe(isCovered ? 0 : 1);
          }
          for (const chunk of chunks)
            expect(chunk.end.getTime() - chunk.start.getTime()).toBeLessThanOrEqual(chunkH * 3_600_000);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('estimateDuration', () => {
  it('runs chunks maxConcurrency at a time without a quota', () => {
    expect(estimateDuration(100, 10, null, 30)).toMatchObject({
      seconds: 300,
      concurrency: 10,
      chunkSecondsFrom: 'history',
    });
  });

  it('is capped by the quota max active and slowed by the token bucket beyond its burst', () => {
    const estimate = estimateDuration(100, 10, { maxActive: 4, burst: 20, refillPerHour: 40 }, null);
    expect(estimate.concurrency).toBe(4);
    // 80 chunks after the burst at 40 per hour = 2 h, plus the last chunk's run time.
    expect(estimate.seconds).toBe(7200 + 60);
    expect(estimate.chunkSecondsFrom).toBe('default');
  });

  it('is null when the bucket never refills and the burst does not cover the chunks', () => {
    expect(estimateDuration(10, 2, { maxActive: null, burst: 5, refillPerHour: 0 }, 10).seconds).toBeNull();
  });
});
