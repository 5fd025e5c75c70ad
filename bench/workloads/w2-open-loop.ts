import { runBurnDown, withScratchDatabase } from '../harness.ts';
import { analyzeAfter, runOpenLoop } from '../open-loop.ts';
import { ms, rate, ratio, type Section } from '../report.ts';
import { type LatencySummary, median, medianSummary, summarizeLatencies } from '../stats.ts';
import type { SuiteContext } from '../suite.ts';
import { latestCapacity } from './capacity.ts';

/**
 * W2 open-loop latency: each system at 10%, 50% and 80% of its own W1 capacity (K workers, claim batch B,
 * from this run's W1, else the latest W1 results on disk, else a quick calibration burn-down), enqueue →
 * lease percentiles.
 */
export async function w2OpenLoop(context: SuiteContext): Promise<Section> {
  const { profile, systems } = context;
  const { workers, batch, loads, seconds, warmupSeconds } = profile.w2;
  const capacities = await capacityOf(context);
  const results = new Map<
    string,
    { summary: LatencySummary; rate: number; completed: number; shortfall: number } | string
  >();
  for (const load of loads) {
    for (const system of systems) {
      const capacity = capacities.get(system.name)!;
      const jobsPerSecond = Math.max(1, Math.round(capacity.jobsPerSecond * load));
      const perRep: LatencySummary[] = [];
      const completed: number[] = [];
      let shortfall = 0;
      try {
        for (let rep = 1; rep <= profile.reps; rep++) {
          const result = await withScratchDatabase(context.adminUrl, system.name, async (databaseUrl) => {
            const instance = await system.open(databaseUrl);
            try {
              return await runOpenLoop(instance, {
                rate: jobsPerSecond,
                seconds,
                workers,
                batch,
                warmup: { seconds: warmupSeconds, run: analyzeAfter(databaseUrl) },
              });
            } finally {
              await instance.close();
            }
          });
          const measured = result.samples.filter((sample) => sample.at >= warmupSeconds * 1000);
          if (measured.length === 0) {
            throw new Error(
              `saturated: no job due after the warm-up was claimed within 20 s (${result.enqueued} enqueued, ${result.unclaimed} unclaimed)`,
            );
          }
          const summary = summarizeLatencies(measured.map((sample) => sample.latency));
          perRep.push(summary);
          completed.push(result.completedPerSecond);
          shortfall += result.unclaimed + result.notEnqueued;
          context.record({
            kind: 'run',
            workload: 'w2',
            system: system.name,
            load,
            rate: jobsPerSecond,
            rep,
            enqueued: result.enqueued,
            notEnqueued: result.notEnqueued,
            unclaimed: result.unclaimed,
            completedPerSecond: result.completedPerSecond,
            enqueueLagP99Ms: result.enqueueLagP99,
            latencyMs: summary,
          });
          context.log(
            `w2 ${system.name} ${load * 100}% (${rate(jobsPerSecond)}/s) rep ${rep}: p50 ${ms(summary.p50)} p99 ${ms(summary.p99)} ms` +
              `, enqueue lag p99 ${ms(result.enqueueLagP99)} ms` +
              (result.unclaimed ? `, ${result.unclaimed} unclaimed` : '') +
              (result.notEnqueued ? `, ${result.notEnqueued} not enqueued` : ''),
          );
        }
        const summary = medianSummary(perRep);
        results.set(`${system.name}/${load}`, {
          summary,
          rate: jobsPerSecond,
          completed: median(completed),
          shortfall,
        });
        context.record({
          kind: 'summary',
          workload: 'w2',
          system: system.name,
          load,
          rate: jobsPerSecond,
          capacity,
          latencyMs: summary,
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        results.set(`${system.name}/${load}`, `failed: ${message}`);
        context.record({ kind: 'summary', workload: 'w2', system: system.name, load, error: message });
      }
    }
  }

  const table = [
    '| load | system | offered jobs/s | completed jobs/s | p50 ms | p95 ms | p99 ms | max ms | jobengine p50 / system | jobengine p99 / system |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const load of loads) {
    const ours = results.get(`jobengine/${load}`);
    for (const system of systems) {
      const cell = results.get(`${system.name}/${load}`);
      if (cell === undefined) continue;
      if (typeof cell === 'string') {
        table.push(`| ${load * 100}% | ${system.name} | | | ${cell} | | | | | |`);
        continue;
      }
      const s = cell.summary;
      const vs = (field: 'p50' | 'p99') =>
        typeof ours === 'object' && system.name !== 'jobengine' ? ratio(ours.summary[field], s[field]) : '';
      table.push(
        `| ${load * 100}% | ${system.name} | ${rate(cell.rate)} | ${rate(cell.completed)}${cell.shortfall ? ` (${rate(cell.shortfall)} short)` : ''} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${vs('p50')} | ${vs('p99')} |`,
      );
    }
  }
  return {
    id: 'w2',
    title: 'W2 open-loop latency: enqueue → lease',
    settings: [
      `${workers} workers per system claiming up to ${batch} jobs at a time; load = ${loads.map((l) => `${l * 100}%`).join(', ')} of the system's own W1 capacity at K=${workers}, B=${batch}: ${[...capacities].map(([name, c]) => `${name} ${rate(c.jobsPerSecond)} jobs/s (${c.source})`).join(', ')}`,
      `${seconds} s of load per point (first ${warmupSeconds} s not counted, then ANALYZE of the system's database, as autovacuum would have run on a live one); jobs enqueued every 10 ms in one bulk statement per system's API; latency from each job's scheduled enqueue time to the return of the claim that got it`,
      'Workers idle-wait as each system does: jobengine and pg-boss poll every 10 ms after an empty claim (pg-boss: fetch loop, since work() polls no faster than 0.5 s); graphile-worker run() is woken by LISTEN/NOTIFY',
    ],
    table,
    notes: [
      'Each system runs at its own capacity fractions, so absolute rates differ; the ratio columns are jobengine latency ÷ the system\'s at the same fraction (below 1 = jobengine faster). Latencies: medians of the per-repetition percentiles, over the jobs that were claimed. "short": jobs (summed over repetitions) that were due but not enqueued by the end of the window or not claimed within 20 s after it - the system (or its enqueue path) did not keep up with the offered rate.',
    ],
  };
}

export async function capacityOf(
  context: SuiteContext,
): Promise<Map<string, { jobsPerSecond: number; source: string }>> {
  const { workers, batch } = context.profile.w2;
  const onDisk = latestCapacity(workers, batch);
  const capacities = new Map<string, { jobsPerSecond: number; source: string }>();
  for (const system of context.systems) {
    const fromRun = context.capacity.get(system.name);
    if (fromRun) {
      capacities.set(system.name, { jobsPerSecond: fromRun, source: "this run's W1" });
      continue;
    }
    const fromDisk = onDisk.get(system.name);
    if (fromDisk) {
      capacities.set(system.name, {
        jobsPerSecond: fromDisk.jobsPerSecond,
        source: `W1 of ${fromDisk.runId.slice(0, 16)}`,
      });
      continue;
    }
    context.log(`calibrating ${system.name}: no W1 result at K=${workers}, B=${batch}`);
    const result = await runBurnDown(system, {
      adminUrl: context.adminUrl,
      jobs: 3_000,
      workers,
      batchSize: batch,
      timeoutMs: 600_000,
    });
    capacities.set(system.name, {
      jobsPerSecond: result.jobsPerSecond,
      source: 'calibration burn-down of 3,000 jobs',
    });
  }
  return capacities;
}
