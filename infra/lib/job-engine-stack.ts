import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { FUNCTIONS, type FunctionName, ROUTES } from '../../functions/routes.ts';
import { AuditExports } from './audit-exports.ts';
import { JwtAuthorizer } from './authorizer.ts';
import { Broadcaster } from './broadcaster.ts';
import { CONNECTIONS_PER_CONTAINER } from './connection-budget.ts';
import { ConsoleSite } from './console.ts';
import { CoreLayer } from './core-layer.ts';
import { CursorSecret } from './cursor-secret.ts';
import { DATABASE_ROLES, Database } from './database.ts';
import { DomainEventBus } from './event-bus.ts';
import type { JobEngineFunction, JobEngineFunctionProps } from './job-engine-function.ts';
import { Migrations } from './migrations.ts';
import { Monitoring } from './monitoring.ts';
import { Network } from './network.ts';
import { Planner } from './planner.ts';
import { Queues } from './queues.ts';
import { RestApi } from './rest-api.ts';
import type { AuthSettings, EnvironmentSettings } from './settings.ts';
import { Ticks } from './ticks.ts';
import { WebSocketApi } from './websocket-api.ts';

/** the repository root: function entries and the core package are resolved from it */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The timeout the `plan` and `fanout` consumers (planner, broadcaster) are deployed with; the queues'
 * visibility timeout is derived from it.
 */
export const QUEUE_CONSUMER_TIMEOUT = Duration.seconds(30);

/**
 * The REST functions that send to the `plan` queue: run submission only. One-job runs (jobs) and replays
 * (deadletter) are planned inside their own transaction, and the tick re-plans in process.
 */
export const PLAN_QUEUE_PRODUCERS: readonly FunctionName[] = ['runs'];

/**
 * The REST functions that send fanout hints: every function serving a mutating route (the HTTP plumbing
 * hints after each successful mutation, ADR 0008). The WebSocket `$default` (subscribe), the planner, the
 * tick (its sweep) and the broadcaster (re-hints what its deadline cut short) send them too.
 */
export const FANOUT_QUEUE_REST_PRODUCERS: readonly FunctionName[] = [
  ...new Set(ROUTES.filter((route) => route.method !== 'GET').map((route) => route.fn)),
];

/**
 * Wiring a REST function needs beyond the shared runtime props, keyed by its name in FUNCTIONS and applied
 * when a function of that name exists - so a function another change adds (`audit`, which builds export
 * bundles) is wired the moment it appears in the table, and nothing is granted to a function that is not.
 */
export const FUNCTION_WIRING: Readonly<
  Record<string, (fn: JobEngineFunction, stack: JobEngineStack) => void>
> = {
  // the audit export code reads AUDIT_EXPORT_BUCKET and AUDIT_SIGNING_KMS_KEY_ID
  audit: (fn, stack) => stack.auditExports.grantExporter(fn),
  // POST /api/v1/queues/{name}:redrive
  queues: (fn, stack) => stack.queues.grantRedrive(fn),
};

export interface JobEngineStackProps extends StackProps {
  readonly settings: EnvironmentSettings;
  /** the token issuer the functions trust (see `authSettingsFromContext`) */
  readonly auth: AuthSettings;
  /** an SNS topic every alarm notifies (context `alarms:<env>:topicArn`); none: console only */
  readonly alarmTopicArn?: string;
  /** @default PROJECT_ROOT */
  readonly projectRoot?: string;
}

