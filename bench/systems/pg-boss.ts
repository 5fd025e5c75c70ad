import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgBoss } from 'pg-boss';
import {
  type BenchInstance,
  type BenchListener,
  type BenchSystem,
  type BenchWorker,
  IDLE_POLL_MS,
} from '../harness.ts';
import { packageVersion } from '../package-version.ts';

/**
 * pg-boss through its public API. Each worker is its own `PgBoss` instance on a single connection running
 * `fetch({ batchSize })` then one `complete()` of everything fetched, so the claim batch size maps 1:1.
 * (`work()` would add polling intervals between empty fetches, which a burn-down does not exercise.)
 *
 * Background duties (supervision, cron scheduling, instance registry) are off on every instance: they run
 * on timers of seconds to minutes and would only add noise to a drain of a few seconds.
 */
const QUEUE = 'bench';
const PRELOAD_CHUNK = 5_000;

const backgroundOff = { supervise: false, schedule: false, registerInstance: false } as const;

export const benchSystem: BenchSystem = {
  name: 'pg-boss',
  version: packageVersion('pg-boss'),
  batching: (batchSize) => (batchSize === 1 ? 'fetch 1 + complete 1' : `fetch + complete(${batchSize})`),
  async open(databaseUrl) {
    // Four connections: the open-loop workloads keep up to four enqueue statements in flight.
    const boss = new PgBoss({ connectionString: databaseUrl, max: 4, ...backgroundOff });
    boss.on('error', (error) => console.error('pg-boss error:', error));
    await boss.start();
    await boss.createQueue(QUEUE);
    const instance: BenchInstance = {
      async preload(count) {
        for (let added = 0; added < count; added += PRELOAD_CHUNK) {
          const size = Math.min(PRELOAD_CHUNK, count - added);
          await boss.insert(
            QUEUE,
            Array.from({ length: size }, () => ({ data: {} })),
          );
        }
      },
      async enqueue(count) {
        const jobs = Array.from({ length: count }, () => ({ id: randomUUID(), data: {} }));
        await boss.insert(QUEUE, jobs);
        return jobs.map((job) => job.id);
      },
      startWorker: (batchSize) => startWorker(databaseUrl, batchSize),
      startListener: (batchSize, onLeased) => startListener(databaseUrl, batchSize, onLeased),
      async remaining() {
        const { rows } = await boss
          .getDb()
          .executeSql(
            "select count(*)::int as count from pgboss.job where name = $1 and state in ('created', 'retry', 'active')",
            [QUEUE],
          );
        return (rows[0] as { count: number }).count;
      },
      close: () => boss.stop({ graceful: false }),
    };
    return instance;
  },
};

async function startWorker(databaseUrl: string, batchSize: number): Promise<BenchWorker> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 1, migrate: false, ...backgroundOff });
  boss.on('error', (error) => console.error('pg-boss error:', error));
  await boss.start();
  return {
    async drain() {
      let processed = 0;
      for (;;) {
        const jobs = await boss.fetch(QUEUE, { batchSize });
        if (jobs.length === 0) return { processed };
        // pg-boss 12 types CommandResponse as `{}`; at runtime it carries `affected`, the rows it completed.
        const { affected } = (await boss.complete(QUEUE, jobs)) as { affected: number };
        processed += affected;
      }
    },
    close: () => boss.stop({ graceful: false }),
  };
}

/**
 * Steady state: the same fetch → complete loop, sleeping {@link IDLE_POLL_MS} after an empty fetch.
 * pg-boss's own `work()` polls no faster than every 0.5 s, which would dominate every latency measured.
 */
async function startListener(
  databaseUrl: string,
  batchSize: number,
  onLeased: (ids: readonly string[]) => void,
): Promise<BenchListener> {
  const boss = new PgBoss({ connectionString: databaseUrl, max: 1, migrate: false, ...backgroundOff });
  boss.on('error', (error) => console.error('pg-boss error:', error));
  await boss.start();
  let stopping = false;
  let processed = 0;
  const loop = (async () => {
    while (!stopping) {
      const jobs = await boss.fetch(QUEUE, { batchSize });
      if (jobs.length === 0) {
        await sleep(IDLE_POLL_MS);
        continue;
      }
      onLeased(jobs.map((job) => job.id));
      const { affected } = (await boss.complete(QUEUE, jobs)) as { affected: number };
      processed += affected;
    }
  })();
  return {
    async stop() {
      stopping = true;
      try {
        await loop;
      } finally {
        await boss.stop({ graceful: false });
      }
      return { processed };
    },
  };
}
