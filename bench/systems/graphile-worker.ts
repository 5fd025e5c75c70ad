import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, makeWorkerUtils, run, runMigrations, runOnce, type TaskList } from 'graphile-worker';
import pg from 'pg';
import type { BenchInstance, BenchListener, BenchSystem, BenchWorker } from '../harness.ts';
import { packageVersion } from '../package-version.ts';

/**
 * graphile-worker through its public API. "K workers" are K `runOnce` pools, each with concurrency 1 and
 * its own pg pool: K independent claimers, like K JobEngine workers. `runOnce` is graphile-worker's own
 * drain mode (it exits once a fetch finds nothing ready), the mode its upstream perfTest times.
 *
 * Batch size 1 runs graphile-worker's defaults (one job fetched per round trip, each completion its own
 * statement). Batch size B > 1 turns on its batching: `localQueue.size = B` (the pool locks B jobs per
 * fetch) and `completeJobBatchDelay` (completions are gathered and written in one statement).
 */
const TASK = 'noop';
const PRELOAD_CHUNK = 5_000;
/**
 * graphile-worker does not await a completion before fetching the next job, so a worker pool needs a
 * second connection to fetch on while a completion is in flight; upstream's perfTest sizes pools at
 * concurrency + 1 for the same reason. Its default of 10 measured no faster here.
 */
const WORKER_POOL_SIZE = 2;
/**
 * 0 gathers every completion issued before the next timer tick: with a local queue a worker runs its no-op
 * jobs back to back in microtasks, so one tick covers the whole local batch without holding locks longer.
 * Upstream's suggested starting point, 250, measured a third slower at batch 100: in a drain lasting well
 * under a second every pool's last batch sits out the delay.
 */
const COMPLETE_JOB_BATCH_DELAY_MS = 0;

/** Per-job success lines would be the bulk of the work for a no-op task; keep warnings and errors. */
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`graphile-worker ${level}: ${message}`);
});

export const benchSystem: BenchSystem = {
  name: 'graphile-worker',
  version: packageVersion('graphile-worker'),
  batching: (batchSize) => (batchSize === 1 ? 'off (defaults)' : 'localQueue + completeJobBatchDelay'),
  async open(databaseUrl) {
    await runMigrations({ connectionString: databaseUrl, logger });
    // Four connections: the open-loop workloads keep up to four enqueue statements in flight.
    const pool = openPool(databaseUrl, 4, 'bench-gw-admin');
    const utils = await makeWorkerUtils({ pgPool: pool, logger });
    const instance: BenchInstance = {
      async preload(count) {
        for (let added = 0; added < count; added += PRELOAD_CHUNK) {
          const size = Math.min(PRELOAD_CHUNK, count - added);
          await utils.addJobs(Array.from({ length: size }, () => ({ identifier: TASK, payload: {} })));
        }
      },
      async enqueue(count) {
        const added = await utils.addJobs(
          Array.from({ length: count }, () => ({ identifier: TASK, payload: {} })),
        );
        return added.map((job) => String(job.id));
      },
      startWorker: (batchSize) => startWorker(databaseUrl, batchSize),
      startListener: (batchSize, onLeased) => startListener(databaseUrl, batchSize, onLeased),
      async remaining() {
        const { rows } = await pool.query<{ count: number }>(
          'select count(*)::int as count from graphile_worker._private_jobs',
        );
        return rows[0]!.count;
      },
      async close() {
        await utils.release();
        await pool.end();
      },
    };
    return instance;
  },
};

function workerPreset(batchSize: number) {
  return {
    worker:
      batchSize === 1
        ? {}
        : { localQueue: { size: batchSize }, completeJobBatchDelay: COMPLETE_JOB_BATCH_DELAY_MS },
  };
}

/**
 * Steady state: graphile-worker's own `run()` (concurrency 1, same batching as in the burn-down), which
 * LISTENs for new jobs, so it is woken by a NOTIFY rather than polling. The task body reports the job at
 * its start: graphile-worker runs a task right after its fetch has locked the job.
 */
async function startListener(
  databaseUrl: string,
  batchSize: number,
  onLeased: (ids: readonly string[]) => void,
): Promise<BenchListener> {
  // One connection held by LISTEN, one to fetch on while a completion is in flight.
  const pool = openPool(databaseUrl, WORKER_POOL_SIZE + 1, 'bench-gw-listener');
  let processed = 0;
  const taskList: TaskList = {
    [TASK]: async (_payload, helpers) => {
      onLeased([String(helpers.job.id)]);
      processed++;
    },
  };
  const runner = await run({
    pgPool: pool,
    taskList,
    logger,
    concurrency: 1,
    noHandleSignals: true,
    preset: workerPreset(batchSize),
  });
  return {
    async stop() {
      await runner.stop();
      await runner.promise;
      await untilIdle(pool);
      await pool.end();
      return { processed };
    },
  };
}

async function startWorker(databaseUrl: string, batchSize: number): Promise<BenchWorker> {
  const pool = openPool(databaseUrl, WORKER_POOL_SIZE, 'bench-gw-worker');
  const warm = await Promise.all(Array.from({ length: WORKER_POOL_SIZE }, () => pool.connect()));
  for (const client of warm) client.release();
  let processed = 0;
  const taskList: TaskList = {
    [TASK]: async () => {
      processed++;
    },
  };
  return {
    async drain() {
      await runOnce({
        pgPool: pool,
        taskList,
        logger,
        concurrency: 1,
        noHandleSignals: true,
        preset: workerPreset(batchSize),
      });
      await untilIdle(pool);
      return { processed };
    },
    close: () => pool.end(),
  };
}

/**
 * With defaults graphile-worker fires each completion without awaiting it, and `runOnce` can resolve while
 * the last ones are still in flight; the drain ends when they have been written.
 */
async function untilIdle(pool: pg.Pool): Promise<void> {
  while (pool.waitingCount > 0 || pool.idleCount < pool.totalCount) await sleep(1);
}

/** graphile-worker warns about pools (and their clients) without error handlers; it is right to. */
function openPool(databaseUrl: string, max: number, applicationName: string): pg.Pool {
  const report = (error: Error) => console.error(`${applicationName} connection error:`, error);
  const pool = new pg.Pool({ connectionString: databaseUrl, max, application_name: applicationName });
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
  return pool;
}