/** The whole control plane of one environment. */
export class JobEngineStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly queues: Queues;
  readonly coreLayer: CoreLayer;
  readonly cursorSecret: CursorSecret;
  readonly eventBus: DomainEventBus;
  readonly migrations: Migrations;
  readonly authorizer: JwtAuthorizer;
  readonly restApi: RestApi;
  readonly webSocketApi: WebSocketApi;
  readonly console: ConsoleSite;
  readonly ticks: Ticks;
  readonly planner: Planner;
  readonly broadcaster: Broadcaster;
  readonly auditExports: AuditExports;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: JobEngineStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const projectRoot = props.projectRoot ?? PROJECT_ROOT;
    Tags.of(this).add('jobengine:environment', settings.name);

    this.network = new Network(this, 'Network', {
      natGateways: settings.network.natGateways,
      flowLogTraffic: settings.network.flowLogTraffic,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    this.database = new Database(this, 'Database', {
      vpc: this.network.vpc,
      minCapacityAcu: settings.database.minCapacityAcu,
      maxCapacityAcu: settings.database.maxCapacityAcu,
      readers: settings.database.readers,
      deletionProtection: settings.database.deletionProtection,
      backupRetention: settings.database.backupRetention,
      secretRotation: settings.database.secretRotation,
      removalPolicy: settings.removalPolicy,
      proxyMaxConnectionsPercent: settings.connectionBudget.proxyMaxConnectionsPercent,
    });
    this.database.allowClientsFrom(this.network.functionSecurityGroup);
    this.queues = new Queues(this, 'Queues', { consumerTimeout: QUEUE_CONSUMER_TIMEOUT });
    this.coreLayer = new CoreLayer(this, 'CoreLayer', { projectRoot });
    this.cursorSecret = new CursorSecret(this, 'CursorSecret', { removalPolicy: settings.removalPolicy });
    this.auditExports = new AuditExports(this, 'AuditExports', {
      infrequentAccessAfter: settings.exports.infrequentAccessAfter,
      expireAfter: settings.exports.expireAfter,
    });

    const deploymentProps = {
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      layers: [this.coreLayer],
      vpc: this.network.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.network.functionSecurityGroup],
      logGroupRetention: settings.logRetention,
      logGroupRemovalPolicy: settings.removalPolicy,
    } satisfies Partial<JobEngineFunctionProps>;
    const databaseEnvironment = {
      POWERTOOLS_SERVICE_NAME: 'jobengine',
      ...this.database.connectionEnvironment,
      DB_APP_ROLE: DATABASE_ROLES.app,
    };
    // what the core's runtime reads at cold start (layers/core/src/config.ts)
    const runtimeProps = {
      ...deploymentProps,
      environment: {
        ...databaseEnvironment,
        ...this.cursorSecret.environment,
        ...authEnvironment(props.auth),
      },
    } satisfies Partial<JobEngineFunctionProps>;
    // for the functions whose work spans tenants: tick, planner, WebSocket connections
    const systemProps = {
      ...runtimeProps,
      environment: { ...runtimeProps.environment, DB_SYSTEM_ROLE: DATABASE_ROLES.system },
    } satisfies Partial<JobEngineFunctionProps>;

    this.migrations = new Migrations(this, 'Migrations', {
      projectRoot,
      functionProps: {
        ...deploymentProps,
        environment: { ...databaseEnvironment, DB_SYSTEM_ROLE: DATABASE_ROLES.system },
      },
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    // the proxy and its target must be up before the migration connects through them
    this.migrations.resource.node.addDependency(this.database);
    this.database.grantConnect(this.migrations.function);

    // outside the VPC and without database variables: it verifies tokens only (ADR 0009)
    this.authorizer = new JwtAuthorizer(this, 'Authorizer', {
      projectRoot,
      functionProps: {
        projectRoot,
        depsLockFilePath: deploymentProps.depsLockFilePath,
        layers: [this.coreLayer],
        logGroupRetention: settings.logRetention,
        logGroupRemovalPolicy: settings.removalPolicy,
        environment: { POWERTOOLS_SERVICE_NAME: 'jobengine', ...authEnvironment(props.auth) },
      },
    });
    this.restApi = new RestApi(this, 'RestApi', {
      projectRoot,
      routes: ROUTES,
      functions: FUNCTIONS,
      authorizer: this.authorizer.authorizer,
      functionProps: {
        ...runtimeProps,
        environment: { ...runtimeProps.environment, DB_POOL_MAX: String(CONNECTIONS_PER_CONTAINER.rest) },
        reservedConcurrentExecutions: settings.reservedConcurrency.restFunction,
      },
      streamingFunctionProps: { reservedConcurrentExecutions: settings.reservedConcurrency.streamFunction },
      throttlingRateLimit: settings.api.throttlingRateLimit,
      throttlingBurstLimit: settings.api.throttlingBurstLimit,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      projectRoot,
      functionProps: {
        ...systemProps,
        environment: { ...systemProps.environment, DB_POOL_MAX: String(CONNECTIONS_PER_CONTAINER.webSocket) },
        reservedConcurrentExecutions: settings.reservedConcurrency.webSocketFunction,
      },
      throttlingRateLimit: settings.api.throttlingRateLimit,
      throttlingBurstLimit: settings.api.throttlingBurstLimit,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    this.ticks = new Ticks(this, 'Ticks', {
      projectRoot,
      functionProps: {
        ...systemProps,
        environment: { ...systemProps.environment, DB_POOL_MAX: String(CONNECTIONS_PER_CONTAINER.tick) },
        reservedConcurrentExecutions: settings.reservedConcurrency.tick,
      },
    });
    // The outbox publisher: only the tick puts domain events on the bus.
    this.eventBus = new DomainEventBus(this, 'EventBus', { eventBusName: settings.eventBus.name });
    this.eventBus.grantPublish(this.ticks.function);
    this.planner = new Planner(this, 'Planner', {
      projectRoot,
      queue: this.queues.plan.queue,
      timeout: QUEUE_CONSUMER_TIMEOUT,
      connectionBudget: settings.planner.connectionBudget,
      functionProps: systemProps,
    });
    this.broadcaster = new Broadcaster(this, 'Broadcaster', {
      projectRoot,
      queue: this.queues.fanout.queue,
      stage: this.webSocketApi.stage,
      timeout: QUEUE_CONSUMER_TIMEOUT,
      connectionBudget: settings.broadcaster.connectionBudget,
      functionProps: runtimeProps,
    });

    for (const fn of this.functions) {
      this.database.grantConnect(fn);
      this.cursorSecret.grantRead(fn);
    }
    for (const name of PLAN_QUEUE_PRODUCERS) {
      const fn = this.restApi.functions[name]!;
      fn.addEnvironment('PLAN_QUEUE_URL', this.queues.plan.queue.queueUrl);
      this.queues.plan.queue.grantSendMessages(fn);
    }
    for (const fn of this.fanoutProducers) {
      fn.addEnvironment('FANOUT_QUEUE_URL', this.queues.fanout.queue.queueUrl);
      this.queues.fanout.queue.grantSendMessages(fn);
    }
    for (const [name, wire] of Object.entries(FUNCTION_WIRING)) {
      const fn = this.restApi.functions[name];
      if (fn) wire(fn, this);
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      functions: {
        ...Object.fromEntries(
          Object.entries(this.restApi.functions).map(([name, fn]) => [`rest-${name}`, fn]),
        ),
        ...Object.fromEntries(
          Object.entries(this.webSocketApi.functions).map(([name, fn]) => [`ws-${name}`, fn]),
        ),
        tick: this.ticks.function,
        planner: this.planner.function,
        broadcaster: this.broadcaster.function,
        authorizer: this.authorizer.function,
      },
      queues: { plan: this.queues.plan.queue, fanout: this.queues.fanout.queue },
      deadLetterQueues: {
        plan: this.queues.plan.deadLetterQueue,
        fanout: this.queues.fanout.deadLetterQueue,
        tick: this.ticks.deadLetterQueue,
      },
      restApi: this.restApi.api,
      dashboardName: `JobEngine-${settings.name}`,
      apiLatencyP99: settings.alarms.apiLatencyP99,
      deadLetteredPer5Minutes: settings.alarms.deadLetteredPer5Minutes,
      leasesExpiredPer5Minutes: settings.alarms.leasesExpiredPer5Minutes,
      streamLagP99: settings.alarms.streamLagP99,
      ...(props.alarmTopicArn
        ? { alarmTopic: Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) }
        : {}),
    });

    // The operator Console: static assets on S3 behind CloudFront, which also proxies the REST API so the
    // Console calls its own origin.
    this.console = new ConsoleSite(this, 'Console', {
      projectRoot,
      restApi: this.restApi.api,
      webSocketUrl: this.webSocketApi.url,
    });

    new CfnOutput(this, 'RestApiUrl', { value: this.restApi.api.url });
    new CfnOutput(this, 'ConsoleUrl', { value: this.console.url });
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketApi.url });
    new CfnOutput(this, 'PlanQueueUrl', { value: this.queues.plan.queue.queueUrl });
    new CfnOutput(this, 'FanoutQueueUrl', { value: this.queues.fanout.queue.queueUrl });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.eventBusName });
    new CfnOutput(this, 'EventBusArn', { value: this.eventBus.eventBusArn });
    new CfnOutput(this, 'ExportBucketName', { value: this.auditExports.bucket.bucketName });
    new CfnOutput(this, 'SigningKeyArn', { value: this.auditExports.signingKey.keyArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }

  /** every function that runs the core's runtime (the migration function only migrates) */
  get functions(): JobEngineFunction[] {
    return [
      ...Object.values(this.restApi.functions),
      ...Object.values(this.webSocketApi.functions),
      this.ticks.function,
      this.planner.function,
      this.broadcaster.function,
    ];
  }

  /** the functions that send fanout hints (FANOUT_QUEUE_REST_PRODUCERS and the others named there) */
  get fanoutProducers(): JobEngineFunction[] {
    return [
      ...FANOUT_QUEUE_REST_PRODUCERS.map((name) => this.restApi.functions[name]!),
      this.webSocketApi.functions.default,
      this.planner.function,
      this.ticks.function,
      this.broadcaster.function,
    ];
  }
}

/** the core's token-verification variables */
function authEnvironment(auth: AuthSettings): Record<string, string> {
  return {
    AUTH_ISSUER: auth.issuer,
    AUTH_AUDIENCE: auth.audience,
    ...(auth.jwksUrl === undefined ? {} : { AUTH_JWKS_URL: auth.jwksUrl }),
    ...(auth.jwks === undefined ? {} : { AUTH_JWKS: auth.jwks }),
  };
}
