import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/**
 * The W1 burn-down harness: preload N no-op jobs into a fresh database, let K workers drain them, and time
 * the drain. Every queue under test (ours and its peers) plugs in through the three interfaces below, each
 * in its own module `bench/systems/<name>.ts` exporting `benchSystem: BenchSystem`.
 *
 * Lifecycle of one measured run, driven by {@link runBurnDown}:
 *
 *   1. the harness creates a fresh database `bench_<name>_<random>`;
 *   2. `open(databaseUrl)` installs the system's schema there and returns a {@link BenchInstance};
 *   3. `preload(jobs)` enqueues that many ready no-op jobs (bulk, untimed);
 *   4. `startWorker(batchSize)` is called K times; each worker opens its own connection(s) and must not
 *      claim anything yet (untimed);
 *   5. the clock starts, `drain()` is called on all K workers at once, and the clock stops when the last
 *      one resolves;
 *   6. the run is valid only if the workers' `processed` counts sum to `jobs` and `remaining()` is 0;
 *   7. workers and the instance are closed and the database is dropped (also when the run failed).
 */
export interface BenchSystem {
  /** Lower-case name used on the command line and in results, e.g. `pg-boss`. */
  readonly name: string;
  /** What is measured, e.g. the package version or the git commit, recorded with the results. */
  readonly version: string;
  /**
   * Short label for the table's "batching" column describing how this system is configured to claim
   * `batchSize` jobs at a time, or `null` when it cannot (the harness then skips that batch size).
   */
  batching(batchSize: number): string | null;
  /** Installs the system's schema into the fresh, empty database at `databaseUrl`. */
  open(databaseUrl: string): Promise<BenchInstance>;
}

export interface BenchInstance {
  /** Enqueues `count` ready no-op jobs, in bulk. */
  preload(count: number): Promise<void>;
  /** Opens one worker on its own connection(s), claiming up to `batchSize` jobs per round trip. */
  startWorker(batchSize: number): Promise<BenchWorker>;
  /** Jobs the system still holds as not finished (queued, leased or running); 0 after a full drain. */
  remaining(): Promise<number>;
  /**
   * Enqueues `count` ready no-op jobs in one round trip through the system's own enqueue API and resolves
   * with their ids once they are committed (W2, W3, W4: jobs arriving while workers run).
   */
  enqueue(count: number): Promise<string[]>;
  /**
   * Starts a long-running worker on its own connection(s), in the system's usual steady-state mode (see
   * each system's module for how it waits when idle). It calls `onLeased` with the ids of every claim as
   * soon as the claim returns, then completes them; `stop()` ends it after its current round.
   */
  startListener(batchSize: number, onLeased: (ids: readonly string[]) => void): Promise<BenchListener>;
  /** Releases every connection the instance itself opened. */
  close(): Promise<void>;
}

export interface BenchListener {
  /** Stops claiming, finishes what it holds, closes its connections; resolves with the jobs completed. */
  stop(): Promise<{ processed: number }>;
}

/**
 * How long a polling worker sleeps after an empty claim before claiming again, for the systems whose
 * workers poll (JobEngine's Worker SDK, pg-boss's fetch loop). graphile-worker is woken by LISTEN/NOTIFY.
 */
export const IDLE_POLL_MS = 10;

export interface BenchWorker {
  /**
   * Claims and completes jobs until a claim comes back empty, then resolves with how many jobs this worker
   * completed. A claim may come back empty while other workers still hold the last jobs; they finish them.
   */
  drain(): Promise<{ processed: number }>;
  /** Closes the worker's connections. */
  close(): Promise<void>;
}

export interface BurnDownOptions {
  /** Admin connection used only to create and drop the scratch database. */
  adminUrl: string;
  jobs: number;
  workers: number;
  batchSize: number;
  /** A drain still running after this long fails the run. */
  timeoutMs: number;
  /**
   * CHECKPOINT after the preload (default true). The suite turns it off: on a shared server a checkpoint
   * flushes every database's dirty buffers and costs seconds per run, and the previous run's
   * DROP DATABASE has just forced one anyway.
   */
  checkpoint?: boolean;
}

