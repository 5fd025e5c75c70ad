import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { withScratchDatabase } from '../harness.ts';
import { analyzeAfter, runOpenLoop } from '../open-loop.ts';
import { ms, rate, type Section } from '../report.ts';
import { percentile } from '../stats.ts';
import type { SuiteContext } from '../suite.ts';
import { capacityOf } from './w2-open-loop.ts';

/**
 * W4 bloat soak (`--long`): W2's open loop at 50% of capacity for `--duration` seconds (15 minutes by
 * default) with a transaction held open (REPEATABLE READ, xid assigned) through the middle third, which
 * stops vacuum from removing the dead tuples every claim and completion leaves. Per window: claim latency
 * percentiles and the dead tuples of the system's tables (its database holds nothing else).
 */
export async function w4BloatSoak(context: SuiteContext): Promise<Section> {
  const { profile, systems } = context;
  const { load, seconds, sampleSeconds } = profile.w4;
  const { workers, batch } = profile.w2;
  const capacities = await capacityOf(context);
  const table = [
    '| system | window s | long txn open | jobs | p50 ms | p99 ms | dead tuples at end of window |',
    '|---|--:|:-:|--:|--:|--:|--:|',
  ];
  const holdFrom = seconds / 3;
  const holdUntil = (2 * seconds) / 3;
  for (const system of systems) {
    const jobsPerSecond = Math.max(1, Math.round(capacities.get(system.name)!.jobsPerSecond * load));
    context.log(`w4 ${system.name}: ${rate(jobsPerSecond)} jobs/s for ${seconds} s`);
    const deadTuples: { at: number; dead: number }[] = [];
    const result = await withScratchDatabase(context.adminUrl, system.name, async (databaseUrl) => {
      const instance = await system.open(databaseUrl);
      const observer = new pg.Client({
        connectionString: databaseUrl,
        application_name: 'bench-w4-observer',
      });
      const holder = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-w4-long-txn' });
      await observer.connect();
      await holder.connect();
      let running = true;
      const started = performance.now();
      const sampler = (async () => {
        while (running) {
          const { rows } = await observer.query<{ dead: string }>(
            'SELECT coalesce(sum(n_dead_tup), 0) AS dead FROM pg_stat_user_tables',
          );
          deadTuples.push({ at: (performance.now() - started) / 1000, dead: Number(rows[0]!.dead) });
          await sleep(1_000);
        }
      })();
      const longTransaction = (async () => {
        await sleep(holdFrom * 1000);
        await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        await holder.query('SELECT txid_current(), count(*) FROM pg_class');
        context.log(`w4 ${system.name}: long transaction open`);
        await sleep((holdUntil - holdFrom) * 1000);
        await holder.query('COMMIT');
        context.log(`w4 ${system.name}: long transaction committed`);
      })();
      try {
        return await runOpenLoop(instance, {
          rate: jobsPerSecond,
          seconds,
          workers,
          batch,
          warmup: { seconds: Math.min(2, sampleSeconds), run: analyzeAfter(databaseUrl) },
        });
      } finally {
        running = false;
        await Promise.allSettled([sampler, longTransaction]);
        await observer.end();
        await holder.end();
        await instance.close();
      }
    });
    for (let from = 0; from < seconds; from += sampleSeconds) {
      const to = Math.min(seconds, from + sampleSeconds);
      const latencies = result.samples
        .filter((sample) => sample.at >= from * 1000 && sample.at < to * 1000)
        .map((sample) => sample.latency);
      const dead = deadTuples.filter((point) => point.at <= to).at(-1)?.dead ?? 0;
      const open = from < holdUntil && to > holdFrom;
      const window = {
        from,
        to,
        longTransactionOpen: open,
        jobs: latencies.length,
        p50: latencies.length ? percentile(latencies, 0.5) : null,
        p99: latencies.length ? percentile(latencies, 0.99) : null,
        deadTuples: dead,
      };
      context.record({ kind: 'window', workload: 'w4', system: system.name, rate: jobsPerSecond, ...window });
      table.push(
        `| ${system.name} | ${from}-${to} | ${open ? 'yes' : ''} | ${latencies.length} | ${window.p50 === null ? '' : ms(window.p50)} | ${window.p99 === null ? '' : ms(window.p99)} | ${rate(dead)} |`,
      );
    }
    context.record({
      kind: 'summary',
      workload: 'w4',
      system: system.name,
      rate: jobsPerSecond,
      seconds,
      enqueued: result.enqueued,
      unclaimed: result.unclaimed,
    });
  }
  return {
    id: 'w4',
    title: `W4 bloat soak: ${seconds} s at ${load * 100}% of W1 capacity`,
    settings: [
      `W2's open loop (${workers} workers, claim batch ${batch}) for ${seconds} s per system, one repetition; a REPEATABLE READ transaction with an xid held open from ${Math.round(holdFrom)} s to ${Math.round(holdUntil)} s`,
      `Windows of ${sampleSeconds} s: claim latency percentiles of the jobs due in the window; dead tuples = sum of pg_stat_user_tables.n_dead_tup in the system's database (sampled every second, autovacuum on, default settings); one ANALYZE 2 s into the load, as in W2`,
    ],
    table,
    notes:
      seconds < 900
        ? [`A ${seconds}-second smoke run; the full soak is 900 s (\`--long\` with the default duration).`]
        : [],
  };
}
