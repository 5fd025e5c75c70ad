import type { StreamNotifier } from '../adapters/in-process/stream-notifier.ts';
import type { Database } from '../adapters/postgres/database.ts';
import { deleteEventsBeyondCount } from '../adapters/postgres/sql/events/delete-events-beyond-count.ts';
import { deleteEventsOlderThan } from '../adapters/postgres/sql/events/delete-events-older-than.ts';
import { getEvent } from '../adapters/postgres/sql/events/get-event.ts';
import { listEventTenants } from '../adapters/postgres/sql/events/list-event-tenants.ts';
import {
  type EventFilter,
  parsePosition,
  readEvents,
  type StreamEvent,
  type StreamPosition,
} from '../adapters/postgres/sql/events/read-events.ts';
import { streamEnd } from '../adapters/postgres/sql/events/stream-end.ts';
import { AppError } from '../domain/errors.ts';
import { logger } from '../observability/logger.ts';
import type { Clock } from '../ports/clock-and-ids.ts';

export interface StreamsConfig {
  /** How long a follower sleeps between reads when nothing notifies it. */
  pollIntervalMs: number;
  retentionDays: number;
  retentionMaxPerTenant: number;
}

export interface RetentionReport {
  eventsPrunedByAge: number;
  eventsPrunedByCount: number;
}

/** Events read per round trip by a follower. */
const READ_BATCH = 500;
/** Rows deleted per statement, and statements per tick: each is a short transaction (it holds an xid). */
const PRUNE_BATCH = 2_000;
const PRUNE_STATEMENTS_PER_TICK = 100;

/**
 * The event log (DESIGN §7, §9): reading a tenant's stream after a position, in stream order, with
 * filters; following it live; and retention. Order and positions are defined by the one reader,
 * sql/events/read-events.ts (docs/adr/0008-event-stream.md).
 */
export class StreamsService {
  constructor(
    private readonly deps: { db: Database; clock: Clock; notifier: StreamNotifier; config: StreamsConfig },
  ) {}

  /**
   * Up to `limit` events after `after` (and not after `until`, when given); `last` is where the next read
   * starts (it may skip filtered ones).
   */
  read(
    tenantId: string,
    after: StreamPosition,
    filter: EventFilter,
    limit = READ_BATCH,
    until: StreamPosition | null = null,
  ): Promise<{ events: StreamEvent[]; last: StreamPosition; scanned: number }> {
    return this.deps.db.tenant(tenantId, async (db) => {
      const page = await readEvents(db, tenantId, after, filter, limit, until);
      return { events: page.events, last: page.last ?? after, scanned: page.scanned };
    });
  }

  /** Where a reader that starts "now" starts. */
  end(tenantId: string): Promise<StreamPosition> {
    return this.deps.db.tenant(tenantId, (db) => streamEnd(db, tenantId));
  }

  /** One event by its position text; 404 when malformed, pruned, or another tenant's. */
  async get(tenantId: string, positionText: string): Promise<StreamEvent> {
    const position = parsePosition(positionText);
    const event = position
      ? await this.deps.db.tenant(tenantId, (db) => getEvent(db, tenantId, position))
      : null;
    if (!event) throw new AppError('NOT_FOUND', `no event at position ${positionText}`);
    return event;
  }

  /**
   * Follows the stream from `from` until `signal` aborts: yields each read's events (an empty batch after
   * an idle wait, so the caller can write heartbeats). Between reads it sleeps `pollIntervalMs` unless
   * the tenant is notified; correctness never depends on a notification.
   */
  async *follow(
    tenantId: string,
    from: StreamPosition,
    filter: EventFilter,
    signal: AbortSignal,
  ): AsyncGenerator<StreamEvent[], void, void> {
    let position = from;
    while (!signal.aborted) {
      const page = await this.read(tenantId, position, filter);
      position = page.last;
      yield page.events;
      // A full page means more is readable now: read on without waiting.
      if (page.scanned < READ_BATCH) {
        await this.deps.notifier.wait(tenantId, this.deps.config.pollIntervalMs, signal);
      }
    }
  }

  /**
   * Retention, run by the minute tick: per tenant, events older than the retention (published or not),
   * then published events beyond the newest `retentionMaxPerTenant`. Bounded per tick; the rest waits for
   * the next minute.
   */
  async prune(): Promise<RetentionReport> {
    const { db, clock, config } = this.deps;
    const cutoff = new Date(clock.now().getTime() - config.retentionDays * 86_400_000);
    const report: RetentionReport = { eventsPrunedByAge: 0, eventsPrunedByCount: 0 };
    let statements = 0;
    const tenants = await db.system((tx) => listEventTenants(tx));
    for (const tenantId of tenants) {
      for (const byAge of [true, false]) {
        for (;;) {
          if (statements++ >= PRUNE_STATEMENTS_PER_TICK) return this.logged(report);
          const deleted = await db.system((tx) =>
            byAge
              ? deleteEventsOlderThan(tx, tenantId, cutoff, PRUNE_BATCH)
              : deleteEventsBeyondCount(tx, tenantId, config.retentionMaxPerTenant, PRUNE_BATCH),
          );
          if (byAge) report.eventsPrunedByAge += deleted;
          else report.eventsPrunedByCount += deleted;
          if (deleted < PRUNE_BATCH) break;
        }
      }
    }
    return this.logged(report);
  }

  private logged(report: RetentionReport): RetentionReport {
    if (report.eventsPrunedByAge + report.eventsPrunedByCount > 0)
      logger.info('events pruned', { ...report });
    return report;
  }
}