export interface BurnDownResult {
  elapsedMs: number;
  processed: number;
  jobsPerSecond: number;
}

/** Runs one measured burn-down of `system` in a database created for it and dropped afterwards. */
export async function runBurnDown(system: BenchSystem, options: BurnDownOptions): Promise<BurnDownResult> {
  const database = await createScratchDatabase(options.adminUrl, system.name);
  try {
    const instance = await system.open(database.url);
    try {
      await instance.preload(options.jobs);
      await settle(database.url, options.checkpoint ?? true);
      return await drainWith(instance, options);
    } finally {
      await instance.close();
    }
  } finally {
    await database.drop();
  }
}

async function drainWith(instance: BenchInstance, options: BurnDownOptions): Promise<BurnDownResult> {
  const workers: BenchWorker[] = [];
  try {
    for (let i = 0; i < options.workers; i++) workers.push(await instance.startWorker(options.batchSize));
    const started = performance.now();
    const drained = await withTimeout(
      Promise.all(workers.map((worker) => worker.drain())),
      options.timeoutMs,
      `drain did not finish within ${options.timeoutMs} ms`,
    );
    const elapsedMs = performance.now() - started;
    const processed = drained.reduce((sum, { processed }) => sum + processed, 0);
    if (processed !== options.jobs) {
      throw new Error(`workers completed ${processed} jobs, ${options.jobs} were preloaded`);
    }
    const remaining = await instance.remaining();
    if (remaining !== 0) throw new Error(`system still holds ${remaining} unfinished jobs after the drain`);
    return { elapsedMs, processed, jobsPerSecond: (processed * 1000) / elapsedMs };
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

/**
 * Leaves every system the same starting point: planner statistics for the preloaded queue (autovacuum may
 * not have run yet) and no dirty buffers from the preload that a checkpoint would flush mid-measurement.
 */
async function settle(databaseUrl: string, checkpoint = true): Promise<void> {
  await runSql(
    databaseUrl,
    'bench-settle',
    checkpoint ? ['VACUUM (ANALYZE)', 'CHECKPOINT'] : ['VACUUM (ANALYZE)'],
  );
}

/** Runs `statements` one after another on a connection of their own to `databaseUrl`. */
export async function runSql(
  databaseUrl: string,
  applicationName: string,
  statements: string[],
): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: applicationName });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Runs `use` against a fresh database created for it and dropped afterwards (also on failure). */
export async function withScratchDatabase<T>(
  adminUrl: string,
  label: string,
  use: (databaseUrl: string) => Promise<T>,
): Promise<T> {
  const database = await createScratchDatabase(adminUrl, label);
  try {
    return await use(database.url);
  } finally {
    await database.drop();
  }
}

/** VACUUM (ANALYZE) and CHECKPOINT: the common starting point after a preload. */
export const settleDatabase = (databaseUrl: string) => settle(databaseUrl);

async function createScratchDatabase(adminUrl: string, systemName: string): Promise<ScratchDatabase> {
  const name = `bench_${systemName.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdmin(adminUrl, async (admin) => {
        await untilDisconnected(admin, name);
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

/**
 * `pg.Pool#end()` resolves before its sockets have closed; forcing the drop while those backends are still
 * exiting makes them report "terminating connection due to administrator command" to clients already
 * closed. Anything still connected after a grace period is a leak the forced drop then cuts off.
 */
async function untilDisconnected(admin: pg.Client, database: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const { rows } = await admin.query<{ count: number }>(
      'select count(*)::int as count from pg_stat_activity where datname = $1',
      [database],
    );
    if (rows[0]!.count === 0) return;
    await sleep(10);
  }
}

async function withAdmin(adminUrl: string, use: (admin: pg.Client) => Promise<unknown>): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'bench-admin' });
  await admin.connect();
  try {
    await use(admin);
  } finally {
    await admin.end();
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export { type Spread, spreadOf } from './stats.ts';
