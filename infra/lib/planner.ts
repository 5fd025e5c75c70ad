import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';

/**
 * Connections one planner container holds: it plans the records of a batch one after another, each in one
 * transaction, so its pool (DB_POOL_MAX) never needs more than one.
 */
export const PLANNER_CONNECTIONS_PER_CONTAINER = 1;

/** the bounds SQS event sources accept for their maximum concurrency */
const EVENT_SOURCE_MAX_CONCURRENCY = { min: 2, max: 1000 } as const;

/** How many planner containers may run at once without exceeding the connection budget. */
export function plannerMaxConcurrency(connectionBudget: number): number {
  const concurrency = Math.floor(connectionBudget / PLANNER_CONNECTIONS_PER_CONTAINER);
  if (concurrency < EVENT_SOURCE_MAX_CONCURRENCY.min) {
    throw new Error(
      `A planner connection budget of ${connectionBudget} allows ${concurrency} containers; an SQS event source needs at least ${EVENT_SOURCE_MAX_CONCURRENCY.min}.`,
    );
  }
  return Math.min(concurrency, EVENT_SOURCE_MAX_CONCURRENCY.max);
}

export interface PlannerProps {
  readonly projectRoot: string;
  /** the `plan` queue */
  readonly queue: IQueue;
  /** the queue's consumer timeout: the function's timeout, from which the visibility timeout is derived */
  readonly timeout: Duration;
  /** connections the planner may hold at once across its containers; bounds its concurrency */
  readonly connectionBudget: number;
  /** handler file, relative to the project root; @default 'functions/planner/handler.ts' */
  readonly entry?: string;
  /** @default 10 */
  readonly batchSize?: number;
  /** layer, VPC, environment... */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
}

/**
 * The `plan` queue consumer: expands submitted runs into jobs and edges. Failed records are reported one
 * by one (`batchItemFailures`), so one bad run does not redeliver the whole batch; the event source's
 * maximum concurrency keeps the planner inside its share of database connections.
 */
export class Planner extends Construct {
  readonly function: JobEngineFunction;
  readonly maxConcurrency: number;

  constructor(scope: Construct, id: string, props: PlannerProps) {
    super(scope, id);
    this.maxConcurrency = plannerMaxConcurrency(props.connectionBudget);
    this.function = new JobEngineFunction(this, 'PlannerFunction', {
      ...props.functionProps,
      timeout: props.timeout,
      environment: {
        ...props.functionProps?.environment,
        DB_POOL_MAX: String(PLANNER_CONNECTIONS_PER_CONTAINER),
      },
      entry: join(props.projectRoot, props.entry ?? 'functions/planner/handler.ts'),
      description: 'plan queue consumer: expands submitted runs into jobs and edges',
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
