import type { OrchEvent } from '../domain/events.ts';

/** An event as it leaves the outbox: the stored envelope with its `seq`, as the streams also send it. */
export type PublishableEvent = OrchEvent & { seq: number };

export interface PublishFailure {
  eventId: string;
  code: string;
  message: string;
}

export interface PublishOutcome {
  /** Ids of the events the bus accepted. */
  published: string[];
  /** Events the bus refused or that were not sent; they stay in the outbox for the next round. */
  failed: PublishFailure[];
}

/**
 * Outbound domain events (DESIGN §4, §9: the EventBridge bus). Delivery is at least once: a consumer
 * dedupes on `eventId` / `idempotencyKey`. `publish` reports the outcome per event; an event it could not
 * deliver, for whatever reason, is a failure in the outcome rather than a thrown error.
 */
export interface EventPublisherPort {
  publish(events: readonly PublishableEvent[]): Promise<PublishOutcome>;
}
