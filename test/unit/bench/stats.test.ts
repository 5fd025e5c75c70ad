import { describe, expect, it } from 'vitest';
import { median, medianSummary, percentile, spreadOf, summarizeLatencies } from '../../../bench/stats.ts';

describe('bench statistics', () => {
  it('median takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(/no values/);
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    percentile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });

  it('spread reports median, min and max of repetitions', () => {
    expect(spreadOf([10, 30, 20])).toEqual({ median: 20, min: 10, max: 30 });
  });

  it('percentile is nearest-rank: always an observed sample', () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1000..1, unsorted
    expect(percentile(samples, 0.5)).toBe(500);
    expect(percentile(samples, 0.95)).toBe(950);
    expect(percentile(samples, 0.99)).toBe(990);
    expect(percentile(samples, 1)).toBe(1000);
    expect(percentile([5, 1], 0.01)).toBe(1);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(() => percentile([1], 0)).toThrow(/quantile/);
  });

  it('latency summary agrees with percentile and the mean', () => {
    const samples = [9, 1, 5, 3, 7, 2, 8, 4, 6, 10];
    expect(summarizeLatencies(samples)).toEqual({
      count: 10,
      p50: percentile(samples, 0.5),
      p95: 10,
      p99: 10,
      max: 10,
      mean: 5.5,
    });
  });

  it('medians of repetition summaries are taken field by field', () => {
    const a = summarizeLatencies([1, 2, 3]);
    const b = summarizeLatencies([10, 20, 30]);
    const c = summarizeLatencies([4, 5, 6]);
    expect(medianSummary([a, b, c])).toMatchObject({ p50: 5, max: 6, count: 3 });
  });
});
