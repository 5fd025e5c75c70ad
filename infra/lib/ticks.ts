import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { JobEngineFunction, type JobEngineFunctionProps } from './job-engine-function.ts';
import { DeadLetterQueue } from './queues.ts';

export interface TicksProps {
  readonly projectRoot: string;
  /** handler file, relative to the project root; @default 'functions/tick/handler.ts' */
  readonly entry?: string;
  /** layer, VPC, environment...; the tick defaults to a 50 s timeout, under its one-minute period */
  readonly functionProps?: Partial<JobEngineFunctionProps>;
  /** @default Schedule.rate(Duration.minutes(1)) */
  readonly schedule?: Schedule;
  /** @default 2 */
  readonly retryAttempts?: number;
}

/**
 * The minute tick: an EventBridge schedule invoking the function that fires due schedules, reaps expired
 * leases, releases throttled jobs and sweeps the outbox. A failed invocation is retried, then dead-lettered;
 * a missed tick is harmless because the next one sees the same due work in PostgreSQL.
 */
export class Ticks extends Construct {
  readonly function: JobEngineFunction;
  readonly rule: Rule;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: TicksProps) {
    super(scope, id);
    this.function = new JobEngineFunction(this, 'TickFunction', {
      timeout: Duration.seconds(50),
      ...props.functionProps,
      entry: join(props.projectRoot, props.entry ?? 'functions/tick/handler.ts'),
      description: 'minute tick: schedules, lease reaping, throttle release, outbox sweep, retention',
    });
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue');
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter queue: the one of the tick rule target.',
    });
    this.rule = new Rule(this, 'Rule', {
      description: 'JobEngine minute tick',
      schedule: props.schedule ?? Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(this.function, {
          retryAttempts: props.retryAttempts ?? 2,
          // older than a period, an event only repeats what the next tick does
          maxEventAge: Duration.minutes(1),
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
  }
}
