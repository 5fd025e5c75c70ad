import { logger, type QueueMessage, type QueuePort } from '@jobengine/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './apigw-event.ts';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/**
 * The local stand-in for a Lambda SQS event source mapping: long-polls a queue, hands batches of up to 10
 * to the same handler function Lambda invokes, and deletes what the handler did not report as a batch
 * item failure. Failed messages reappear after the visibility timeout, as on AWS.
 */
export function consumeQueue(queue: QueuePort, queueName: string, handler: SqsHandler) {
  let running = true;
  const loop = (async () => {
    while (running) {
      let messages: QueueMessage[];
      try {
        messages = await queue.receive(10, 1);
      } catch (error) {
        logger.error('queue receive failed', { queue: queueName, error: error as Error });
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      if (messages.length === 0) continue;
      try {
        const response = await handler(
          { Records: messages.map((m) => toRecord(m, queueName)) },
          lambdaContext(`jobengine-${queueName}`),
        );
        const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        await queue.ack(messages.filter((m) => !failed.has(m.id)));
      } catch (error) {
        logger.error('queue handler failed; messages will be redelivered', {
          queue: queueName,
          error: error as Error,
        });
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

function toRecord(message: QueueMessage, queueName: string): SQSRecord {
  return {
    messageId: message.id,
    receiptHandle: message.receipt,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(message.receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:local:000000000000:jobengine-${queueName}`,
    awsRegion: 'local',
  };
}
