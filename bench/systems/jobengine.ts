import { execFileSync } from 'node:child_process';
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
import type { BenchInstance, BenchSystem, BenchWorker } from '../harness.ts';

const TENANT = 'bench';
const TYPE = 'bench.noop';
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

function instance(databaseUrl: string): BenchInstance {
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 1 });
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
        const n = Math.min(10_000, count - offset);
        await admin.query(
          `WITH ids AS (
             SELECT jobengine_uuid_v7() AS run_id, jobengine_uuid_v7() AS job_id FROM generate_series(1, $1)
           ), runs_in AS (
             INSERT INTO runs (tenant_id, id, kind, status, dag, dag_digest, job_count, correlation_id, created_by,
                               created_at, updated_at, started_at)
             SELECT $2, run_id, 'adhoc', 'running', '{"jobs":[]}', $4, 1, run_id::text, 'bench', now(), now(), now() FROM ids
           )
           INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, payload_digest, retry_policy, max_attempts,
                             not_before, correlation_id, created_at, updated_at)
           SELECT $2, job_id, run_id, 'job', $3, 'queued', $4, '{}', 5, now(), run_id::text, now(), now() FROM ids`,
          [n, TENANT, TYPE, DIGEST],
        );
      }
    },
    async startWorker(batchSize) {
      return worker(databaseUrl, batchSize);
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

async function worker(databaseUrl: string, batchSize: number): Promise<BenchWorker> {
  const db = Database.connect(databaseUrl, {
    appRole: 'jobengine_app',
    systemRole: 'jobengine_system',
    max: 1,
  });
  await db.ping();
  const workerId = `bench-${Math.random().toString(36).slice(2, 8)}`;
  return {
    async drain() {
      let processed = 0;
      for (;;) {
        const leased = await db.tenantStatement<JobRow>(
          TENANT,
          LEASE_JOBS,
          leaseJobsValues({
            tenantIds: [TENANT],
            types: [TYPE],
            max: batchSize,
            workerId,
            leaseSeconds: 300,
            actor: ACTOR,
          }),
        );
        if (leased.length === 0) return { processed };
        const done = await db.tenantStatement<CompletedJob>(
          TENANT,
          COMPLETE_JOBS,
          completeJobsValues(
            TENANT,
            leased.map((job) => ({ job_id: job.id, lease_id: job.lease_id!, outcome: 'succeeded' as const })),
            ACTOR,
          ),
        );
        processed += done.length;
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
