import { fileURLToPath } from 'node:url';
import {
  AppError,
  Database,
  type DatabaseLogin,
  loadConfig,
  logger,
  mapDatabaseError,
  migrateDatabase,
  readDatabaseLogin,
} from '@jobengine/core';
import type { CdkCustomResourceEvent, CdkCustomResourceResponse, Context } from 'aws-lambda';

/** copied next to the bundle when it is built (infra/lib/migrations.ts): /var/task/migrations on Lambda */
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/** one resource per stack: updates keep the id, so CloudFormation never asks to delete the schema */
const PHYSICAL_RESOURCE_ID = 'jobengine-database-migrations';

/**
 * A proxy created in the same deployment accepts connections only once its target is registered, which
 * can take minutes after CloudFormation reports it complete; and the secret's first rotation, started in
 * the same deployment, briefly leaves its current password unusable. Both pass, so connection and login
 * failures are retried (re-reading the secret) while the invocation has time left.
 */
const RETRY_DELAY_MS = 15_000;
const RETRY_MARGIN_MS = 60_000;
/** invalid_authorization_specification, invalid_password */
const LOGIN_FAILURE_STATES = new Set(['28000', '28P01']);

const config = loadConfig();

/**
 * Custom resource `Custom::JobEngineMigrations`, invoked by the CDK provider framework. Create and Update
 * (a migration file changed) apply the pending migrations under postgres-migrations' lock, then grant the
 * runtime roles to the functions' login user so its transactions can SET LOCAL ROLE. Delete does nothing:
 * removing the stack never drops data.
 */
export async function handler(
  event: CdkCustomResourceEvent,
  context: Context,
): Promise<CdkCustomResourceResponse> {
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const applied = await retryWhileTransient(context, async () => {
    const login = await readDatabaseLogin(config);
    const result = await migrateDatabase(login.connectionString, MIGRATIONS_DIR);
    await grantRuntimeRoles(login);
    return result.applied;
  });
  logger.info(applied.length ? 'migrations applied' : 'database is up to date', {
    applied,
    migrationsHash: event.ResourceProperties.MigrationsHash,
  });
  return { PhysicalResourceId: PHYSICAL_RESOURCE_ID, Data: { Applied: applied.join(' ') } };
}

/** Idempotent: granting a membership the user already has changes nothing. */
async function grantRuntimeRoles(login: DatabaseLogin): Promise<void> {
  // no role switch: the grant is made by the login user, who created the roles in the first migration
  const db = Database.connect(login.connectionString, { appRole: '', systemRole: '', max: 1 });
  try {
    await db.system(async (sql) => {
      const { rows } = await sql.query<{ statement: string }>(
        "SELECT format('GRANT %I, %I TO %I', $1::text, $2::text, $3::text) AS statement",
        [config.DB_APP_ROLE, config.DB_SYSTEM_ROLE, login.username],
      );
      await sql.query(rows[0]!.statement);
    });
  } finally {
    await db.close();
  }
}

async function retryWhileTransient<T>(context: Context, work: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || context.getRemainingTimeInMillis() < RETRY_DELAY_MS + RETRY_MARGIN_MS)
        throw error;
      logger.warn('database not reachable yet; retrying', {
        error: error as Error,
        retryInMs: RETRY_DELAY_MS,
      });
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }
}

function isTransient(error: unknown): boolean {
  const mapped = mapDatabaseError(error);
  if (mapped instanceof AppError && mapped.code === 'DATABASE_UNAVAILABLE') return true;
  const state = (error as { code?: unknown })?.code;
  return typeof state === 'string' && LOGIN_FAILURE_STATES.has(state);
}
