/**
 * The database connection budget, in one place (ADR 0013): how many connections Aurora accepts, how many
 * the RDS Proxy may open of those, how they are shared among the function families, and so how many
 * containers of each family may run at once - reserved concurrency for functions behind API Gateway and
 * EventBridge, event-source maximum concurrency for queue consumers.
 *
 * Worst case assumed throughout: every client connection to the proxy holds a database connection (a
 * pinned session). Transaction-level pooling makes the real use lower, never higher.
 */

/** Aurora PostgreSQL's default `max_connections`: LEAST(DBInstanceClassMemory / 9531392, 5000). */
export const AURORA_BYTES_PER_CONNECTION = 9_531_392;
export const AURORA_MAX_CONNECTIONS_CAP = 5000;
/** An Aurora capacity unit is about 2 GiB of memory; Serverless v2 sizes max_connections from the maximum ACU. */
export const BYTES_PER_ACU = 2 * 1024 ** 3;
/** Lambda keeps this much of an account's concurrency unreserved, always. */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/** Who holds connections, each family sized by its share of the proxy's pool. */
export type ConnectionConsumer = 'rest' | 'stream' | 'webSocket' | 'tick' | 'planner' | 'broadcaster';

/**
 * Connections one container of a family holds at most: its pool (DB_POOL_MAX). A REST request runs its
 * transactions one after another (idempotency record, then the operation), the stream reads the event log
 * only, the tick runs its tasks in sequence, the planner plans a batch's runs one by one, and the
 * broadcaster delivers the tenants of a batch side by side (two suffice, see broadcaster.ts).
 */
export const CONNECTIONS_PER_CONTAINER: Readonly<Record<ConnectionConsumer, number>> = {
  rest: 2,
  stream: 1,
  webSocket: 1,
  tick: 2,
  planner: 1,
  broadcaster: 2,
};

export interface ConnectionBudget {
  /** the cluster's Serverless v2 maximum capacity */
  readonly maxCapacityAcu: number;
  /** RDS Proxy MaxConnectionsPercent: its pool as a share of max_connections; the rest stays for admin and rotation */
  readonly proxyMaxConnectionsPercent: number;
  /** each family's share of the proxy's pool; together at most 1 */
  readonly shares: Readonly<Record<ConnectionConsumer, number>>;
}

/** Aurora PostgreSQL's default max_connections at a Serverless v2 maximum capacity. */
export function auroraMaxConnections(maxCapacityAcu: number): number {
  if (!(maxCapacityAcu > 0)) throw new RangeError(`maxCapacityAcu must be positive, got ${maxCapacityAcu}`);
  return Math.min(
    AURORA_MAX_CONNECTIONS_CAP,
    Math.floor((maxCapacityAcu * BYTES_PER_ACU) / AURORA_BYTES_PER_CONNECTION),
  );
}

/** The connections the proxy may open to the database. */
export function proxyPoolConnections(budget: ConnectionBudget): number {
  const percent = budget.proxyMaxConnectionsPercent;
  if (!(percent >= 1 && percent <= 100)) {
    throw new RangeError(`proxyMaxConnectionsPercent must be within 1..100, got ${percent}`);
  }
  return Math.floor((auroraMaxConnections(budget.maxCapacityAcu) * percent) / 100);
}

/** Each family's connections: its share of the proxy's pool, rounded down. */
export function connectionsByConsumer(budget: ConnectionBudget): Record<ConnectionConsumer, number> {
  const total = Object.values(budget.shares).reduce((sum, share) => sum + share, 0);
  if (total > 1 + 1e-9 || Object.values(budget.shares).some((share) => share < 0)) {
    throw new RangeError(`connection shares must be non-negative and add up to at most 1, got ${total}`);
  }
  const pool = proxyPoolConnections(budget);
  const entries = Object.entries(budget.shares).map(([consumer, share]) => [
    consumer,
    Math.floor(pool * share),
  ]);
  return Object.fromEntries(entries) as Record<ConnectionConsumer, number>;
}

/**
 * How many containers of each of `functions` functions of a family may run at once within the family's
 * connections: connections / (connections per container × functions), rounded down, at least 1.
 */
export function concurrencyWithin(
  budget: ConnectionBudget,
  consumer: ConnectionConsumer,
  functions = 1,
): number {
  const connections = connectionsByConsumer(budget)[consumer];
  const concurrency = Math.floor(connections / (CONNECTIONS_PER_CONTAINER[consumer] * functions));
  if (concurrency < 1) {
    throw new RangeError(
      `${consumer}: ${connections} connections cannot give ${functions} function(s) one container each`,
    );
  }
  return concurrency;
}

/** Throws when the reservations leave the account less than Lambda's unreserved minimum. */
export function assertWithinAccountConcurrency(
  reserved: readonly number[],
  accountConcurrency: number,
): void {
  const total = reserved.reduce((sum, n) => sum + n, 0);
  if (total > accountConcurrency - LAMBDA_UNRESERVED_MINIMUM) {
    throw new RangeError(
      `reserved concurrency ${total} exceeds the account's ${accountConcurrency} less the ${LAMBDA_UNRESERVED_MINIMUM} Lambda keeps unreserved`,
    );
  }
}
