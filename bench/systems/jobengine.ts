import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Database } from '../../layers/core/src/adapters/postgres/database.ts';
import { migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import type { JobRow } from '../../layers/core/src/adapters/postgres/sql/jobs/job-row.ts';
import {
  COMPLETE_JOBS,
  type CompletedJob,
  completeJobsValues,
} from '../../layers/core/src/adapters/postgres/sql/worker/complete-jobs.ts';
import {
  LEASE_JOBS,
  leaseJobsValues,
} from '../../layers/core/src/adapters/postgres/sql/worker/lease-jobs.ts';
import {
  type BenchInstance,
  type BenchListener,
  type BenchSystem,
  type BenchWorker,
  IDLE_POLL_MS,
} from '../harness.ts';

export const TENANT = 'bench';
export const TYPE = 'bench.noop';
const ACTOR = { subject: 'bench-worker', scopes: ['orch:operate'] };
const DIGEST = `sha256:${'0'.repeat(64)}`;
/** `--quotas`: a quota (token bucket, weight) that never binds but makes every lease do the flow-control work. */
const QUOTAS = process.env.BENCH_JOBENGINE_QUOTAS === '1';

/**
 * JobEngine through its real lease and completion path: each worker runs the production lease statement
 * and the production batch-completion statement (history, events, run counters, dependency release) as
 * the application role under row-level security, one round trip each (Database.tenantStatement). The
 * HTTP layer is left out so the comparison with the peers' direct-database workers is like for like.
 * Jobs are preloaded as one-job runs, the shape POST /jobs creates.
 */
export const benchSystem: BenchSystem = {
  name: 'jobengine',
  version: gitCommit(),
  batching: (batchSize) =>
    (batchSize === 1 ? 'lease 1 + complete 1' : `lease ${batchSize} + complete batch`) +
    (QUOTAS ? ', quotas' : ''),
  async open(databaseUrl) {
    await migrateDatabase(databaseUrl);
    return instance(databaseUrl);
  },
};

const INSERT_JOBS = `
WITH ids AS (
  SELECT jobengine_uuid_v7() AS run_id, jobengine_uuid_v7() AS job_id FROM generate_series(1, $1)
), runs_in AS (
  INSERT INTO runs (tenant_id, id, kind, status, dag, dag_digest, job_count, correlation_id, created_by,
                    created_at, updated_at, started_at)
  SELECT $2, run_id, 'adhoc', 'running', '{"jobs":[]}', $4, 1, run_id::text, 'bench', now(), now(), now() FROM ids
)
INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, payload_digest, retry_policy, max_attempts,
                  not_before, correlation_id, created_at, updated_at)
SELECT $2, job_id, run_id, 'job', $3, 'queued', $4, '{}', 5, now(), run_id::text, now(), now() FROM ids
RETURNING id`;

/**
 * Inserts `count` ready one-job runs (the shape POST /jobs creates) in one statement and returns the job
 * ids. Bulk SQL rather than the API: the benchmarks time leasing, and the peers' bulk enqueues are
 * likewise single statements.
 */
export async function insertJobs(
  db: pg.Pool | pg.Client,
  count: number,
  options: { tenantId?: string; type?: string } = {},
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(INSERT_JOBS, [
    count,
    options.tenantId ?? TENANT,
    options.type ?? TYPE,
    DIGEST,
  ]);
  return rows.map((row) => row.id);
}

function instance(databaseUrl: string): BenchInstance {
  // Four connections: the open-loop workloads keep up to four enqueue statements in flight.
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  return {
    async preload(count) {
      if (QUOTAS) {
        await admin.query(
          `WITH q AS (
             INSERT INTO quotas (tenant_id, id, job_type, max_active, max_queued, burst, refill_per_hour, weight,
                                 created_at, updated_at)
             VALUES ($1, jobengine_uuid_v7(), $2, NULL, NULL, 1000000000, 1000000000, 1, now(), now())
             RETURNING tenant_id, id
           )
           INSERT INTO quota_token_shards (tenant_id, quota_id, shard, burst, refill_per_hour, tokens, tokens_at)
           SELECT q.tenant_id, q.id, g, 62500000, 62500000, 62500000, now() FROM q, generate_series(0, 15) g`,
          [TENANT, TYPE],
        );
      }
      for (let offset = 0; offset < count; offset += 10_000) {
        await insertJobs(admin, Math.min(10_000, count - offset));
      }
    },
    async enqueue(count) {
      return insertJobs(admin, count);
    },
    async startWorker(batchSize) {
      return worker(databaseUrl, batchSize);
    },
    async startListener(batchSize, onLeased) {
      return listener(databaseUrl, batchSize, onLeased);
    },
    async remaining() {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM jobs WHERE status NOT IN ('succeeded', 'failed', 'canceled', 'dead_lettered')`,
      );
      return rows[0]!.n;
    },
    async close() {
      await admin.end();
    },
  };
}

/** One worker's connection: the runtime's adapter with a single pooled client. */
export async function connectWorkerDb(databaseUrl: string): Promise<Database> {
  const db = Database.connect(databaseUrl, {
    appRole: 'jobengine_app',
    systemRole: 'jobengine_system',
    max: 1,
  });
  await db.ping();
  return db;
}

/** The production lease statement, one round trip: up to `max` jobs of `types` for `leaseSeconds`. */
export function leaseJobs(
  db: Database,
  options: {
    workerId: string;
    max: number;
    leaseSeconds?: number;
    types?: readonly string[];
    tenantId?: string;
  },
): Promise<JobRow[]> {
  const tenantId = options.tenantId ?? TENANT;
  return db.tenantStatement<JobRow>(
    tenantId,
    LEASE_JOBS,
    leaseJobsValues({
      tenantIds: [tenantId],
      types: options.types ?? [TYPE],
      max: options.max,
      workerId: options.workerId,
      leaseSeconds: options.leaseSeconds ?? 300,
      actor: ACTOR,
    }),
  );
}

/** The production batch-completion statement, one round trip: every leased job succeeded. */
export function completeLeased(
  db: Database,
  leased: readonly JobRow[],
  tenantId = TENANT,
): Promise<CompletedJob[]> {
  return db.tenantStatement<CompletedJob>(
    tenantId,
    COMPLETE_JOBS,
    completeJobsValues(
      tenantId,
      leased.map((job) => ({ job_id: job.id, lease_id: job.lease_id!, outcome: 'succeeded' as const })),
      ACTOR,
    ),
  );
}

/**
 * A steady-state worker as the Worker SDK runs one, minus HTTP: lease → complete while claims return
 * jobs, and a short sleep ({@link IDLE_POLL_MS}) after an empty claim.
 */
async function listener(
  databaseUrl: string,
  batchSize: number,
  onLeased: (ids: readonly string[]) => void,
): Promise<BenchListener> {
  const db = await connectWorkerDb(databaseUrl);
  const workerId = `bench-${Math.random().toString(36).slice(2, 8)}`;
  let stopping = false;
  let processed = 0;
  const loop = (async () => {
    while (!stopping) {
      const leased = await leaseJobs(db, { workerId, max: batchSize });
      if (leased.length === 0) {
        await sleep(IDLE_POLL_MS);
        continue;
      }
      onLeased(leased.map((job) => job.id));
      processed += (await completeLeased(db, leased)).length;
    }
  })();
  return {
    async stop() {
      stopping = true;
      try {
        await loop;
      } finally {
        await db.close();
      }
      return { processed };
    },
  };
}

async function worker(databaseUrl: string, batchSize: number): Promise<BenchWorker> {
  const db = await connectWorkerDb(databaseUrl);
  const workerId = `bench-${Math.random().toString(36).slice(2, 8)}`;
  return {
    async drain() {
      let processed = 0;
      for (;;) {
        const leased = await leaseJobs(db, { workerId, max: batchSize });
        if (leased.length === 0) return { processed };
        processed += (await completeLeased(db, leased)).length;
      }
    },
    close: () => db.close(),
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}
