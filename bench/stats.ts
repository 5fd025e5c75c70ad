/**
 * Statistics the benchmarks report: medians of repetitions and latency percentiles of samples. Pure
 * functions over plain arrays (never mutated), unit-tested in test/unit/bench/stats.test.ts.
 */

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('no values to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median, min and max of the repetitions of one measurement. */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error('no values to summarize');
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * The `q`-quantile (0 < q ≤ 1) by the nearest-rank method: the smallest sample with at least q·n samples
 * at or below it. It is always an observed value, so p99 of 1,000 samples is the 990th smallest.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('no values to summarize');
  if (!(q > 0 && q <= 1)) throw new Error(`quantile must be in (0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Percentiles of latency samples (one sort for all of them). */
export function summarizeLatencies(values: readonly number[]): LatencySummary {
  if (values.length === 0) throw new Error('no values to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted[sorted.length - 1]!,
    mean: sum / sorted.length,
  };
}

/** Medians, field by field, of per-repetition latency summaries. */
export function medianSummary(summaries: readonly LatencySummary[]): LatencySummary {
  if (summaries.length === 0) throw new Error('no values to summarize');
  const field = (key: keyof LatencySummary) => median(summaries.map((summary) => summary[key]));
  return {
    count: field('count'),
    p50: field('p50'),
    p95: field('p95'),
    p99: field('p99'),
    max: field('max'),
    mean: field('mean'),
  };
}
