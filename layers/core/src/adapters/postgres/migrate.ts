import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from 'postgres-migrations';

/** migrations/ at the repository root (bundled next to the migration function on AWS). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../../migrations', import.meta.url));

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies pending migrations under postgres-migrations' advisory lock: forward-only, numbered, each in its
 * own transaction; concurrent migrators wait for each other; a migration edited after it was applied fails
 * the run with a hash mismatch naming the file.
 */
export async function migrateDatabase(
  connectionString: string,
  directory: string = MIGRATIONS_DIR,
): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString, application_name: 'jobengine-migrate' });
  await client.connect();
  try {
    const applied = await migrate({ client }, directory);
    return { applied: applied.map((m) => m.fileName) };
  } finally {
    await client.end();
  }
}
