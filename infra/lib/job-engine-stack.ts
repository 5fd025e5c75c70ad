import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { FUNCTIONS, ROUTES } from '../../functions/routes.ts';
import { CoreLayer } from './core-layer.ts';
import { Database } from './database.ts';
import type { JobEngineFunction, JobEngineFunctionProps } from './job-engine-function.ts';
import { Network } from './network.ts';
import { Queues } from './queues.ts';
import { RestApi } from './rest-api.ts';
import type { EnvironmentSettings } from './settings.ts';
import { Ticks } from './ticks.ts';
import { WebSocketApi } from './websocket-api.ts';

/** the repository root: function entries and the core package are resolved from it */
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The timeout the `plan` and `fanout` consumers (planner, broadcaster) are deployed with; the queues'
 * visibility timeout is derived from it.
 */
export const QUEUE_CONSUMER_TIMEOUT = Duration.seconds(30);

export interface JobEngineStackProps extends StackProps {
  readonly settings: EnvironmentSettings;
  /** @default PROJECT_ROOT */
  readonly projectRoot?: string;
}

/** The whole control plane of one environment. */
export class JobEngineStack extends Stack {
  readonly network: Network;
  readonly database: Database;
  readonly queues: Queues;
  readonly coreLayer: CoreLayer;
  readonly restApi: RestApi;
  readonly webSocketApi: WebSocketApi;
  readonly ticks: Ticks;

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
    });
    this.database.allowClientsFrom(this.network.functionSecurityGroup);
    this.queues = new Queues(this, 'Queues', { consumerTimeout: QUEUE_CONSUMER_TIMEOUT });
    this.coreLayer = new CoreLayer(this, 'CoreLayer', { projectRoot });

    const functionProps = {
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      layers: [this.coreLayer],
      vpc: this.network.vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.network.functionSecurityGroup],
      logGroupRetention: settings.logRetention,
      logGroupRemovalPolicy: settings.removalPolicy,
      environment: { POWERTOOLS_SERVICE_NAME: 'jobengine', ...this.database.connectionEnvironment },
    } satisfies Partial<JobEngineFunctionProps>;
    // the API and the tick produce queue messages (directly or by sweeping the outbox)
    const producerProps = {
      ...functionProps,
      environment: { ...functionProps.environment, ...this.queues.environment },
    } satisfies Partial<JobEngineFunctionProps>;

    this.restApi = new RestApi(this, 'RestApi', {
      projectRoot,
      routes: ROUTES,
      functions: FUNCTIONS,
      functionProps: {
        ...producerProps,
        reservedConcurrentExecutions: settings.reservedConcurrency.restFunction,
      },
      throttlingRateLimit: settings.api.throttlingRateLimit,
      throttlingBurstLimit: settings.api.throttlingBurstLimit,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    this.webSocketApi = new WebSocketApi(this, 'WebSocketApi', {
      projectRoot,
      functionProps: {
        ...functionProps,
        reservedConcurrentExecutions: settings.reservedConcurrency.webSocketFunction,
      },
      throttlingRateLimit: settings.api.throttlingRateLimit,
      throttlingBurstLimit: settings.api.throttlingBurstLimit,
      logRetention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    this.ticks = new Ticks(this, 'Ticks', {
      projectRoot,
      functionProps: { ...producerProps, reservedConcurrentExecutions: settings.reservedConcurrency.tick },
    });

    for (const fn of this.functions) {
      this.database.grantConnect(fn);
    }
    for (const fn of [...Object.values(this.restApi.functions), this.ticks.function]) {
      this.queues.grantSend(fn);
    }

    new CfnOutput(this, 'RestApiUrl', { value: this.restApi.api.url });
    new CfnOutput(this, 'WebSocketUrl', { value: this.webSocketApi.url });
    new CfnOutput(this, 'PlanQueueUrl', { value: this.queues.plan.queue.queueUrl });
    new CfnOutput(this, 'FanoutQueueUrl', { value: this.queues.fanout.queue.queueUrl });
  }

  get functions(): JobEngineFunction[] {
    return [
      ...Object.values(this.restApi.functions),
      ...Object.values(this.webSocketApi.functions),
      this.ticks.function,
    ];
  }
}
