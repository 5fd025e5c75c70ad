import { describe, expect, it } from 'vitest';
import { compareHeadlines, headlines } from '../../../bench/reproducibility.ts';

const jsonl = (rows: object[]) => rows.map((row) => JSON.stringify(row)).join('\n');

const RUN = [
  { kind: 'machine', cores: 2 },
  { kind: 'run', workload: 'w1', system: 'jobengine', workers: 8, batchSize: 10, jobsPerSecond: 999 },
  {
    kind: 'summary',
    workload: 'w1',
    system: 'jobengine',
    workers: 8,
    batchSize: 10,
    jobsPerSecond: { median: 2000, min: 1900, max: 2100 },
  },
  {
    kind: 'summary',
    workload: 'w1',
    system: 'pg-boss',
    workers: 8,
    batchSize: 10,
    jobsPerSecond: null,
    error: 'x',
  },
  {
    kind: 'summary',
    workload: 'w2',
    system: 'graphile-worker',
    load: 0.5,
    latencyMs: { p50: 4, p95: 9, p99: 12, max: 40 },
  },
  { kind: 'summary', workload: 'w3', system: 'pg-boss', latencyMs: { p50: 10, p95: 20, p99: 30 } },
  {
    kind: 'summary',
    workload: 'w5',
    keys: 1000,
    decisionsPerSecond: { median: 500 },
    admittedRatio: { median: 0.98 },
  },
  { kind: 'summary', workload: 'w6', system: 'jobengine', medianLastReleaseMs: 5400, duplicateSuccesses: 0 },
  {
    kind: 'summary',
    workload: 'control-plane',
    planning: { submitMs: 1600, planMs: 5800, jobs: 10000 },
    rest: { 'GET /api/v1/jobs/{id}': { requestsPerSecond: 900, p50: 10, p99: 40, errors: 0 } },
    wsFanout: { p50: 100, p99: 300 },
  },
];

describe('bench reproducibility', () => {
  it("reads every workload's headline numbers from summary lines only, skipping failed cells", () => {
    const metrics = Object.fromEntries(
      headlines(jsonl(RUN)).map((h) => [`${h.workload}/${h.metric}`, h.value]),
    );
    expect(metrics).toEqual({
      'w1/jobengine K=8 B=10 jobs/s': 2000,
      'w2/graphile-worker load 50% p50 ms': 4,
      'w2/graphile-worker load 50% p95 ms': 9,
      'w2/graphile-worker load 50% p99 ms': 12,
      'w3/pg-boss p50 ms': 10,
      'w3/pg-boss p99 ms': 30,
      'w5/1000 keys decisions/s': 500,
      'w5/1000 keys admitted/theoretical': 0.98,
      'w6/re-lease ms': 5400,
      'w6/duplicate successes': 0,
      'control-plane/plan 10k-job DAG ms': 5800,
      'control-plane/submit 10k-job DAG ms': 1600,
      'control-plane/GET /api/v1/jobs/{id} requests/s': 900,
      'control-plane/GET /api/v1/jobs/{id} p99 ms': 40,
      'control-plane/WebSocket fan-out p99 ms': 300,
    });
  });

  it('compares the numbers both runs have, at the tolerance, zero against zero counting as equal', () => {
    const first = [
      { workload: 'w1', metric: 'a', value: 100 },
      { workload: 'w1', metric: 'b', value: 100 },
      { workload: 'w6', metric: 'duplicate successes', value: 0 },
      { workload: 'w3', metric: 'only in the first run', value: 1 },
    ];
    const second = [
      { workload: 'w1', metric: 'a', value: 120 },
      { workload: 'w1', metric: 'b', value: 121 },
      { workload: 'w6', metric: 'duplicate successes', value: 0 },
    ];
    const result = compareHeadlines(first, second, 0.2);
    expect(result.map((c) => [c.metric, c.within])).toEqual([
      ['a', true],
      ['b', false],
      ['duplicate successes', true],
    ]);
    expect(result[1]!.ratio).toBeCloseTo(1.21);
  });
});
