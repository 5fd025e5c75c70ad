import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import { startEmbeddedPostgres } from '../../local/embedded-postgres.ts';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of a database on the test server with rights to CREATE DATABASE. */
    pgAdminUrl: string;
    /** Name of the migrated template database that each test file clones. */
    pgTemplate: string;
  }
}

/**
 * Real PostgreSQL for a test run: the server of DATABASE_URL when set (CI uses the machine's PostgreSQL
 * 15), otherwise an embedded server in a temporary folder. Migrations run once into a template database.
 */
export default async function setup(project: TestProject) {
  let adminUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let dataDir: string | undefined;
  if (!adminUrl) {
    dataDir = await mkdtemp(join(tmpdir(), 'jobengine-test-pg-'));
    const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
    adminUrl = server.adminUrl;
    stopEmbedded = server.stop;
    console.log(`[${project.name}] DATABASE_URL unset: using an embedded PostgreSQL server`);
  }
  const template = `jobengine_tpl_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await migrateDatabase(templateUrl.toString());
  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    await admin.end();
    await stopEmbedded?.();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
