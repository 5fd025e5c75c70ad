import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsClient } from '../../layers/core/src/adapters/aws/clients.ts';
import { SqsQueue } from '../../layers/core/src/adapters/aws/sqs-queue.ts';
import { StreamNotifier } from '../../layers/core/src/adapters/in-process/stream-notifier.ts';
import { FanoutService } from '../../layers/core/src/services/fanout.ts';
import { consumeQueue } from '../../local/queue-consumer.ts';
import { awsEmulator, createQueueWithDlq, useEmulator } from './emulator.ts';

const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/**
 * The `fanout` path over real SQS: hints sent by FanoutService (as every mutating function does), consumed
 * by the SQS event-source stand-in the local runtime uses with FANOUT_QUEUE_URL, acknowledged unless the
 * handler reports a batch item failure - and a hint that keeps failing is redriven to the fanout DLQ.
 */
describe.skipIf(awsEmulator === null)('fanout hints through an SQS emulator', () => {
  let client: SQSClient;
  const created: string[] = [];
  let queue: SqsQueue;
  let deadLetters: SqsQueue;

  beforeAll(async () => {
    useEmulator(awsEmulator!);
    client = sqsClient();
    const { queueUrl, dlqUrl } = await createQueueWithDlq(client, `jobengine-${RUN}-fanout`, {
      maxReceiveCount: 2,
      visibilityTimeoutSeconds: 1,
    });
    created.push(dlqUrl, queueUrl);
    queue = new SqsQueue(client, queueUrl);
    deadLetters = new SqsQueue(client, dlqUrl);
  });

  afterAll(async () => {
    await Promise.all(created.map((QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl }))));
    client.destroy();
  });

  it('delivers one hint per tenant to the broadcaster, and dead-letters a hint it keeps failing', async () => {
    const notifier = new StreamNotifier();
    const woken = notifier.wait('acme', 5_000);
    await new FanoutService({ queue, notifier }).hint(['acme', 'globex', 'acme']);
    await woken;

    const seen: string[] = [];
    const broadcaster = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const failures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const { tenantId } = JSON.parse(record.body) as { tenantId: string };
        seen.push(`${tenantId}#${record.attributes.ApproximateReceiveCount}`);
        if (tenantId === 'globex') failures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures: failures };
    };
    const consumer = consumeQueue(queue, 'fanout', broadcaster);
    const deadline = Date.now() + 15_000;
    let redriven: string[] = [];
    while (Date.now() < deadline && redriven.length === 0) {
      await sleep(300);
      const messages = await deadLetters.receive(10, 0);
      redriven = messages.map((m) => (JSON.parse(m.body) as { tenantId: string }).tenantId);
      await deadLetters.ack(messages);
    }
    await consumer.stop();

    expect(seen.filter((s) => s.startsWith('acme#'))).toEqual(['acme#1']);
    expect(seen.filter((s) => s.startsWith('globex#'))).toEqual(['globex#1', 'globex#2']);
    expect(redriven).toEqual(['globex']);
  });
});
