import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../adapters/postgres/database.ts';
import { claimUnpublishedEvents } from '../adapters/postgres/sql/events/claim-unpublished-events.ts';
import { markEventsPublished } from '../adapters/postgres/sql/events/mark-events-published.ts';
import { logger } from '../observability/logger.ts';
import type { EventPublisherPort } from '../ports/event-publisher.ts';

export interface PublisherDeps {
  db: Database;
  publisher: EventPublisherPort;
  /** Events claimed per round (PUBLISH_BATCH_SIZE). */
  batchSize: number;
}

export interface PublishReport {
  published: number;
  /** Publish attempts that failed (an event retried in several rounds counts in each); they stay in the outbox. */
  failed: number;
}

/**
 * The outbox publisher (DESIGN §4, §9): moves committed events from the `events` table to the event bus,
 * at least once. A round is one transaction: claim a batch (SKIP LOCKED, so concurrent publishers split
 * the work), publish it, mark what the bus accepted. A crash or a failed commit after publishing leaves the
 * events unmarked, so they are published again - consumers dedupe on `eventId` / `idempotencyKey`.
 *
 * The claim's row locks give the transaction an xid, which holds back the stream readers' horizon
 * (sql/events/read-events.ts) until it ends: rounds are kept to one batch, sent in parallel, so that
 * stays about one PutEvents round trip.
 */
export class PublisherService {
  constructor(private readonly deps: PublisherDeps) {
    if (!Number.isInteger(deps.batchSize) || deps.batchSize < 1) {
      throw new RangeError(`PublisherService: batchSize must be a positive integer, got ${deps.batchSize}`);
    }
  }

  /** One round of at most `limit` (and the batch size) events. */
  private async publishRound(limit: number): Promise<PublishReport & { claimed: number }> {
    return this.deps.db.system(async (db) => {
      const claimed = await claimUnpublishedEvents(db, Math.min(limit, this.deps.batchSize));
      if (claimed.length === 0) return { claimed: 0, published: 0, failed: 0 };
      const outcome = await this.deps.publisher.publish(claimed.map((row) => row.event));
      const accepted = new Set(outcome.published);
      const published = await markEventsPublished(
        db,
        claimed.filter((row) => accepted.has(row.event.eventId)).map((row) => row.seq),
      );
      if (outcome.failed.length > 0) {
        logger.warn('events not published; they stay in the outbox for the next round', {
          failed: outcome.failed.length,
          first: outcome.failed[0],
        });
      }
      return { claimed: claimed.length, published, failed: outcome.failed.length };
    });
  }

  /**
   * Rounds until the outbox is drained, `max` events are published, or a round publishes nothing (the bus
   * is down or refuses everything: the next call tries again). Refused events stay in the outbox and, being
   * the oldest, are retried first by the next round - one event the bus keeps refusing costs a slot per
   * round, not the rest of the outbox.
   */
  async publishPending(max: number): Promise<PublishReport> {
    const report: PublishReport = { published: 0, failed: 0 };
    while (report.published < max) {
      const limit = Math.min(this.deps.batchSize, max - report.published);
      const round = await this.publishRound(limit);
      report.published += round.published;
      report.failed += round.failed;
      if (round.claimed < limit || round.published === 0) break;
    }
    return report;
  }

  /**
   * Publishes every `intervalMs` until stopped: the local runtime's low-latency loop (on AWS the minute
   * tick publishes). Errors are logged and the loop goes on.
   */
  start(intervalMs: number): { stop(): Promise<void> } {
    const stopped = new AbortController();
    const loop = (async () => {
      while (!stopped.signal.aborted) {
        try {
          await this.publishPending(Number.MAX_SAFE_INTEGER);
        } catch (error) {
          logger.error('event publishing failed', { error: error as Error });
        }
        // Rejects (AbortError) when stopped: the loop condition then ends it.
        await sleep(intervalMs, undefined, { signal: stopped.signal }).catch(() => undefined);
      }
    })();
    return {
      async stop() {
        stopped.abort();
        await loop;
      },
    };
  }
}
