import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { FlowLogTrafficType } from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { FUNCTIONS } from '../../functions/routes.ts';
import {
  assertWithinAccountConcurrency,
  type ConnectionBudget,
  concurrencyWithin,
  connectionsByConsumer,
} from './connection-budget.ts';

/**
 * Per-environment settings, chosen with `-c env=<name>` (cdk.json defaults to `dev`).
 * Everything that differs between environments lives here, so constructs stay environment-blind.
 */
export interface EnvironmentSettings {
  readonly name: EnvironmentName;
  readonly network: {
    /** NAT gateways are the largest fixed cost of a small VPC: one is enough outside production. */
    readonly natGateways: number;
    readonly flowLogTraffic: FlowLogTrafficType;
  };
  /**
   * The database connection budget (connection-budget.ts, ADR 0013): the planner's and broadcaster's
   * budgets and the reserved concurrency below are derived from it, never set by hand.
   */
  readonly connectionBudget: ConnectionBudget;
  /** the account's Lambda concurrency quota the reservations must fit (Lambda keeps 100 unreserved) */
  readonly lambdaAccountConcurrency: number;
  readonly database: {
    readonly minCapacityAcu: number;
    readonly maxCapacityAcu: number;
    /** serverless v2 readers that scale with the writer, for a fast failover */
    readonly readers: number;
    readonly deletionProtection: boolean;
    readonly backupRetention: Duration;
    readonly secretRotation: Duration;
  };
  readonly api: {
    readonly throttlingRateLimit: number;
    readonly throttlingBurstLimit: number;
  };
  readonly planner: {
    /**
     * Database connections the planner may hold at once, across all of its containers: its share of the
     * RDS Proxy's pool, so a burst of submissions cannot starve the API and the tick of connections. The
     * maximum concurrency of its SQS event source is derived from it (infra/lib/planner.ts).
     */
    readonly connectionBudget: number;
  };
  readonly broadcaster: {
    /**
     * Database connections the broadcaster may hold at once across its containers (like the planner's):
     * the maximum concurrency of its `fanout` event source is derived from it (infra/lib/broadcaster.ts).
     */
    readonly connectionBudget: number;
  };
  readonly eventBus: {
    /** the name other services' rules and cross-account policies refer to */
    readonly name: string;
  };
  readonly exports: {
    /** export bundles move to Infrequent Access after this many days */
    readonly infrequentAccessAfter: Duration;
    /** and expire after this many (a signed bundle can always be produced again from the audit log) */
    readonly expireAfter: Duration;
  };
  readonly alarms: {
    /** API latency (p99 of API Gateway's Latency) above which the latency alarm fires */
    readonly apiLatencyP99: Duration;
    /** dead letters per 5 minutes that count as growth worth a page */
    readonly deadLetteredPer5Minutes: number;
    /** expired leases per 5 minutes (workers dying or lease times too short) */
    readonly leasesExpiredPer5Minutes: number;
    /** event commit → WebSocket delivery, p99 */
    readonly streamLagP99: Duration;
  };
  readonly logRetention: RetentionDays;
  /** applied to stateful resources: the database cluster and log groups */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Reserved concurrency per function family; undefined leaves the function unreserved.
   * New accounts have a concurrency quota of 10 and must keep 10 unreserved, so dev reserves nothing.
   */
  readonly reservedConcurrency: {
    readonly restFunction: number | undefined;
    readonly webSocketFunction: number | undefined;
    readonly tick: number | undefined;
    /**
     * The streaming (SSE) function: each open stream holds one execution for up to 15 minutes, so this
     * caps concurrent SSE clients, apart from the other REST functions.
     */
    readonly streamFunction: number | undefined;
  };
}

export type EnvironmentName = 'dev' | 'prod';

/** REST functions that answer one buffered request per container (the streaming one is sized apart). */
const BUFFERED_REST_FUNCTIONS = Object.values(FUNCTIONS).filter(
  (fn) => !('streaming' in fn && fn.streaming),
).length;

