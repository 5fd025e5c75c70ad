import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOT_STATEMENT_SETTINGS } from '../../layers/core/src/adapters/postgres/database.ts';
import {
  COMPLETE_JOBS,
  completeJobsValues,
} from '../../layers/core/src/adapters/postgres/sql/worker/complete-jobs.ts';
import {
  LEASE_JOBS,
  leaseJobsValues,
} from '../../layers/core/src/adapters/postgres/sql/worker/lease-jobs.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * The hot statements' generic plans are built once per connection, from the statistics of that moment
 * (docs/adr/0004-job-lifecycle-and-hot-paths.md). A plan made while the tables were empty must still take
 * the ready queue by index and never scan jobs or runs sequentially once the queue holds thousands of
 * jobs; replanned (ANALYZE) over a full queue, every row is reached by key; and no plan is ever
 * JIT-compiled. Each failure costs O(queue) or ~170 ms per call. The plans are made here exactly as `Database.tenantStatement` makes
 * them (same settings, app role, tenant pinned), on empty analyzed tables, then run against a full queue.
 */
describe('hot-path plans made on empty tables', () => {
  const TENANT = 'plans';
  const QUEUED = 6_000;
  const BATCH = 10;
  const ACTOR = { subject: 'plans-test', scopes: ['orch:operate'] };
  let t: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    t = await createTestDatabase();
    client = new pg.Client({ connectionString: t.url });
    await client.connect();
    await client.query('ANALYZE');
    await client.query(
      `BEGIN; SET LOCAL ROLE jobengine_app; SELECT set_config('jobengine.tenant_id', '${TENANT}', true); ${HOT_STATEMENT_SETTINGS}`,
    );
    // Planned now, while every table is empty (a generic plan is made at PREPARE time's first EXPLAIN).
    await client.query(`PREPARE lease_plan AS ${LEASE_JOBS.text}`);
    await client.query(`PREPARE complete_plan AS ${COMPLETE_JOBS.text}`);
    await client.query(`EXPLAIN EXECUTE lease_plan(${literals(leaseValues())})`);
    await client.query(`EXPLAIN EXECUTE complete_plan(${literals(completeJobsValues(TENANT, [], ACTOR))})`);
    await client.query('COMMIT');
    // The queue fills up; no ANALYZE runs before the statements do.
    await t.admin.query(
      `WITH ids AS (
         SELECT jobengine_uuid_v7() AS run_id, jobengine_uuid_v7() AS job_id FROM generate_series(1, $1)
       ), runs_in AS (
         INSERT INTO runs (tenant_id, id, kind, status, dag, dag_digest, job_count, correlation_id, created_by,
                           created_at, updated_at, started_at)
         SELECT $2, run_id, 'adhoc', 'running', '{"jobs":[]}', $3, 1, run_id::text, 'test', now(), now(), now()
           FROM ids
       )
       INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, payload_digest, retry_policy, max_attempts,
                         not_before, correlation_id, created_at, updated_at)
       SELECT $2, job_id, run_id, 'job', 'plans.noop', 'queued', $3, '{}', 3, now(), run_id::text, now(), now()
         FROM ids`,
      [QUEUED, TENANT, `sha256:${'0'.repeat(64)}`],
    );
  });
  afterAll(async () => {
    await client?.end();
    await t.drop();
  });

  function leaseValues(): unknown[] {
    return leaseJobsValues({
      tenantIds: [TENANT],
      types: ['plans.noop'],
      max: BATCH,
      workerId: 'plans-worker',
      leaseSeconds: 60,
      actor: ACTOR,
    });
  }

  function literals(values: unknown[]): string {
    return values
      .map((value) =>
        Array.isArray(value)
          ? `ARRAY[${value.map((item) => client.escapeLiteral(String(item))).join(',')}]`
          : typeof value === 'number'
            ? String(value)
            : client.escapeLiteral(String(value)),
      )
      .join(',');
  }

  /** The jobs leased and not yet completed, as completions that succeed. */
  async function leasedJobs() {
    const leased = await t.admin.query<{ id: string; lease_id: string }>(
      `SELECT id, lease_id FROM jobs WHERE tenant_id = $1 AND status = 'leased'`,
      [TENANT],
    );
    expect(leased.rows).toHaveLength(BATCH);
    return leased.rows.map((job) => ({
      job_id: job.id,
      lease_id: job.lease_id,
      outcome: 'succeeded' as const,
    }));
  }

  /** Runs a prepared hot statement under EXPLAIN (ANALYZE, BUFFERS) in the tenant's transaction. */
  async function explain(
    name: string,
    values: unknown[],
  ): Promise<{ plan: string; buffers: number; rows: number; walked: number }> {
    // As Database.tenantStatement: the settings on every call (a cached generic plan is used only while
    // plan_cache_mode says so).
    await client.query(
      `BEGIN; SET LOCAL ROLE jobengine_app; SELECT set_config('jobengine.tenant_id', '${TENANT}', true); ${HOT_STATEMENT_SETTINGS}`,
    );
    try {
      const result = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) EXECUTE ${name}(${literals(values)})`,
      );
      const plan = result.rows.map((row) => row['QUERY PLAN']).join('\n');
      const top = /Buffers: shared hit=(\d+)(?: read=(\d+))?/.exec(plan);
      const rows = /^\S.*actual time=\S+ rows=(\d+)/m.exec(plan);
      return {
        plan,
        buffers: Number(top?.[1] ?? 0) + Number(top?.[2] ?? 0),
        // Rows a node read and threw away, in the worst node - data-modifying CTEs included, which run
        // after the top node and are missing from its buffer counts.
        walked: Math.max(0, ...[...plan.matchAll(/Rows Removed by Filter: (\d+)/g)].map((m) => Number(m[1]))),
        rows: Number(rows?.[1] ?? 0),
      };
    } finally {
      await client.query('COMMIT');
    }
  }

  it('reach the ready queue by index and complete a batch by key, without JIT', async () => {
    const lease = await explain('lease_plan', leaseValues());
    expect(lease.rows).toBe(BATCH);
    expect(lease.plan).not.toMatch(/^JIT:/m);
    expect(lease.plan).not.toMatch(/Seq Scan on (jobs|runs)\b/);
    // The ready scan is the ordered index scan. (The update of the picked rows still walks the tenant's
    // range of the primary key until ANALYZE replans - see the ADR; the next test holds it to a keyed probe.)
    expect(lease.plan).toMatch(/Index Scan using jobs_ready_idx on jobs/);

    const complete = await explain('complete_plan', completeJobsValues(TENANT, await leasedJobs(), ACTOR));
    expect(complete.rows).toBe(BATCH);
    expect(complete.plan).not.toMatch(/^JIT:/m);
    expect(complete.plan).not.toMatch(/Seq Scan on (jobs|runs|dag_edges)\b/);
  });

  it('once replanned over the full queue: a keyed lease, never JIT-compiled', async () => {
    // ANALYZE invalidates the cached plans; the next call plans again, now estimating thousands of rows.
    await t.admin.query('ANALYZE');
    const lease = await explain('lease_plan', leaseValues());
    expect(lease.rows).toBe(BATCH);
    expect(lease.plan).not.toMatch(/^JIT:/m);
    expect(lease.plan).not.toMatch(/Seq Scan on (jobs|runs)\b/);
    // A pass over 6,000 jobs or runs reads well over a thousand pages; a keyed batch of 10 a few hundred.
    expect(lease.buffers).toBeLessThan(600);
    expect(lease.walked).toBeLessThan(100);
    const complete = await explain('complete_plan', completeJobsValues(TENANT, await leasedJobs(), ACTOR));
    expect(complete.rows).toBe(BATCH);
    expect(complete.plan).not.toMatch(/^JIT:/m);
    expect(complete.buffers).toBeLessThan(600);
    expect(complete.walked).toBeLessThan(100);
  });

  it('release a child by key while the tenant holds thousands of pending jobs and edges the plan never saw', async () => {
    // The plans were last made (ANALYZE above) when no job was pending and no edge existed. A DAG-heavy
    // tenant then holds thousands of both: completing a parent must still reach its edges and its child by
    // key, not walk every edge or pending job of the tenant.
    const digest = `sha256:${'0'.repeat(64)}`;
    await t.admin.query(
      `WITH run AS (
         INSERT INTO runs (tenant_id, id, kind, status, dag, dag_digest, job_count, correlation_id, created_by,
                           created_at, updated_at, started_at)
         VALUES ($1, jobengine_uuid_v7(), 'adhoc', 'running', '{"jobs":[]}', $3, $2 + 3, 'dag', 'test', now(), now(), now())
         RETURNING id
       ), parent AS (
         INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, payload_digest, not_before, correlation_id,
                           created_at, updated_at)
         SELECT $1, jobengine_uuid_v7(), run.id, 'parent', 'plans.dag', 'queued', $3, now(), 'dag', now(), now() FROM run
         RETURNING id, run_id
       ), waiting AS (
         INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, pending_parents, payload_digest, not_before,
                           correlation_id, created_at, updated_at)
         SELECT $1, jobengine_uuid_v7(), run.id, 'waiting-' || g, 'plans.dag', 'pending', 1, $3, now(), 'dag', now(), now()
           FROM run, generate_series(0, $2) g
         RETURNING id, run_id, job_key
       ), blocker AS (
         INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, payload_digest, not_before, correlation_id,
                           created_at, updated_at)
         SELECT $1, jobengine_uuid_v7(), run.id, 'blocker', 'plans.blocked', 'queued', $3, now(), 'dag', now(), now()
           FROM run
         RETURNING id, run_id
       )
       INSERT INTO dag_edges (tenant_id, run_id, parent_job_id, child_job_id)
       SELECT $1, p.run_id, p.id, w.id FROM parent p JOIN waiting w ON w.job_key = 'waiting-0'
       UNION ALL
       SELECT $1, b.run_id, b.id, w.id FROM blocker b, waiting w`,
      [TENANT, QUEUED, digest],
    );
    const dagLease = leaseJobsValues({
      tenantIds: [TENANT],
      types: ['plans.dag'],
      max: BATCH,
      workerId: 'plans-worker',
      leaseSeconds: 60,
      actor: ACTOR,
    });
    expect((await explain('lease_plan', dagLease)).rows).toBe(1);
    const leased = await t.admin.query<{ id: string; lease_id: string }>(
      `SELECT id, lease_id FROM jobs WHERE tenant_id = $1 AND status = 'leased' AND type = 'plans.dag'`,
      [TENANT],
    );
    const completion = leased.rows.map((job) => ({
      job_id: job.id,
      lease_id: job.lease_id,
      outcome: 'succeeded' as const,
    }));
    const complete = await explain('complete_plan', completeJobsValues(TENANT, completion, ACTOR));
    expect(complete.rows).toBe(1);
    const released = await t.admin.query(
      `SELECT job_key, status FROM jobs WHERE tenant_id = $1 AND type = 'plans.dag' AND status <> 'pending'`,
      [TENANT],
    );
    expect(released.rows).toEqual(
      expect.arrayContaining([
        { job_key: 'parent', status: 'succeeded' },
        { job_key: 'waiting-0', status: 'queued' },
      ]),
    );
    expect(released.rows).toHaveLength(2);
    expect(complete.walked).toBeLessThan(100);
  });
});
