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
 * Session settings of the hot statements (lease, completion, idempotency keys), set in the transaction
 * that runs them (docs/adr/0004-job-lifecycle-and-hot-paths.md):
 * - a generic plan skips re-planning these large CTEs on every call (their cost barely depends on the
 *   parameter values); it is built once per connection, from the statistics of that moment;
 * - on a young database those statistics say the tables are empty, which makes sequential scans of jobs
 *   and runs look free and costs O(queue) per call once the tables fill up (74 instead of 1,100 jobs/s
 *   until autovacuum's next ANALYZE replans). Every row these statements touch is reached by key, so
 *   sequential scans are priced out;
 * - JIT is decided at planning time by estimated cost: a generic plan over a large backlog crosses
 *   jit_above_cost and then compiles about 400 functions on every call (170 ms).
 */
export const HOT_STATEMENT_SETTINGS =
  'SET LOCAL plan_cache_mode = force_generic_plan;SET LOCAL enable_seqscan = off;SET LOCAL jit = off;';

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
      // Queries are written to the socket as soon as they are issued (see tenantStatement).
      pipeline: true,
    });
    return new Database(pool, options);
  }

  /** Runs `work` in a transaction that sees exactly one tenant's rows. */
  tenant<T>(tenantId: string, work: (db: Queryable) => Promise<T>): Promise<T> {
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new AppError('VALIDATION_FAILED', 'invalid tenant id');
    return this.transaction(this.options.appRole, tenantId, work);
  }

  /**
   * Runs read-only `work` on one snapshot of one tenant's rows (REPEATABLE READ): every statement sees the
   * same committed state, so several reads describe one consistent moment (audit exports).
   */
  tenantSnapshot<T>(tenantId: string, work: (db: Queryable) => Promise<T>): Promise<T> {
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new AppError('VALIDATION_FAILED', 'invalid tenant id');
    return this.transaction(
      this.options.appRole,
      tenantId,
      work,
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;',
    );
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

  /**
   * One statement in a tenant transaction, in one network round trip: the pool runs in pipeline mode,
   * so BEGIN (with role and tenant), the statement and COMMIT go out together. If the statement fails,
   * the pipelined COMMIT finds the transaction aborted and rolls it back. This is the lease and completion
   * hot path (DESIGN §7).
   */
  async tenantStatement<R extends pg.QueryResultRow>(
    tenantId: string,
    statement: { name: string; text: string },
    values: unknown[],
  ): Promise<R[]> {
    if (!TENANT_ID_PATTERN.test(tenantId)) throw new AppError('VALIDATION_FAILED', 'invalid tenant id');
    return this.statement(this.options.appRole, tenantId, statement, values);
  }

  /** tenantStatement's twin for cross-tenant work (a shared worker pool's lease): the system role. */
  async systemStatement<R extends pg.QueryResultRow>(
    statement: { name: string; text: string },
    values: unknown[],
  ): Promise<R[]> {
    return this.statement(this.options.systemRole, null, statement, values);
  }

  private statement<R extends pg.QueryResultRow>(
    role: string,
    tenantId: string | null,
    statement: { name: string; text: string },
    values: unknown[],
  ): Promise<R[]> {
    return this.withRetry(() =>
      this.withClient(async (client) => {
        const begin = client.query(`${this.beginSql(client, role, tenantId)}${HOT_STATEMENT_SETTINGS}`);
        // Named: parsed and planned once per connection, which is most of the cost of these large CTEs.
        const result = client.query<R>({ name: statement.name, text: statement.text, values });
        const commit = client.query('COMMIT');
        const [began, ran, committed] = await Promise.allSettled([begin, result, commit]);
        for (const outcome of [began, ran, committed]) {
          if (outcome.status === 'rejected') throw outcome.reason;
        }
        return (ran as PromiseFulfilledResult<pg.QueryResult<R>>).value.rows;
      }),
    );
  }

  /**
   * Checks a client out for one transaction. A client in use can lose its connection (PostgreSQL restart,
   * failover): pg then emits 'error' on it, which must be listened to or the process dies. On any error
   * the transaction is rolled back if the connection still works, and a broken client is destroyed
   * instead of returned to the pool. Connection-level failures surface as DATABASE_UNAVAILABLE.
   */
  private async withClient<T>(use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      return await use(client);
    } catch (error) {
      const mapped = mapDatabaseError(error);
      if (mapped instanceof DatabaseUnavailableError) broken ??= error as Error;
      if (!broken) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
      }
      throw mapped;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async checkout(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw mapDatabaseError(error);
    }
  }

  private beginSql(client: pg.PoolClient, role: string, tenantId: string | null, begin = 'BEGIN;'): string {
    const setRole = role === '' ? '' : `SET LOCAL ROLE ${client.escapeIdentifier(role)};`;
    const setTenant =
      tenantId === null
        ? ''
        : `SELECT set_config('jobengine.tenant_id', ${client.escapeLiteral(tenantId)}, true);`;
    return `${begin}${setRole}${setTenant}`;
  }

  /**
   * Deadlocks and serialization failures abort one of the transactions involved; every transaction here
   * is safe to run again from the start (statements are fenced and idempotent), so it is retried.
   */
  private async withRetry<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        const state = sqlState(error);
        if (tries >= MAX_TRANSACTION_TRIES || (state !== '40P01' && state !== '40001')) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * tries));
      }
    }
  }

  private transaction<T>(
    role: string,
    tenantId: string | null,
    work: (db: Queryable) => Promise<T>,
    begin?: string,
  ): Promise<T> {
    return this.withRetry(() =>
      this.withClient(async (client) => {
        await client.query(this.beginSql(client, role, tenantId, begin));
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      }),
    );
  }
}

const MAX_TRANSACTION_TRIES = 4;

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
