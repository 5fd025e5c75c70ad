import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { logger } from '../../observability/logger.ts';
import type {
  EventPublisherPort,
  PublishableEvent,
  PublishFailure,
  PublishOutcome,
} from '../../ports/event-publisher.ts';

/** The `source` of every event JobEngine puts on a bus; rules match on it. */
export const EVENT_SOURCE = 'stellaops.jobengine';

/** PutEvents accepts at most 10 entries per call, and 256 KiB per entry and per call (entrySize). */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/**
 * What an event too large for the bus is published as: the envelope without its subject data, marked
 * `truncated` (events/schemas/orch.event.v1.truncated.schema.json). Consumers still dedupe on it and read
 * the subject through the API.
 */
export type TruncatedEvent = Omit<PublishableEvent, 'subject'> & {
  subject: { kind: PublishableEvent['subject']['kind']; id: string };
  truncated: true;
};

export interface EventBridgePublisherOptions {
  /** PutEvents calls in flight at once. Default 10: a batch of 100 events goes out in one round trip. */
  concurrency?: number;
  /** Gives up on a PutEvents call after this long (its events are retried next round). Default 10 s. */
  requestTimeoutMs?: number;
}

interface Entry {
  eventId: string;
  request: PutEventsRequestEntry;
  bytes: number;
}

/**
 * The EventPublisherPort over one EventBridge bus: `source` stellaops.jobengine, `detail-type` the event
 * type, `detail` the envelope, `time` its occurredAt. Events are sent in chunks within PutEvents' limits;
 * whole-request errors (throttling, network) are retried by the SDK, and whatever still fails - a refused
 * entry or a whole chunk - is reported per event, never thrown, so one bad chunk does not hide the others.
 */
export class EventBridgePublisher implements EventPublisherPort {
  private readonly concurrency: number;
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    options: EventBridgePublisherOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 10;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new RangeError(
        `EventBridgePublisher: concurrency must be a positive integer, got ${this.concurrency}`,
      );
    }
  }

  async publish(events: readonly PublishableEvent[]): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { published: [], failed: [] };
    const entries: Entry[] = [];
    for (const event of events) {
      const entry = this.entryFor(event);
      if (entry.bytes > PUT_EVENTS_MAX_BYTES) {
        // Only an envelope whose own ids are absurdly long gets here; retrying cannot make it fit.
        outcome.failed.push({
          eventId: event.eventId,
          code: 'EntryTooLarge',
          message: `${entry.bytes} bytes even without its subject data`,
        });
      } else entries.push(entry);
    }
    const chunks = chunkEntries(entries);
    let next = 0;
    const sendChunks = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++]!;
        const result = await this.sendChunk(chunk);
        outcome.published.push(...result.published);
        outcome.failed.push(...result.failed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, chunks.length) }, sendChunks));
    return outcome;
  }

  private entryFor(event: PublishableEvent): Entry {
    const request = this.request(event, event);
    const bytes = entrySize(request);
    if (bytes <= PUT_EVENTS_MAX_BYTES) return { eventId: event.eventId, request, bytes };
    logger.warn('event too large for EventBridge; published as a truncated reference', {
      eventId: event.eventId,
      eventType: event.eventType,
      bytes,
    });
    const reference = this.request(event, truncatedEvent(event));
    return { eventId: event.eventId, request: reference, bytes: entrySize(reference) };
  }

  private request(event: PublishableEvent, detail: PublishableEvent | TruncatedEvent): PutEventsRequestEntry {
    return {
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: event.eventType,
      Detail: JSON.stringify(detail),
      Time: new Date(event.occurredAt),
    };
  }

  private async sendChunk(chunk: readonly Entry[]): Promise<PublishOutcome> {
    const outcome: PublishOutcome = { published: [], failed: [] };
    try {
      const output = await this.client.send(
        new PutEventsCommand({ Entries: chunk.map((entry) => entry.request) }),
        { abortSignal: AbortSignal.timeout(this.requestTimeoutMs) },
      );
      // Result entries are in request order.
      chunk.forEach((entry, i) => {
        const result = output.Entries?.[i];
        if (result?.EventId !== undefined && result.ErrorCode === undefined)
          outcome.published.push(entry.eventId);
        else
          outcome.failed.push({
            eventId: entry.eventId,
            code: result?.ErrorCode ?? 'NoResult',
            message: result?.ErrorMessage ?? 'PutEvents returned no result for this entry',
          });
      });
    } catch (error) {
      const { name, message } = error as Error;
      outcome.failed.push(
        ...chunk.map((entry): PublishFailure => ({ eventId: entry.eventId, code: name, message })),
      );
    }
    return outcome;
  }
}

/** The envelope without its subject data, for events too large to publish whole. */
export function truncatedEvent(event: PublishableEvent): TruncatedEvent {
  const { subject, ...rest } = event;
  return { ...rest, subject: { kind: subject.kind, id: subject.id }, truncated: true };
}

/**
 * An entry's size as EventBridge counts it against the 256 KiB limits: 14 bytes for Time, plus the UTF-8
 * bytes of Source, DetailType, Detail and each Resource ("Calculating PutEvents event entry size").
 */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));
  return (
    (entry.Time === undefined ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

/** Consecutive chunks of at most 10 entries and 256 KiB together, in order. */
function chunkEntries(entries: readonly Entry[]): Entry[][] {
  const chunks: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const full = current.length === PUT_EVENTS_MAX_ENTRIES || bytes + entry.bytes > PUT_EVENTS_MAX_BYTES;
    if (current.length > 0 && full) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
