import { Duration } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Queue, QueueEncryption, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Lambda's guidance for SQS event sources: visibility timeout at least six times the function timeout */
export const VISIBILITY_TIMEOUT_PER_CONSUMER_TIMEOUT = 6;

/** A queue that only holds failed messages: encrypted, TLS-only, kept for the SQS maximum of 14 days. */
export class DeadLetterQueue extends Queue {
  constructor(scope: Construct, id: string, props: QueueProps = {}) {
    super(scope, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      ...props,
    });
  }
}

export interface QueueWithDeadLetterProps {
  /** the timeout of the function that consumes the queue */
  readonly consumerTimeout: Duration;
  /** receives before a message moves to the dead-letter queue; @default 5 */
  readonly maxReceiveCount?: number;
  /** overrides for the queue */
  readonly queueProps?: QueueProps;
  /** overrides for the dead-letter queue */
  readonly deadLetterQueueProps?: QueueProps;
}

/** An encrypted, TLS-only work queue with its dead-letter queue, sized for a Lambda consumer. */
export class QueueWithDeadLetter extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: QueueWithDeadLetterProps) {
    super(scope, id);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetterQueue', props.deadLetterQueueProps);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(
        props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_PER_CONSUMER_TIMEOUT,
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      ...props.queueProps,
    });
  }
}

export interface QueuesProps {
  /** the timeout of the planner and broadcaster functions that consume the queues */
  readonly consumerTimeout: Duration;
  /** @default 5 */
  readonly maxReceiveCount?: number;
}

/**
 * The two work queues: `plan` (submitted runs to expand into jobs) and `fanout` (committed events to deliver
 * to WebSocket connections). Both are re-derivable from PostgreSQL, so a lost message costs latency only.
 * Send rights and queue URLs are granted per producer by the stack, never to every function.
 */
export class Queues extends Construct {
  readonly plan: QueueWithDeadLetter;
  readonly fanout: QueueWithDeadLetter;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    this.plan = new QueueWithDeadLetter(this, 'Plan', props);
    this.fanout = new QueueWithDeadLetter(this, 'Fanout', props);
  }

  /**
   * What `POST /api/v1/queues/{name}:redrive` needs (ADR 0013), for both pairs: on each DLQ, start a move
   * task or receive and delete (the fallback) and read its attributes; on each work queue, send and read
   * its attributes (the move task's destination ARN). Plus the four URLs in the environment.
   */
  grantRedrive(grantee: IGrantable & { addEnvironment(key: string, value: string): unknown }): void {
    for (const [name, pair] of [
      ['PLAN', this.plan],
      ['FANOUT', this.fanout],
    ] as const) {
      pair.deadLetterQueue.grant(
        grantee,
        'sqs:StartMessageMoveTask',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
      );
      pair.queue.grant(grantee, 'sqs:SendMessage', 'sqs:GetQueueAttributes');
      grantee.addEnvironment(`${name}_QUEUE_URL`, pair.queue.queueUrl);
      grantee.addEnvironment(`${name}_DLQ_URL`, pair.deadLetterQueue.queueUrl);
    }
  }
}
