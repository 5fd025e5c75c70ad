import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import { ensureDatabase, startEmbeddedPostgres } from '../../local/embedded-postgres.ts';
import { type RunningRuntime, startLocalRuntime } from '../support/local-runtime.ts';
import { freePort } from '../support/ports.ts';

export interface StreamRig {
  databaseUrl: string;
  runtime: RunningRuntime;
  stop(): Promise<void>;
}

/**
 * The local runtime (`local/main.ts` as a child process) for stream runs: against `databaseUrl` (migrated
 * and empty), else against an embedded PostgreSQL started for the run and removed afterwards.
 */
export async function startStreamRig(
  options: { databaseUrl?: string | undefined; env?: Record<string, string> } = {},
): Promise<StreamRig> {
  let stopPostgres: (() => Promise<void>) | undefined;
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), 'jobengine-streams-'));
    const postgres = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
    stopPostgres = async () => {
      await postgres.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
    databaseUrl = await ensureDatabase(postgres.adminUrl, 'jobengine');
    await migrateDatabase(databaseUrl);
  }
  try {
    const runtime = await startLocalRuntime(databaseUrl, options.env ?? {});
    return {
      databaseUrl,
      runtime,
      async stop() {
        await runtime.stop();
        await stopPostgres?.();
      },
    };
  } catch (error) {
    await stopPostgres?.();
    throw error;
  }
}