/** What the proxy's pool is split into, per family (ADR 0013). */
const SHARES: ConnectionBudget['shares'] = {
  rest: 0.5,
  stream: 0.1,
  webSocket: 0.1,
  tick: 0.02,
  planner: 0.1,
  broadcaster: 0.1,
};

const DEV_BUDGET: ConnectionBudget = { maxCapacityAcu: 4, proxyMaxConnectionsPercent: 90, shares: SHARES };
const PROD_BUDGET: ConnectionBudget = { maxCapacityAcu: 32, proxyMaxConnectionsPercent: 90, shares: SHARES };

/** Reserved concurrency derived from a budget; the tick runs one at a time whatever the budget. */
function reservedConcurrencyFrom(budget: ConnectionBudget, accountConcurrency: number) {
  const reserved = {
    restFunction: concurrencyWithin(budget, 'rest', BUFFERED_REST_FUNCTIONS),
    webSocketFunction: concurrencyWithin(budget, 'webSocket', 3),
    tick: 1,
    streamFunction: concurrencyWithin(budget, 'stream'),
  };
  assertWithinAccountConcurrency(
    [
      reserved.restFunction * BUFFERED_REST_FUNCTIONS,
      reserved.webSocketFunction * 3,
      reserved.tick,
      reserved.streamFunction,
    ],
    accountConcurrency,
  );
  return reserved;
}

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentSettings>> = {
  dev: {
    name: 'dev',
    connectionBudget: DEV_BUDGET,
    lambdaAccountConcurrency: 10,
    network: { natGateways: 1, flowLogTraffic: FlowLogTrafficType.REJECT },
    database: {
      minCapacityAcu: 0.5,
      maxCapacityAcu: DEV_BUDGET.maxCapacityAcu,
      readers: 0,
      deletionProtection: false,
      backupRetention: Duration.days(1),
      secretRotation: Duration.days(30),
    },
    api: { throttlingRateLimit: 50, throttlingBurstLimit: 100 },
    planner: { connectionBudget: connectionsByConsumer(DEV_BUDGET).planner },
    broadcaster: { connectionBudget: connectionsByConsumer(DEV_BUDGET).broadcaster },
    eventBus: { name: 'jobengine-dev' },
    exports: { infrequentAccessAfter: Duration.days(30), expireAfter: Duration.days(90) },
    alarms: {
      apiLatencyP99: Duration.seconds(3),
      deadLetteredPer5Minutes: 50,
      leasesExpiredPer5Minutes: 100,
      streamLagP99: Duration.seconds(10),
    },
    logRetention: RetentionDays.TWO_WEEKS,
    removalPolicy: RemovalPolicy.DESTROY,
    reservedConcurrency: {
      restFunction: undefined,
      webSocketFunction: undefined,
      tick: undefined,
      streamFunction: undefined,
    },
  },
  prod: {
    name: 'prod',
    connectionBudget: PROD_BUDGET,
    // a production account's raised quota; the derived reservations are checked against it
    lambdaAccountConcurrency: 5000,
    network: { natGateways: 2, flowLogTraffic: FlowLogTrafficType.ALL },
    database: {
      minCapacityAcu: 2,
      maxCapacityAcu: PROD_BUDGET.maxCapacityAcu,
      readers: 1,
      deletionProtection: true,
      backupRetention: Duration.days(14),
      secretRotation: Duration.days(30),
    },
    api: { throttlingRateLimit: 500, throttlingBurstLimit: 1000 },
    planner: { connectionBudget: connectionsByConsumer(PROD_BUDGET).planner },
    broadcaster: { connectionBudget: connectionsByConsumer(PROD_BUDGET).broadcaster },
    eventBus: { name: 'jobengine-prod' },
    exports: { infrequentAccessAfter: Duration.days(30), expireAfter: Duration.days(400) },
    alarms: {
      apiLatencyP99: Duration.seconds(2),
      deadLetteredPer5Minutes: 20,
      leasesExpiredPer5Minutes: 50,
      streamLagP99: Duration.seconds(5),
    },
    logRetention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    // from the connection budget; one tick at a time (a slow tick must not overlap the next one)
    reservedConcurrency: reservedConcurrencyFrom(PROD_BUDGET, 5000),
  },
};

