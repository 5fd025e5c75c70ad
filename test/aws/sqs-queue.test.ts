import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsClient } from '../../layers/core/src/adapters/aws/clients.ts';
import { SqsQueue } from '../../layers/core/src/adapters/aws/sqs-queue.ts';
import type { QueueMessage } from '../../layers/core/src/ports/queue.ts';
import { awsEmulator, createQueueWithDlq, useEmulator } from './emulator.ts';

/** Short, so redelivery and redrive are observable within a fast test; SQS accepts whole seconds. */
const VISIBILITY_TIMEOUT_SECONDS = 1;
const MAX_RECEIVE_COUNT = 2;
/** Unique per run so reruns against a long-lived emulator (LocalStack) never see old messages. */
const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

describe.skipIf(awsEmulator === null)('SqsQueue against an SQS emulator', () => {
  let client: SQSClient;
  const created: string[] = [];

  beforeAll(() => {
    useEmulator(awsEmulator!);
    client = sqsClient();
  });

  afterAll(async () => {
    await Promise.all(created.map((QueueUrl) => client.send(new DeleteQueueCommand({ QueueUrl }))));
    client.destroy();
  });

  /** A queue with a dead-letter queue and redrive policy, shaped like the `plan`/`fanout` pairs we deploy. */
  async function queueWithDlq(name: string): Promise<{ queue: SqsQueue; deadLetters: SqsQueue }> {
    const { queueUrl, dlqUrl } = await createQueueWithDlq(client, `jobengine-${RUN}-${name}`, {
      maxReceiveCount: MAX_RECEIVE_COUNT,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS,
    });
    created.push(dlqUrl, queueUrl);
    return { queue: new SqsQueue(client, queueUrl), deadLetters: new SqsQueue(client, dlqUrl) };
  }

  it('delivers 25 messages sent in one sendBatch exactly once when each is acknowledged', async () => {
    const { queue } = await queueWithDlq('roundtrip');
    const sent = Array.from({ length: 25 }, (_, i) => JSON.stringify({ tenantId: 'acme', seq: i }));

    await queue.sendBatch(sent);

    const received: QueueMessage[] = [];
    const deadline = Date.now() + 10_000;
    while (received.length < sent.length && Date.now() < deadline) {
      const batch = await queue.receive(sent.length - received.length, 1);
      await queue.ack(batch);
      received.push(...batch);
    }
    expect(received.map((m) => m.body).sort()).toEqual([...sent].sort());
    expect(new Set(received.map((m) => m.id)).size).toBe(sent.length);
    expect(received.every((m) => m.receiveCount === 1)).toBe(true);

    // Past the visibility timeout an unacknowledged message would be back; acknowledged ones are not.
    await sleep(VISIBILITY_TIMEOUT_SECONDS * 1000 + 200);
    expect(await queue.receive(10, 0)).toEqual([]);
  });

  it('moves a message received maxReceiveCount times without ack to the dead-letter queue', async () => {
    const { queue, deadLetters } = await queueWithDlq('redrive');
    const body = JSON.stringify({ tenantId: 'acme', runId: 'poison' });
    await queue.sendBatch([body]);

    const first = await queue.receive(10, 1);
    expect(first).toMatchObject([{ body, receiveCount: 1 }]);
    const second = await queue.receive(10, VISIBILITY_TIMEOUT_SECONDS + 1);
    expect(second).toMatchObject([{ id: first[0]?.id, body, receiveCount: 2 }]);

    // SQS moves the message on the receive that would deliver it a third time, so keep asking the
    // source queue (which must not hand it out again) until the dead-letter queue has it.
    await sleep(VISIBILITY_TIMEOUT_SECONDS * 1000 + 200);
    let dead: QueueMessage[] = [];
    const deadline = Date.now() + 5_000;
    while (dead.length === 0 && Date.now() < deadline) {
      expect(await queue.receive(10, 0)).toEqual([]);
      dead = await deadLetters.receive(10, 1);
    }
    expect(dead).toMatchObject([{ body }]);
    await deadLetters.ack(dead);
  });
});
