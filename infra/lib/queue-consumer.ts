import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';

/** the bounds SQS event sources accept for their maximum concurrency */
const EVENT_SOURCE_MAX_CONCURRENCY = { min: 2, max: 1000 } as const;

/** How many containers of a consumer may run at once without exceeding its database connection budget. */
export function maxConcurrencyWithin(
  consumer: string,
  connectionBudget: number,
  connectionsPerContainer: number,
): number {
  const concurrency = Math.floor(connectionBudget / connectionsPerContainer);
  if (concurrency < EVENT_SOURCE_MAX_CONCURRENCY.min) {
    throw new Error(
      `A ${consumer} connection budget of ${connectionBudget} allows ${concurrency} containers; an SQS event source needs at least ${EVENT_SOURCE_MAX_CONCURRENCY.min}.`,
    );
  }
  return Math.min(concurrency, EVENT_SOURCE_MAX_CONCURRENCY.max);
}

export interface QueueConsumerProps {
  readonly projectRoot: string;
  /** the queue it consumes */
  readonly queue: IQueue;
  /** the queue's consumer timeout: the function's timeout, from which the visibility timeout is derived */
  readonly timeout: Duration;
  /** connections the consumer may hold at once across its containers; bounds its concurrency */
  readonly connectionBudget: number;
  /** @default 10 */
  readonly batchSize?: number;
  /** layer, VPC, environment... */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
}

/** What a concrete consumer fixes: its name, handler, pool size and extra environment. */
export interface ConsumerDefinition {
  readonly name: string;
  readonly functionId: string;
  readonly entry: string;
  readonly description: string;
  readonly connectionsPerContainer: number;
  readonly environment?: Record<string, string>;
}

/**
 * An SQS consumer function: failed records are reported one by one (`batchItemFailures`), so one bad
 * record does not redeliver the whole batch, and the event source's maximum concurrency keeps the consumer
 * inside its share of database connections (each container's pool is DB_POOL_MAX).
 */
export class QueueConsumer extends Construct {
  readonly function: JobEngineFunction;
  readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: QueueConsumerProps, definition: ConsumerDefinition) {
    super(scope, id);
    this.maxConcurrency = maxConcurrencyWithin(
      definition.name,
      props.connectionBudget,
      definition.connectionsPerContainer,
    );
    this.function = new JobEngineFunction(this, definition.functionId, {
      ...props.functionProps,
      timeout: props.timeout,
      environment: {
        ...props.functionProps?.environment,
        ...definition.environment,
        DB_POOL_MAX: String(definition.connectionsPerContainer),
      },
      entry: join(props.projectRoot, definition.entry),
      description: definition.description,
    });
    this.function.addEventSource(
      new SqsEventSource(props.queue, {
        batchSize: props.batchSize ?? 10,
        reportBatchItemFailures: true,
        maxConcurrency: this.maxConcurrency,
      }),
    );
  }
}
