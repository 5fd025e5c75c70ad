import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IConnectable, type IVpc, Port, SubnetType } from 'aws-cdk-lib/aws-ec2';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import {
  AuroraPostgresEngineVersion,
  ClusterInstance,
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
  type DatabaseClusterProps,
  type DatabaseProxy,
} from 'aws-cdk-lib/aws-rds';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The NOLOGIN roles the first migration creates (migrations/1_foundation.sql). Each transaction switches to
 * one with SET LOCAL ROLE, which works because the migration step grants both to the functions' login user.
 */
export const DATABASE_ROLES = {
  /** request handlers: one tenant per transaction (row-level security) */
  app: 'jobengine_app',
  /** tick, planner, WebSocket connections: the only role whose policies span tenants */
  system: 'jobengine_system',
} as const;

export interface DatabaseProps {
  readonly vpc: IVpc;
  /** @default 'jobengine' */
  readonly databaseName?: string;
  /** @default 0.5 */
  readonly minCapacityAcu?: number;
  /** @default 4 */
  readonly maxCapacityAcu?: number;
  /** serverless v2 readers in the writer's promotion tier; @default 0 */
  readonly readers?: number;
  /** @default true */
  readonly deletionProtection?: boolean;
  /** @default Duration.days(7) */
  readonly backupRetention?: Duration;
  /** @default Duration.days(30) */
  readonly secretRotation?: Duration;
  /** @default RemovalPolicy.SNAPSHOT */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * RDS Proxy MaxConnectionsPercent: the proxy's pool as a share of the cluster's max_connections
   * (connection-budget.ts); the rest stays for direct admin sessions and the rotation function.
   * @default 90
   */
  readonly proxyMaxConnectionsPercent?: number;
  /** overrides for the cluster */
  readonly clusterProps?: Partial<DatabaseClusterProps>;
}

/**
 * Aurora PostgreSQL Serverless v2 in isolated subnets, reached only through an RDS Proxy that requires TLS.
 * The master credentials live in Secrets Manager and rotate; storage is encrypted; IAM auth is on.
 * Network path: clients (see `allowClientsFrom`) → proxy → cluster, nothing else.
 */
export class Database extends Construct {
  readonly cluster: DatabaseCluster;
  readonly proxy: DatabaseProxy;
  readonly secret: ISecret;
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.databaseName = props.databaseName ?? 'jobengine';
    const isolated = { subnetType: SubnetType.PRIVATE_ISOLATED };

    this.cluster = new DatabaseCluster(this, 'Cluster', {
      // pinned: a major upgrade is a planned migration, never a side effect of a CDK upgrade
      engine: DatabaseClusterEngine.auroraPostgres({ version: AuroraPostgresEngineVersion.VER_17_9 }),
      vpc: props.vpc,
      vpcSubnets: isolated,
      credentials: Credentials.fromGeneratedSecret('jobengine_admin'),
      defaultDatabaseName: this.databaseName,
      writer: ClusterInstance.serverlessV2('Writer'),
      readers: Array.from({ length: props.readers ?? 0 }, (_, index) =>
        ClusterInstance.serverlessV2(`Reader${index + 1}`, { scaleWithWriter: true }),
      ),
      serverlessV2MinCapacity: props.minCapacityAcu ?? 0.5,
      serverlessV2MaxCapacity: props.maxCapacityAcu ?? 4,
      storageEncrypted: true,
      iamAuthentication: true,
      deletionProtection: props.deletionProtection ?? true,
      backup: { retention: props.backupRetention ?? Duration.days(7) },
      cloudwatchLogsExports: ['postgresql'],
      removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
      ...props.clusterProps,
    });
    if (props.deletionProtection === false) {
      Validations.of(this.cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Deletion protection is off only where the caller asks for a disposable environment (dev); prod keeps it on.',
      });
    }
    this.secret = this.cluster.secret!;
    this.cluster.addRotationSingleUser({ automaticallyAfter: props.secretRotation ?? Duration.days(30) });

    this.proxy = this.cluster.addProxy('Proxy', {
      vpc: props.vpc,
      vpcSubnets: isolated,
      secrets: [this.secret],
      requireTLS: true,
      maxConnectionsPercent: props.proxyMaxConnectionsPercent ?? 90,
      // a Lambda connection is short-lived: return idle client connections to the pool quickly
      idleClientTimeout: Duration.minutes(5),
    });
  }

  /** lets clients open connections to the proxy (the cluster itself accepts only the proxy) */
  allowClientsFrom(client: IConnectable): void {
    // an RDS Proxy for PostgreSQL always listens on 5432, whatever the cluster's port
    this.proxy.connections.allowFrom(client, Port.POSTGRES, 'JobEngine functions to the RDS Proxy');
  }

  /** read the credentials and connect through the proxy */
  grantConnect(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
    this.proxy.grantConnect(grantee);
  }

  /** the variables the core's Postgres adapter reads */
  get connectionEnvironment(): Record<string, string> {
    return {
      DATABASE_SECRET_ARN: this.secret.secretArn,
      DATABASE_PROXY_ENDPOINT: this.proxy.endpoint,
      DATABASE_NAME: this.databaseName,
    };
  }
}
