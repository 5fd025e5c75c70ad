import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { FileExportStore } from '../layers/core/src/adapters/local/file-export-store.ts';
import { KeySigner } from '../layers/core/src/adapters/local/key-signer.ts';
import { Database } from '../layers/core/src/adapters/postgres/database.ts';
import { migrateDatabase } from '../layers/core/src/adapters/postgres/migrate.ts';
import { systemClock, uuidV7Ids } from '../layers/core/src/adapters/system.ts';
import { recordAudit } from '../layers/core/src/services/audit.ts';
import { AuditExportsService } from '../layers/core/src/services/audit-exports.ts';

/**
 * How long a synchronous audit export takes for a window of a given size (docs/adr/0012).
 *
 *   npx tsx bench/audit-export.ts [--runs 2000] [--jobs-per-run 5] [--audit 2000] [--reps 3]
 *
 * DATABASE_URL is the admin connection; a scratch database is created, seeded in bulk (runs, jobs with
 * three history rows and one artifact each, a chained audit log) and dropped. Prints one line per export.
 */
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000' },
    'jobs-per-run': { type: 'string', default: '5' },
    audit: { type: 'string', default: '2000' },
    reps: { type: 'string', default: '3' },
  },
  strict: true,
});
const runs = Number(args.runs);
const jobsPerRun = Number(args['jobs-per-run']);
const auditEntries = Number(args.audit);
const reps = Number(args.reps);
const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const tenant = 'bench';

const name = `jobengine_bench_audit_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const storeDir = await mkdtemp(join(tmpdir(), 'jobengine-bench-exports-'));
const db = Database.connect(url.toString(), { appRole: 'jobengine_app', systemRole: 'jobengine_system' });
try {
  await migrateDatabase(url.toString());
  const seed = new pg.Client({ connectionString: url.toString() });
  await seed.connect();
  const from = new Date(Date.now() - 60_000);
  await seed.query(
    `INSERT INTO runs (tenant_id, id, kind, status, dag, dag_digest, correlation_id, created_by, created_at, updated_at)
     SELECT $1, gen_random_uuid(), 'adhoc', 'succeeded', '{"jobs":[]}', 'sha256:' || repeat('0', 64), 'c', 'bench',
            now(), now()
       FROM generate_series(1, $2)`,
    [tenant, runs],
  );
  await seed.query(
    `INSERT INTO jobs (tenant_id, id, run_id, job_key, type, status, payload_digest, attempt, not_before,
                       correlation_id, created_at, updated_at)
     SELECT $1, gen_random_uuid(), r.id, 'k' || n, 'bench.job', 'succeeded', 'sha256:' || repeat('1', 64), 1, now(),
            'c', now(), now()
       FROM runs r, generate_series(1, $2) n`,
    [tenant, jobsPerRun],
  );
  await seed.query(
    `INSERT INTO job_history (tenant_id, job_id, run_id, attempt, from_status, to_status, transition, lease_id, actor, at)
     SELECT $1, j.id, j.run_id, t.attempt, t.from_status, t.to_status, t.transition,
            CASE WHEN t.transition = 'lease' THEN gen_random_uuid() END, 'worker', now()
       FROM jobs j, (VALUES (0, NULL, 'queued', 'plan'), (1, 'queued', 'leased', 'lease'),
                            (1, 'leased', 'succeeded', 'succeed')) AS t(attempt, from_status, to_status, transition)`,
    [tenant],
  );
  await seed.query(
    `INSERT INTO artifacts (tenant_id, id, digest, run_id, job_id, attempt, uri, size_bytes, media_type, kind, created_at)
     SELECT $1, gen_random_uuid(), 'sha256:' || encode(sha256(j.id::text::bytea), 'hex'), j.run_id, j.id, 1,
            's3://bench/' || j.id, 100, 'application/json', 'report', now()
       FROM jobs j`,
    [tenant],
  );
  await seed.end();
  for (let done = 0; done < auditEntries; done += 100) {
    await db.tenant(tenant, (q) =>
      recordAudit(
        q,
        { tenantId: tenant, projectId: null, correlationId: 'c', actor: { subject: 'bench', scopes: [] } },
        Array.from({ length: Math.min(100, auditEntries - done) }, (_, i) => ({
          action: 'source.update',
          targetKind: 'source',
          targetId: `s-${done + i}`,
          before: { i },
          after: { i: i + 1 },
        })),
      ),
    );
  }
  const to = new Date();
  const { privateKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const signer = new KeySigner(privateKey);
  const exports = new AuditExportsService({
    db,
    clock: systemClock,
    ids: uuidV7Ids,
    store: new FileExportStore(storeDir),
    signer: async () => signer,
  });
  const call = {
    tenantId: tenant,
    projectId: null,
    correlationId: 'c',
    actor: { subject: 'bench', scopes: [] },
  };
  console.log(
    `window: ${runs} runs, ${runs * jobsPerRun} jobs, ${runs * jobsPerRun * 3} history rows, ` +
      `${runs * jobsPerRun} artifacts, ${auditEntries} audit entries`,
  );
  for (let rep = 1; rep <= reps; rep++) {
    const started = performance.now();
    const result = await exports.create(call, { from: from.toISOString(), to: to.toISOString() });
    const ms = performance.now() - started;
    const bytes = result.files.reduce((sum, file) => sum + file.bytes, 0);
    console.log(
      `export ${rep}: ${result.status} in ${ms.toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB, manifest ${result.manifestDigest}`,
    );
  }
} finally {
  await db.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  await rm(storeDir, { recursive: true, force: true });
}
