import { runBurnDown } from '../harness.ts';
import { rate, ratio, type Section } from '../report.ts';
import { type Spread, spreadOf } from '../stats.ts';
import type { SuiteContext } from '../suite.ts';

/**
 * W1 burn-down: preload N no-op jobs into a fresh database, drain them with K workers claiming up to B at
 * a time, time the drain (bench/harness.ts). Repetitions are interleaved across systems (rep 1 of every
 * system, then rep 2, ...) so a change in the machine's load hits all of them alike.
 */
export async function w1BurnDown(context: SuiteContext): Promise<Section> {
  const { profile, systems } = context;
  const { workers: workerCounts, batches } = profile.w1;
  const cells = new Map<string, Spread | string>();
  const key = (system: string, workers: number, batch: number) => `${system}/${workers}/${batch}`;

  for (const workers of workerCounts) {
    for (const batchSize of batches) {
      const jobs = batchSize === 1 ? profile.w1.jobsBatch1 : profile.w1.jobs;
      const measured = new Map<string, number[]>();
      const failed = new Map<string, string>();
      for (let rep = 1; rep <= profile.reps; rep++) {
        for (const system of systems) {
          const batching = system.batching(batchSize);
          if (batching === null || failed.has(system.name)) continue;
          try {
            const result = await runBurnDown(system, {
              adminUrl: context.adminUrl,
              jobs,
              workers,
              batchSize,
              timeoutMs: 900_000,
              checkpoint: false,
            });
            measured.set(system.name, [...(measured.get(system.name) ?? []), result.jobsPerSecond]);
            context.record({
              kind: 'run',
              workload: 'w1',
              system: system.name,
              batching,
              workers,
              batchSize,
              jobs,
              rep,
              ...result,
            });
            context.log(
              `w1 ${system.name} K=${workers} B=${batchSize} rep ${rep}: ${rate(result.jobsPerSecond)} jobs/s`,
            );
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            failed.set(system.name, message);
            context.record({
              kind: 'run',
              workload: 'w1',
              system: system.name,
              workers,
              batchSize,
              jobs,
              rep,
              error: message,
            });
            context.log(`w1 ${system.name} K=${workers} B=${batchSize} rep ${rep} FAILED: ${message}`);
          }
        }
      }
      for (const system of systems) {
        const values = measured.get(system.name);
        const jobsPerSecond = values?.length ? spreadOf(values) : null;
        const error = failed.get(system.name) ?? null;
        if (!jobsPerSecond && !error) continue;
        cells.set(key(system.name, workers, batchSize), jobsPerSecond ?? `failed: ${error}`);
        context.record({
          kind: 'summary',
          workload: 'w1',
          system: system.name,
          batching: system.batching(batchSize),
          workers,
          batchSize,
          jobs,
          reps: profile.reps,
          jobsPerSecond,
          error,
        });
        if (jobsPerSecond && workers === profile.w2.workers && batchSize === profile.w2.batch) {
          context.capacity.set(system.name, jobsPerSecond.median);
        }
      }
    }
  }

  const names = systems.map((system) => system.name);
  const peers = names.filter((name) => name !== 'jobengine');
  const ours = names.includes('jobengine');
  const header = [
    'workers',
    'batch',
    'jobs',
    ...names.map((name) => `${name} jobs/s`),
    ...(ours ? peers.map((peer) => `jobengine / ${peer}`) : []),
  ];
  const table = [`| ${header.join(' | ')} |`, `|${header.map(() => '--:').join('|')}|`];
  for (const workers of workerCounts) {
    for (const batchSize of batches) {
      const cell = (name: string) => cells.get(key(name, workers, batchSize));
      const show = (name: string) => {
        const value = cell(name);
        if (value === undefined) return 'n/a';
        if (typeof value === 'string') return value;
        return `${rate(value.median)} (${rate(value.min)}-${rate(value.max)})`;
      };
      const ourCell = cell('jobengine');
      const ratios = ours
        ? peers.map((peer) => {
            const theirs = cell(peer);
            return typeof ourCell === 'object' && typeof theirs === 'object'
              ? ratio(ourCell.median, theirs.median)
              : 'n/a';
          })
        : [];
      const jobs = batchSize === 1 ? profile.w1.jobsBatch1 : profile.w1.jobs;
      table.push(`| ${[workers, batchSize, rate(jobs), ...names.map(show), ...ratios].join(' | ')} |`);
    }
  }
  return {
    id: 'w1',
    title: 'W1 burn-down: lease + complete throughput',
    settings: [
      `${rate(profile.w1.jobs)} no-op jobs preloaded per run (${rate(profile.w1.jobsBatch1)} at claim batch 1, the slowest cells), drained by K workers; K = ${workerCounts.join(', ')}; claim batch B = ${batches.join(', ')}`,
      'jobengine: the production lease and batch-completion statements as the application role under RLS, one round trip each (history, events, run counters per job); graphile-worker: batch 1 = defaults (batching off), B > 1 = localQueue.size B + completeJobBatchDelay 0 (batching on); pg-boss: fetch(batchSize B) + complete(all fetched)',
      "Per run: fresh database, preload, VACUUM (ANALYZE), then the timed drain (no explicit CHECKPOINT: the previous run's DROP DATABASE has just forced one); valid only if every job completed exactly once and none is left",
    ],
    table,
    notes: ['Cells: median jobs/s of the repetitions (min-max). Ratios compare medians.'],
  };
}
