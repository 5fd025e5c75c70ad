import { join } from 'node:path';
import { type CfnElement, type Duration, Stack, Validations } from 'aws-cdk-lib';
import type { WebSocketStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';

/**
 * Connections one broadcaster container holds: the tenants of a batch are delivered side by side, each
 * reading its subscriptions' events, so a couple of connections keep it from queueing on its own pool.
 */
export const BROADCASTER_CONNECTIONS_PER_CONTAINER = 2;

/** the bounds SQS event sources accept for their maximum concurrency */
const EVENT_SOURCE_MAX_CONCURRENCY = { min: 2, max: 1000 } as const;

/** How many broadcaster containers may run at once without exceeding the connection budget. */
export function broadcasterMaxConcurrency(connectionBudget: number): number {
  const concurrency = Math.floor(connectionBudget / BROADCASTER_CONNECTIONS_PER_CONTAINER);
  if (concurrency < EVENT_SOURCE_MAX_CONCURRENCY.min) {
    throw new Error(
      `A broadcaster connection budget of ${connectionBudget} allows ${concurrency} containers; an SQS event source needs at least ${EVENT_SOURCE_MAX_CONCURRENCY.min}.`,
    );
  }
  return Math.min(concurrency, EVENT_SOURCE_MAX_CONCURRENCY.max);
}

export interface BroadcasterProps {
  readonly projectRoot: string;
  /** the `fanout` queue */
  readonly queue: IQueue;
  /** the WebSocket stage whose connections it posts to (its management API) */
  readonly stage: WebSocketStage;
  /** the queue's consumer timeout: the function's timeout, from which the visibility timeout is derived */
  readonly timeout: Duration;
  /** connections the broadcaster may hold at once across its containers; bounds its concurrency */
  readonly connectionBudget: number;
  /** handler file, relative to the project root; @default 'functions/broadcaster/handler.ts' */
  readonly entry?: string;
  /** @default 10 */
  readonly batchSize?: number;
  /** layer, VPC, environment... */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
}

/**
 * The `fanout` queue consumer: delivers committed events to WebSocket connections through the stage's
 * management API (ADR 0008). Hints are reported one by one (`batchItemFailures`); the event source's
 * maximum concurrency keeps it inside its share of database connections. It may post to, and delete,
 * the connections of its stage only.
 */
export class Broadcaster extends Construct {
  readonly function: JobEngineFunction;
  readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: BroadcasterProps) {
    super(scope, id);
    this.maxConcurrency = broadcasterMaxConcurrency(props.connectionBudget);
    this.function = new JobEngineFunction(this, 'BroadcasterFunction', {
      ...props.functionProps,
      timeout: props.timeout,
      environment: {
        ...props.functionProps?.environment,
        DB_POOL_MAX: String(BROADCASTER_CONNECTIONS_PER_CONTAINER),
        // https://{api}.execute-api.{region}.amazonaws.com/{stage}: where PostToConnection goes
        WS_MANAGEMENT_ENDPOINT: props.stage.callbackUrl,
      },
      entry: join(props.projectRoot, props.entry ?? 'functions/broadcaster/handler.ts'),
      description: 'fanout queue consumer: delivers committed events to WebSocket connections',
    });
    this.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.batchSize ?? 10,
        reportBatchItemFailures: true,
        maxConcurrency: this.maxConcurrency,
      }),
    );
    props.stage.grantManagementApiAccess(this.function);
    const stack = Stack.of(this);
    const apiLogicalId: string = stack.resolve(
      stack.getLogicalId(props.stage.api.node.defaultChild as CfnElement),
    );
    Validations.of(this.function).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiLogicalId}>/${props.stage.stageName}/*/@connections/*]`,
      reason:
        'Connection ids are only known at run time; the grant is limited to the connections of this API stage.',
    });
  }
}
