import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { FlowLogTrafficType } from 'aws-cdk-lib/aws-ec2';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

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
  };
}

export type EnvironmentName = 'dev' | 'prod';

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentSettings>> = {
  dev: {
    name: 'dev',
    network: { natGateways: 1, flowLogTraffic: FlowLogTrafficType.REJECT },
    database: {
      minCapacityAcu: 0.5,
      maxCapacityAcu: 4,
      readers: 0,
      deletionProtection: false,
      backupRetention: Duration.days(1),
      secretRotation: Duration.days(30),
    },
    api: { throttlingRateLimit: 50, throttlingBurstLimit: 100 },
    logRetention: RetentionDays.TWO_WEEKS,
    removalPolicy: RemovalPolicy.DESTROY,
    reservedConcurrency: { restFunction: undefined, webSocketFunction: undefined, tick: undefined },
  },
  prod: {
    name: 'prod',
    network: { natGateways: 2, flowLogTraffic: FlowLogTrafficType.ALL },
    database: {
      minCapacityAcu: 2,
      maxCapacityAcu: 32,
      readers: 1,
      deletionProtection: true,
      backupRetention: Duration.days(14),
      secretRotation: Duration.days(30),
    },
    api: { throttlingRateLimit: 500, throttlingBurstLimit: 1000 },
    logRetention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    // one tick at a time: a slow tick must not overlap the next one
    reservedConcurrency: { restFunction: 100, webSocketFunction: 50, tick: 1 },
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
