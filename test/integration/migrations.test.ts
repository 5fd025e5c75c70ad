import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_DIR, migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import { buildEvent } from '../../layers/core/src/domain/events.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** Tables of DESIGN §6 (plus the pack-run logs it names), every one of which must exist under RLS. */
const DESIGN_TABLES = [
  'sources',
  'runs',
  'jobs',
  'job_history',
  'dag_edges',
  'artifacts',
  'quotas',
  'buckets',
  'throttles',
  'schedules',
  'schedule_fires',
  'watermarks',
  'backfills',
  'dead_letters',
  'incidents',
  'quota_token_shards',
  'events',
  'audit_exports',
  'audit_log',
  'idempotency_keys',
  'ws_connections',
  'pack_runs',
  'pack_run_logs',
];

async function emptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  const name = `jobengine_mig_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t.drop());

  it('create every table of the data model, each with row-level security enabled and forced', async () => {
    const { rows } = await t.admin.query<{
      relname: string;
      relrowsecurity: boolean;
      relforcerowsecurity: boolean;
    }>(
      `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'migrations' ORDER BY 1`,
    );
    expect(rows.map((r) => r.relname).sort()).toEqual([...DESIGN_TABLES].sort());
    for (const row of rows)
      expect(row, row.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    const policies = await t.admin.query<{ tablename: string; policyname: string; roles: string }>(
      `SELECT tablename, policyname, roles::text FROM pg_policies WHERE schemaname = 'public' ORDER BY 1, 2`,
    );
    for (const table of DESIGN_TABLES) {
      const names = policies.rows
        .filter((p) => p.tablename === table)
        .map((p) => `${p.policyname}:${p.roles}`);
      expect(names, table).toEqual(['system_all:{jobengine_system}', 'tenant_isolation:{jobengine_app}']);
    }
  });

  it('leave the runtime roles unable to bypass row-level security', async () => {
    const { rows } = await t.admin.query(
      `SELECT rolname, rolbypassrls, rolsuper, rolcanlogin FROM pg_roles WHERE rolname LIKE 'jobengine_%' ORDER BY 1`,
    );
    expect(rows).toEqual([
      { rolname: 'jobengine_app', rolbypassrls: false, rolsuper: false, rolcanlogin: false },
      { rolname: 'jobengine_system', rolbypassrls: false, rolsuper: false, rolcanlogin: false },
    ]);
  });

  it('are a no-op the second time', async () => {
    const first = await migrateDatabase(t.url);
    expect(first.applied).toEqual([]);
    const count = await t.admin.query('SELECT count(*)::int AS n FROM migrations');
    expect(count.rows[0].n).toBeGreaterThan(6);
  });

  it('refuse to run when an applied migration was edited, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobengine-migrations-'));
    const fresh = await emptyDatabase();
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await migrateDatabase(fresh.url, dir);
      const file = join(dir, '2_sources-runs-jobs.sql');
      await writeFile(file, `${await readFile(file, 'utf8')}\n-- edited after being applied\n`);
      await expect(migrateDatabase(fresh.url, dir)).rejects.toThrow(
        /2_sources-runs-jobs\.sql|Hashes don't match/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
      await fresh.drop();
    }
  });

  it('keep every stored event whole when events move from a stored envelope to actor and data (7)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobengine-migrations-'));
    const fresh = await emptyDatabase();
    const client = new pg.Client({ connectionString: fresh.url });
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      const lean = join(dir, '7_lean-event-rows.sql');
      const leanSql = await readFile(lean, 'utf8');
      await rm(lean);
      await migrateDatabase(fresh.url, dir);
      const envelope = buildEvent(
        {
          eventType: 'source.paused',
          tenantId: 'acme',
          projectId: 'p1',
          correlationId: 'corr-1',
          actor: { subject: 'alice', scopes: ['orch:operate', 'orch:read'] },
          subject: { kind: 'source', id: 'src-1', data: { id: 'src-1', paused: true, notes: null } },
          idempotencyKey: 'orch-source.paused-src-1-2',
        },
        '0192f0c4-1b2a-7c3d-8e4f-5a6b7c8d9e0f',
        new Date('2026-11-29T01:02:03.456Z'),
      );
      await client.connect();
      await client.query(
        `INSERT INTO events (tenant_id, event_id, event_type, occurred_at, project_id, correlation_id, subject_kind,
                             subject_id, idempotency_key, envelope)
         VALUES ($1, $2, $3, $4, $5, $6, 'source', 'src-1', $7, $8)`,
        [
          envelope.tenantId,
          envelope.eventId,
          envelope.eventType,
          envelope.occurredAt,
          envelope.projectId,
          envelope.correlationId,
          envelope.idempotencyKey,
          JSON.stringify(envelope),
        ],
      );
      await writeFile(lean, leanSql);
      expect((await migrateDatabase(fresh.url, dir)).applied).toEqual(['7_lean-event-rows.sql']);
      const { rows } = await client.query(
        'SELECT seq, jobengine_event_envelope(e) AS envelope FROM events e WHERE tenant_id = $1',
        ['acme'],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].envelope).toEqual({ ...envelope, seq: Number(rows[0].seq) });
    } finally {
      await client.end().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      await fresh.drop();
    }
  });

  it('check formats when a value is written, also on columns that are no longer CHECKed per row', async () => {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO runs (tenant_id, id, kind, status, dag, dag_digest, job_count, correlation_id, created_by,
                           created_at, updated_at)
         VALUES ('acme', '0192f0c4-1b2a-7c3d-8e4f-000000000001', 'adhoc', 'running', '{}', $1, 1, 'c', 't', now(), now())`,
        [`sha256:${'a'.repeat(64)}`],
      );
      const insertJob = (type: string, key: string, digest: string) =>
        client.query(
          `INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, payload_digest, not_before, correlation_id,
                             created_at, updated_at)
           VALUES ('acme', jobengine_uuid_v7(), '0192f0c4-1b2a-7c3d-8e4f-000000000001', $2, $1, 'queued', $3, now(),
                   'c', now(), now())`,
          [type, key, digest],
        );
      const good = `sha256:${'b'.repeat(64)}`;
      await insertJob('fetch.feed', 'job-1', good);
      for (const [type, key, digest] of [
        ['Fetch Feed', 'job-2', good],
        ['fetch.feed', '-bad key', good],
        ['fetch.feed', 'job-3', 'sha256:XYZ'],
      ] as const) {
        await client.query('SAVEPOINT s');
        await expect(insertJob(type, key, digest)).rejects.toThrow(/violates check constraint/);
        await client.query('ROLLBACK TO SAVEPOINT s');
      }
      await client.query('SAVEPOINT s');
      await expect(
        client.query(`UPDATE jobs SET type = 'NOT VALID' WHERE tenant_id = 'acme'`),
      ).rejects.toThrow(/violates check constraint/);
      await client.query('ROLLBACK TO SAVEPOINT s');
      await client.query(`UPDATE jobs SET status = 'leased', lease_id = gen_random_uuid(), lease_until = now()
                           WHERE tenant_id = 'acme'`);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end();
    }
  });

  it('apply once when several migrators race (advisory lock)', async () => {
    const fresh = await emptyDatabase();
    try {
      const results = await Promise.all([
        migrateDatabase(fresh.url),
        migrateDatabase(fresh.url),
        migrateDatabase(fresh.url),
      ]);
      const applied = results.flatMap((r) => r.applied);
      const files = new Set(applied);
      expect(applied.length).toBe(files.size);
      const client = new pg.Client({ connectionString: fresh.url });
      await client.connect();
      const { rows } = await client.query(
        'SELECT name, count(*)::int AS n FROM migrations GROUP BY name HAVING count(*) > 1',
      );
      await client.end();
      expect(rows).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });

  it('make the audit log refuse UPDATE, DELETE and TRUNCATE even for the owner', async () => {
    const hash = `sha256:${'0'.repeat(64)}`;
    await t.admin.query(
      `INSERT INTO audit_log (tenant_id, position, entry_id, occurred_at, actor_subject, action, target_kind, prev_hash, entry_hash)
       VALUES ('acme', 1, gen_random_uuid(), now(), 'tester', 'source.create', 'source', $1, $1)`,
      [hash],
    );
    await expect(t.admin.query(`UPDATE audit_log SET action = 'forged'`)).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(t.admin.query('DELETE FROM audit_log')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(t.admin.query('TRUNCATE audit_log')).rejects.toThrow(/append-only: TRUNCATE refused/);
    const { rows } = await t.admin.query('SELECT action FROM audit_log');
    expect(rows).toEqual([{ action: 'source.create' }]);
  });

  it('guard history, artifacts and pack-run logs with the same append-only trigger', async () => {
    for (const table of ['job_history', 'artifacts', 'pack_run_logs']) {
      const triggers = await t.admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_trigger
          WHERE tgrelid = $1::regclass AND tgfoid = 'jobengine_refuse_mutation'::regproc`,
        [table],
      );
      expect(triggers.rows[0]!.n, table).toBe(1);
    }
  });
});
