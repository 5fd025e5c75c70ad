import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { Database } from '../../layers/core/src/adapters/postgres/database.ts';

export interface TestDatabase {
  /** Connection string of this file's own database (as the server's admin user). */
  url: string;
  /** The application adapter over it, with the runtime roles (row-level security applies). */
  db: Database;
  /** A raw pool as the admin user, for assertions that must bypass the application. */
  admin: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template: fast, and isolated from every other test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const name = `jobengine_test_${randomBytes(6).toString('hex')}`;
  const server = new pg.Client({ connectionString: adminUrl });
  await server.connect();
  // CREATE DATABASE ... TEMPLATE fails while another session is copying the same template; retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await server.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      break;
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = Database.connect(url.toString(), {
    appRole: 'jobengine_app',
    systemRole: 'jobengine_system',
    max: 10,
  });
  const admin = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // DROP DATABASE ... WITH (FORCE) terminates clients still closing; that is expected at teardown.
  admin.on('error', () => undefined);
  return {
    url: url.toString(),
    db,
    admin,
    async drop() {
      await db.close();
      await admin.end();
      await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server.end();
    },
  };
}
