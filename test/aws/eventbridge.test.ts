import { randomBytes } from 'node:crypto';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  type EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventBridgeClient, sqsClient } from '../../layers/core/src/adapters/aws/clients.ts';
import {
  EVENT_SOURCE,
  EventBridgePublisher,
} from '../../layers/core/src/adapters/aws/eventbridge-publisher.ts';
import { SqsQueue } from '../../layers/core/src/adapters/aws/sqs-queue.ts';
import type { PublishableEvent } from '../../layers/core/src/ports/event-publisher.ts';
import { sourceUpdatedEvent } from '../support/orch-events.ts';
import { awsEmulator, useEmulator } from './emulator.ts';

/** Unique per run so reruns against a long-lived emulator (LocalStack) never see old events. */
const RUN = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

/** The EventBridge event a rule delivers to an SQS target: the envelope is its `detail`. */
interface DeliveredEvent {
  source: string;
  'detail-type': string;
  time: string;
  detail: Record<string, unknown> & { eventId: string; idempotencyKey: string };
}

describe.skipIf(awsEmulator === null)('EventBridgePublisher against an EventBridge emulator', () => {
  let events: EventBridgeClient;
  let sqs: SQSClient;
  let publisher: EventBridgePublisher;
  let queue: SqsQueue;
  const busName = `jobengine-${RUN}`;
  const ruleName = `jobengine-${RUN}-to-sqs`;
  let queueUrl: string;

  beforeAll(async () => {
    useEmulator(awsEmulator!);
    events = eventBridgeClient();
    sqs = sqsClient();
    await events.send(new CreateEventBusCommand({ Name: busName }));
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `jobengine-${RUN}-events` }))).QueueUrl!;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    // What a consumer subscribes with: every JobEngine event on the bus.
    await events.send(
      new PutRuleCommand({
        Name: ruleName,
        EventBusName: busName,
        EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: ruleName,
        EventBusName: busName,
        Targets: [{ Id: 'queue', Arn: Attributes!.QueueArn! }],
      }),
    );
    publisher = new EventBridgePublisher(events, busName);
    queue = new SqsQueue(sqs, queueUrl);
  });

  afterAll(async () => {
    await events.send(new RemoveTargetsCommand({ Rule: ruleName, EventBusName: busName, Ids: ['queue'] }));
    await events.send(new DeleteRuleCommand({ Name: ruleName, EventBusName: busName }));
    await events.send(new DeleteEventBusCommand({ Name: busName }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  /** Receives until `count` events arrived (or 10 s passed), acknowledging them. */
  async function receive(count: number): Promise<DeliveredEvent[]> {
    const delivered: DeliveredEvent[] = [];
    const deadline = Date.now() + 10_000;
    while (delivered.length < count && Date.now() < deadline) {
      const batch = await queue.receive(count - delivered.length, 1);
      await queue.ack(batch);
      delivered.push(...batch.map((m) => JSON.parse(m.body) as DeliveredEvent));
    }
    return delivered;
  }

  const byEventId = (a: DeliveredEvent, b: DeliveredEvent) =>
    a.detail.eventId.localeCompare(b.detail.eventId);

  it('delivers each event with source, detail-type, time and the envelope as detail', async () => {
    const sent = Array.from({ length: 12 }, (_, i) => sourceUpdatedEvent(i));

    const outcome = await publisher.publish(sent);

    expect(outcome.failed).toEqual([]);
    expect(outcome.published.sort()).toEqual(sent.map((e) => e.eventId).sort());
    const delivered = (await receive(sent.length)).sort(byEventId);
    expect(delivered).toHaveLength(sent.length);
    delivered.forEach((event, i) => {
      const envelope: PublishableEvent = sent[i]!;
      expect(event.source).toBe('stellaops.jobengine');
      expect(event['detail-type']).toBe('source.updated');
      // EventBridge keeps whole seconds of the entry's Time.
      expect(Date.parse(event.time)).toBe(Math.floor(Date.parse(envelope.occurredAt) / 1000) * 1000);
      expect(event.detail).toEqual(envelope);
      expect(event.detail.idempotencyKey).toBe(envelope.idempotencyKey);
    });
  });

  it('delivers events published twice twice, with the same ids to dedupe on (at least once)', async () => {
    const sent = [sourceUpdatedEvent(100), sourceUpdatedEvent(101)];

    // A publisher that crashed before marking its batch publishes it again on the next round.
    await publisher.publish(sent);
    await publisher.publish(sent);

    const delivered = await receive(4);
    expect(delivered).toHaveLength(4);
    const keys = delivered.map((e) => `${e.detail.eventId} ${e.detail.idempotencyKey}`).sort();
    const expected = sent.flatMap((e) => [e, e]).map((e) => `${e.eventId} ${e.idempotencyKey}`);
    expect(keys).toEqual(expected.sort());
  });

  it('delivers an event too large for the bus as a truncated reference', async () => {
    const huge = sourceUpdatedEvent(200, { blob: 'x'.repeat(300 * 1024) });

    expect(await publisher.publish([huge])).toEqual({ published: [huge.eventId], failed: [] });

    const [delivered] = await receive(1);
    expect(delivered?.detail).toMatchObject({
      eventId: huge.eventId,
      idempotencyKey: huge.idempotencyKey,
      subject: { kind: 'source', id: huge.subject.id },
      truncated: true,
    });
  });

  it('reports every event as failed when the bus does not exist', async () => {
    const missing = new EventBridgePublisher(events, `jobengine-${RUN}-missing`);
    const sent = [sourceUpdatedEvent(300), sourceUpdatedEvent(301)];

    const outcome = await missing.publish(sent);

    expect(outcome.published).toEqual([]);
    expect(outcome.failed.map((f) => f.eventId).sort()).toEqual(sent.map((e) => e.eventId).sort());
  });
});
