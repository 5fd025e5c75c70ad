import { join } from 'node:path';
import { logger } from '@jobengine/core';
import { ensureDatabase, startEmbeddedPostgres } from './embedded-postgres.ts';

export interface LocalDatabase {
  url: string;
  /** Stops the embedded server, if one was started. */
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL whose data lives in `<dataDir>/postgres` and
 * survives restarts (shared by `npm start`, `npm run migrate` and `npm run invoke`).
 */
export async function openLocalDatabase(options: {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPort: number;
}): Promise<LocalDatabase> {
  if (options.databaseUrl) return { url: options.databaseUrl, stop: async () => undefined };
  const dataDir = join(options.dataDir, 'postgres');
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: options.embeddedPort,
    persistent: true,
    log: (line) => logger.debug('embedded postgres', { line }),
  });
  logger.info('embedded PostgreSQL started', { port: options.embeddedPort, dataDir });
  return { url: await ensureDatabase(embedded.adminUrl, 'jobengine'), stop: embedded.stop };
}