export function settingsFor(name: unknown): EnvironmentSettings {
  if (typeof name === 'string' && Object.hasOwn(ENVIRONMENTS, name)) {
    return ENVIRONMENTS[name as EnvironmentName];
  }
  throw new Error(
    `Unknown environment ${JSON.stringify(name)} (context key "env"); expected one of: ${Object.keys(ENVIRONMENTS).join(', ')}. ` +
      'Pass it as `cdk synth -c env=<name>`.',
  );
}

/**
 * How the functions verify bearer tokens (AUTH_ISSUER, AUTH_AUDIENCE, and AUTH_JWKS_URL or AUTH_JWKS).
 * Deployment-specific, so it comes from context rather than code, keyed per environment
 * (`auth:<env>:issuer`, ...) so that one environment's values can never leak into another's. cdk.json
 * holds dev's placeholders; prod has none and fails synthesis until they are given.
 */
export interface AuthSettings {
  readonly issuer: string;
  readonly audience: string;
  /** the issuer's JSON Web Key Set, fetched and cached by the functions (https only) ... */
  readonly jwksUrl?: string;
  /** ... or the key set itself, as JSON text (it counts against Lambda's 4 KB of environment variables) */
  readonly jwks?: string;
}

export type AuthContextField = keyof AuthSettings;

export function authContextKey(environment: EnvironmentName, field: AuthContextField): string {
  return `auth:${environment}:${field}`;
}

/** Reads and checks the auth settings of an environment from context; throws naming the missing keys. */
export function authSettingsFromContext(
  environment: EnvironmentName,
  tryGetContext: (key: string) => unknown,
): AuthSettings {
  const read = (field: AuthContextField): string | undefined => {
    const value: unknown = tryGetContext(authContextKey(environment, field));
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') {
      throw new Error(`Context "${authContextKey(environment, field)}" must be a string.`);
    }
    return value;
  };
  const [issuer, audience, jwksUrl, jwks] = (['issuer', 'audience', 'jwksUrl', 'jwks'] as const).map(read);
  if (!issuer || !audience || (jwksUrl === undefined) === (jwks === undefined)) {
    const key = (field: AuthContextField) => authContextKey(environment, field);
    throw new Error(
      `Environment "${environment}" needs its token issuer in context: ${key('issuer')}, ${key('audience')} and ` +
        `exactly one of ${key('jwksUrl')} (https URL) or ${key('jwks')} (JWKS JSON). For example: ` +
        `cdk synth -c env=${environment} -c ${key('issuer')}=https://login.example.com/ ` +
        `-c ${key('audience')}=jobengine -c ${key('jwksUrl')}=https://login.example.com/.well-known/jwks.json`,
    );
  }
  if (jwksUrl !== undefined && !URL.canParse(jwksUrl)) {
    throw new Error(`Context "${authContextKey(environment, 'jwksUrl')}" is not a URL: ${jwksUrl}`);
  }
  if (jwksUrl !== undefined && new URL(jwksUrl).protocol !== 'https:') {
    throw new Error(`Context "${authContextKey(environment, 'jwksUrl')}" must be an https URL: ${jwksUrl}`);
  }
  if (jwks !== undefined && !isKeySet(jwks)) {
    throw new Error(
      `Context "${authContextKey(environment, 'jwks')}" must be a JSON Web Key Set ({"keys": [...]})`,
    );
  }
  return {
    issuer,
    audience,
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    ...(jwks === undefined ? {} : { jwks }),
  };
}

function isKeySet(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return (
      typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { keys?: unknown }).keys)
    );
  } catch {
    return false;
  }
}
