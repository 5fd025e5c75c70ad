import pg from 'pg';
import { AppError, DatabaseUnavailableError } from '../../domain/errors.ts';
import { logger } from '../../observability/logger.ts';

/** What a SQL module needs: one connection inside the caller's transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export interface DatabaseOptions {
  /** Role for tenant-scoped work (request handlers); '' = the login user is already that role. */
  appRole: string;
  /** Role for cross-tenant work (ticks, planner, broadcaster). */
  systemRole: string;
}

/** Tenant ids are inlined into the transaction's first statement, so they are constrained strictly. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * The PostgreSQL adapter: a pool plus the two ways to run a transaction. Each transaction starts with one
 * round trip that begins it, drops to the runtime role and pins the tenant (row-level security), so the
 * tenant scoping costs no extra latency on hot paths.
 */
export class Database {
  constructor(
    readonly pool: pg.Pool,
    private readonly options: DatabaseOptions,
  ) {
    // An idle client dying (PostgreSQL restart, proxy failover) must not crash the process; the pool drops
    // it and the next checkout connects afresh.
    pool.on('error', (error) => logger.warn('idle database connection lost', { error: error.message }));
  }

  static connect(
    connectionString: string,
    options: DatabaseOptions & { max?: number; statementTimeoutMs?: number },
  ) {
    const pool = new pg.Pool({
      connectionString,
      max: options.max ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      statement_timeout: options.statementTimeoutMs ?? 25_000,
      application_name: 'jobengine',
    });
    return new Database(pool, options);
  }

  /** Runs `work` in a transaction that sees exactly one tenant's rows. */
  tenant<T>(tenantId: string, work: (db: Queryable) => Promise<T>): Promise<T> {
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new AppError('VALIDATION_FAILED', 'invalid tenant id');
    return this.transaction(this.options.appRole, tenantId, work);
  }

  /** Runs `work` in a transaction that spans tenants (system role). */
  system<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    return this.transaction(this.options.systemRole, null, work);
  }

  /** Readiness: a round trip to the server. */
  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw mapDatabaseError(error);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async transaction<T>(
    role: string,
    tenantId: string | null,
    work: (db: Queryable) => Promise<T>,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw mapDatabaseError(error);
    }
    let broken: Error | undefined;
    try {
      const setRole = role === '' ? '' : `SET LOCAL ROLE ${client.escapeIdentifier(role)};`;
      const setTenant =
        tenantId === null
          ? ''
          : `SELECT set_config('jobengine.tenant_id', ${client.escapeLiteral(tenantId)}, true);`;
      await client.query(`BEGIN;${setRole}${setTenant}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      const mapped = mapDatabaseError(error);
      if (mapped instanceof DatabaseUnavailableError) broken ??= error as Error;
      throw mapped;
    } finally {
      client.release(broken);
    }
  }
}

const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '53400']);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * Connection-level failures become 503 DATABASE_UNAVAILABLE (retryable, with Retry-After); everything
 * else passes through unchanged for the service to interpret.
 */
export function mapDatabaseError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  const e = error as { code?: string; message?: string };
  const code = e?.code ?? '';
  const message = e?.message ?? '';
  if (
    UNAVAILABLE_SQLSTATES.has(code) ||
    code.startsWith('08') ||
    UNAVAILABLE_NODE_CODES.has(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(
      message,
    )
  ) {
    return new DatabaseUnavailableError(error);
  }
  return error;
}

/** SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function constraintName(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown })?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}
