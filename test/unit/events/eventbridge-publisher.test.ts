import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EVENT_SOURCE,
  EventBridgePublisher,
  entrySize,
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
} from '../../../layers/core/src/adapters/aws/eventbridge-publisher.ts';
import { describeErrors, loadEventSchemas } from '../../support/event-schemas.ts';
import { sourceUpdatedEvent } from '../../support/orch-events.ts';

const BUS = 'jobengine-test';
const eventBridgeMock = mockClient(EventBridgeClient);
let publisher: EventBridgePublisher;

beforeEach(() => {
  eventBridgeMock.reset();
  publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), BUS);
});
afterEach(() => eventBridgeMock.reset());

/** Accepts every entry, as PutEvents answers when all succeed. */
function acceptAll() {
  eventBridgeMock.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_, i) => ({ EventId: `eb-${i}` })),
  }));
}

const sentChunks = (): PutEventsRequestEntry[][] =>
  eventBridgeMock.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);

/** A config that makes the event's entry about `kib` KiB. */
const padding = (kib: number) => ({ blob: 'x'.repeat(kib * 1024) });

describe('EventBridgePublisher', () => {
  it('puts each event with source, detail-type = event type, detail = envelope and time = occurredAt', async () => {
    acceptAll();
    const event = sourceUpdatedEvent(1);

    const outcome = await publisher.publish([event]);

    expect(outcome).toEqual({ published: [event.eventId], failed: [] });
    const [[entry]] = sentChunks() as [[PutEventsRequestEntry]];
    expect(entry).toEqual({
      EventBusName: BUS,
      Source: EVENT_SOURCE,
      DetailType: 'source.updated',
      Detail: JSON.stringify(event),
      Time: new Date(event.occurredAt),
    });
    expect(JSON.parse(entry.Detail!)).toMatchObject({ idempotencyKey: event.idempotencyKey, seq: event.seq });
  });

  it('sends at most 10 entries per PutEvents call, every event exactly once', async () => {
    acceptAll();
    const events = Array.from({ length: 25 }, (_, i) => sourceUpdatedEvent(i));

    const outcome = await publisher.publish(events);

    expect(sentChunks().map((chunk) => chunk.length)).toEqual([10, 10, 5]);
    expect(outcome.published.sort()).toEqual(events.map((e) => e.eventId).sort());
    const detailIds = sentChunks()
      .flat()
      .map((entry) => JSON.parse(entry.Detail!).eventId);
    expect(new Set(detailIds).size).toBe(25);
  });

  it('keeps every PutEvents call within 256 KiB, splitting chunks of large events', async () => {
    acceptAll();
    const events = Array.from({ length: 6 }, (_, i) => sourceUpdatedEvent(i, padding(100)));

    await publisher.publish(events);

    const chunks = sentChunks();
    expect(chunks.map((chunk) => chunk.length)).toEqual([2, 2, 2]);
    for (const chunk of chunks) {
      expect(chunk.reduce((sum, entry) => sum + entrySize(entry), 0)).toBeLessThanOrEqual(
        PUT_EVENTS_MAX_BYTES,
      );
    }
  });

  it('publishes an event too large for one entry as a truncated reference with the same ids', async () => {
    acceptAll();
    const small = sourceUpdatedEvent(1);
    const huge = sourceUpdatedEvent(2, padding(300));

    const outcome = await publisher.publish([small, huge]);

    expect(outcome.published.sort()).toEqual([small.eventId, huge.eventId].sort());
    const entries = sentChunks().flat();
    const reference = JSON.parse(entries.find((e) => e.Detail!.includes(huge.eventId))!.Detail!);
    expect(reference).toMatchObject({
      eventId: huge.eventId,
      eventType: 'source.updated',
      idempotencyKey: huge.idempotencyKey,
      tenantId: 'acme',
      subject: { kind: 'source', id: huge.subject.id },
      truncated: true,
    });
    expect(reference.subject).not.toHaveProperty('data');
    const { truncated } = loadEventSchemas();
    expect(truncated(reference), describeErrors(truncated)).toBe(true);
    for (const entry of entries) expect(entrySize(entry)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
  });

  it('reports entries PutEvents refused as failed and the rest as published', async () => {
    eventBridgeMock.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [
        { EventId: 'eb-0' },
        { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
        { EventId: 'eb-2' },
      ],
    });
    const events = [0, 1, 2].map((i) => sourceUpdatedEvent(i));

    const outcome = await publisher.publish(events);

    expect(outcome.published).toEqual([events[0]!.eventId, events[2]!.eventId]);
    expect(outcome.failed).toEqual([
      { eventId: events[1]!.eventId, code: 'ThrottlingException', message: 'Rate exceeded' },
    ]);
  });

  it('reports the events of a chunk whose call failed, and still publishes the other chunks', async () => {
    const failing = new Error('bus not found');
    failing.name = 'ResourceNotFoundException';
    eventBridgeMock
      .on(PutEventsCommand)
      .rejectsOnce(failing)
      .callsFake((input: { Entries: PutEventsRequestEntry[] }) => ({
        FailedEntryCount: 0,
        Entries: input.Entries.map((_, i) => ({ EventId: `eb-${i}` })),
      }));
    const events = Array.from({ length: 15 }, (_, i) => sourceUpdatedEvent(i));

    const outcome = await new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), BUS, {
      concurrency: 1,
    }).publish(events);

    expect(outcome.failed.map((f) => f.eventId)).toEqual(events.slice(0, 10).map((e) => e.eventId));
    expect(outcome.failed[0]).toMatchObject({ code: 'ResourceNotFoundException', message: 'bus not found' });
    expect(outcome.published).toEqual(events.slice(10).map((e) => e.eventId));
  });

  it('treats an entry PutEvents returned no result for as failed', async () => {
    eventBridgeMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const event = sourceUpdatedEvent(1);

    expect(await publisher.publish([event])).toEqual({
      published: [],
      failed: [{ eventId: event.eventId, code: 'NoResult', message: expect.any(String) }],
    });
  });

  it('sends nothing for nothing', async () => {
    expect(await publisher.publish([])).toEqual({ published: [], failed: [] });
    expect(sentChunks()).toEqual([]);
  });
});

describe('entrySize', () => {
  it('counts as AWS documents: 14 bytes for Time plus the UTF-8 bytes of source, detail-type, detail, resources', () => {
    expect(
      entrySize({
        Time: new Date(),
        Source: 'a.b',
        DetailType: 'x.y',
        Detail: '{"é":1}',
        Resources: ['arn:1'],
      }),
    ).toBe(14 + 3 + 3 + 8 + 5);
    expect(entrySize({ Source: 'a', DetailType: 'b' })).toBe(2);
    expect(PUT_EVENTS_MAX_ENTRIES).toBe(10);
  });
});
