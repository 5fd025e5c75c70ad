import { GetQueueAttributesCommand, type SQSClient, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { AppError } from '../../domain/errors.ts';
import type { DeadLetterQueuePort } from '../../ports/queue.ts';
import { SqsQueue, type SqsQueueOptions } from './sqs-queue.ts';

/**
 * An SQS dead-letter queue and the source queue it redrives to. `startMoveTask` is SQS's own
 * StartMessageMoveTask; where the endpoint does not implement it (moto answers an HTML 500, other
 * emulators 400/501 with an unknown-operation code) it resolves null and the caller falls back to
 * receive/send/delete through the QueuePort operations this class inherits.
 */
export class SqsDeadLetterQueue extends SqsQueue implements DeadLetterQueuePort {
  constructor(
    client: SQSClient,
    queueUrl: string,
    private readonly sourceQueueUrl: string,
    options: SqsQueueOptions = {},
  ) {
    super(client, queueUrl, options);
  }

  async approximateSize(): Promise<number> {
    const { Attributes } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  async startMoveTask(): Promise<string | null> {
    const [sourceArn, destinationArn] = await Promise.all([
      this.queueArn(this.queueUrl),
      this.queueArn(this.sourceQueueUrl),
    ]);
    try {
      const { TaskHandle } = await this.client.send(
        new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }),
      );
      return TaskHandle ?? null;
    } catch (error) {
      if (isMoveTaskUnavailable(error)) return null;
      if (isMoveTaskRunning(error)) {
        throw new AppError(
          'CONFLICT',
          'a message move task is already running for this dead-letter queue; wait for it to finish',
          [],
          { cause: error },
        );
      }
      throw error;
    }
  }

  private async queueArn(queueUrl: string): Promise<string> {
    const { Attributes } = await this.client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const arn = Attributes?.QueueArn;
    if (!arn) throw new Error(`SQS returned no QueueArn for ${queueUrl}`);
    return arn;
  }
}

const UNKNOWN_OPERATION_CODES = new Set([
  'InvalidAction',
  'UnknownOperationException',
  'NotImplemented',
  'NotImplementedException',
  'UnsupportedOperation',
]);

/**
 * The endpoint does not implement StartMessageMoveTask: an unknown-operation error code, 404/501, or a
 * reply that is no SQS protocol at all (moto: an HTML error page, which the SDK fails to parse).
 */
export function isMoveTaskUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (isMoveTaskRunning(error)) return false;
  if (UNKNOWN_OPERATION_CODES.has(error.name)) return true;
  if (status === 404 || status === 501) return true;
  return error.name === 'SyntaxError' || /Deserialization error/i.test(error.message);
}

/** SQS refuses a second move task for the same source queue while one runs. */
function isMoveTaskRunning(error: unknown): boolean {
  return (
    error instanceof Error && /already (a )?(running|in progress|task)|task.*already/i.test(error.message)
  );
}
