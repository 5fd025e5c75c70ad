import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../adapters/postgres/database.ts';
import { hasHeldBackEvents } from '../adapters/postgres/sql/events/has-held-back-events.ts';
import {
  type EventFilter,
  formatPosition,
  parsePosition,
  type StreamEvent,
  type StreamPosition,
} from '../adapters/postgres/sql/events/read-events.ts';
import { STREAM_START } from '../adapters/postgres/sql/events/stream-end.ts';
import { claimConnections } from '../adapters/postgres/sql/ws/claim-connections.ts';
import { deleteTenantConnections } from '../adapters/postgres/sql/ws/delete-tenant-connections.ts';
import {
  listTenantConnections,
  type TenantConnectionRow,
} from '../adapters/postgres/sql/ws/list-tenant-connections.ts';
import {
  type ConnectionDelivery,
  releaseConnections,
} from '../adapters/postgres/sql/ws/release-connections.ts';
import type { StoredSubscription } from '../adapters/postgres/sql/ws/subscription.ts';
import { canonicalJson } from '../domain/canonical-json.ts';
import { logger } from '../observability/logger.ts';
import { recordStreamLag } from '../observability/metrics.ts';
import type { Clock, IdGenerator } from '../ports/clock-and-ids.ts';
import type { ConnectionPoster } from '../ports/connection-poster.ts';
import type { StreamsService } from './streams.ts';

/** API Gateway's limit on a message posted to a WebSocket connection (the local gateway enforces it too). */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** Events read per subscription group and pass; a connection with more gets another pass. */
const READ_LIMIT = 500;
/** How long a claim lasts: longer than any pass, so only a crashed broadcaster's claim ever expires. */
const CLAIM_MS = 60_000;
/** Connections posted to at once; each connection's messages go one after another, in order. */
const POST_CONCURRENCY = 16;
/** Waiting for events held back by an older open transaction (see hasHeldBackEvents). */
const HELD_BACK_POLL_MS = 25;
const HELD_BACK_MAX_MS = 250;

/** One entry of an `events` message: the event itself, or a reference when it alone exceeds the limit. */
export type DeliveredItem =
  | { type: 'event'; position: string; subscriptions: string[]; event: Record<string, unknown> }
  | {
      type: 'event_ref';
      position: string;
      subscriptions: string[];
      eventType: string;
      subjectId: string;
    };

export interface DeliveryReport {
  tenantId: string;
  passes: number;
  /** Messages posted (events and heartbeats) and event entries in them. */
  messages: number;
  events: number;
  gone: number;
  failed: number;
  /** false: the deadline came first; the caller hints the tenant again. */
  complete: boolean;
  /** Stream lag: commit of the oldest event delivered → its delivery, in ms (0 when nothing was). */
  maxLagMs: number;
}

interface ConnectionPlan {
  connectionId: string;
  subscriptions: StoredSubscription[];
  items: DeliveredItem[];
  /** Where each subscription (by key) stands once every item is posted. */
  positions: Map<string, string>;
  heartbeat: boolean;
  /** A subscription's read was cut at READ_LIMIT: more is readable now. */
  more: boolean;
  hasWork: boolean;
}

interface PostOutcome {
  plan: ConnectionPlan;
  gone: boolean;
  failed: boolean;
  positions: Map<string, string>;
  sentAt: Date | null;
}

/**
 * The broadcaster (DESIGN §4): delivers a tenant's new events to its WebSocket connections through the
 * management API. Each subscription stores the position it has received; a pass reads after it with the
 * subscription's filters (one read per distinct position and filters), claims the connections that have
 * something to receive, posts in stream order, and records the new positions. The claim makes one
 * broadcaster at a time post to a connection, so every subscription gets each event once, in order, even
 * with concurrent broadcasters (docs/adr/0008-event-stream.md).
 */
export class BroadcasterService {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      ids: IdGenerator;
      streams: StreamsService;
      poster: () => ConnectionPoster;
      config: { heartbeatIdleMs: number };
    },
  ) {}

  async deliver(tenantId: string, deadline: Date): Promise<DeliveryReport> {
    const token = this.deps.ids.next();
    const report: DeliveryReport = {
      tenantId,
      passes: 0,
      messages: 0,
      events: 0,
      gone: 0,
      failed: 0,
      complete: true,
      maxLagMs: 0,
    };
    await this.deliverPasses(tenantId, deadline, token, report);
    if (report.events > 0) recordStreamLag(tenantId, report.maxLagMs);
    return report;
  }

  private async deliverPasses(
    tenantId: string,
    deadline: Date,
    token: string,
    report: DeliveryReport,
  ): Promise<DeliveryReport> {
    const { db, clock } = this.deps;
    let only: Set<string> | null = null;
    let heldBackSince: number | null = null;
    for (;;) {
      if (clock.now() >= deadline) {
        // Connections still claimed for another pass must not wait for their claim to expire.
        if (only)
          await this.release(
            tenantId,
            token,
            [...only].map((id) => ({ id, final: true })),
          );
        report.complete = false;
        return report;
      }
      report.passes += 1;
      const listed = await db.tenant(tenantId, (tx) => listTenantConnections(tx, tenantId));
      const candidates = only === null ? listed : listed.filter((c) => only?.has(c.connection_id));
      const plans = await this.plan(tenantId, candidates);
      // Connections still claimed from the last pass go through claim and release even with nothing to
      // post, so the claim always ends.
      const again = await this.deliverPlans(
        tenantId,
        token,
        plans.filter((plan) => plan.hasWork || only?.has(plan.connectionId)),
        report,
      );
      if (again.size > 0) {
        only = again;
        continue;
      }
      only = null;
      const lowest = lowestPosition(plans);
      const heldBack =
        lowest !== null && (await db.tenant(tenantId, (tx) => hasHeldBackEvents(tx, tenantId, lowest)));
      if (!heldBack) return report;
      heldBackSince ??= clock.now().getTime();
      if (clock.now().getTime() - heldBackSince > HELD_BACK_MAX_MS) return report;
      await sleep(HELD_BACK_POLL_MS);
    }
  }

  /**
   * What each connection would receive now: one read per distinct (position, filters). Every read of a
   * pass stops at the same position (the stream end when the pass starts), and a connection gets events
   * only up to the lowest point all its subscriptions' reads covered, so an event that matches several of
   * its subscriptions is delivered once, naming all of them - never split across passes because one read
   * saw it and another (an earlier snapshot, or a page cut at READ_LIMIT) did not.
   */
  private async plan(
    tenantId: string,
    connections: readonly TenantConnectionRow[],
  ): Promise<ConnectionPlan[]> {
    const until = await this.deps.streams.end(tenantId);
    const reads = new Map<
      string,
      Promise<{ events: StreamEvent[]; last: StreamPosition; scanned: number }>
    >();
    const readFor = (subscription: StoredSubscription) => {
      const key = canonicalJson([subscription.position, subscription.filters]);
      let read = reads.get(key);
      if (!read) {
        read = this.deps.streams.read(
          tenantId,
          startOf(subscription),
          eventFilter(subscription),
          READ_LIMIT,
          until,
        );
        reads.set(key, read);
      }
      return read;
    };
    const now = this.deps.clock.now().getTime();
    return Promise.all(
      connections.map(async (connection) => {
        const byPosition = new Map<
          string,
          { position: StreamPosition; event: StreamEvent; subscriptions: string[] }
        >();
        const positions = new Map<string, string>();
        let more = false;
        const pages = await Promise.all(
          connection.subscriptions.map((subscription) => readFor(subscription)),
        );
        // A full page covers the stream only up to its last row; the others cover it up to `until`.
        let cut = until;
        for (const page of pages) {
          if (page.scanned >= READ_LIMIT && comparePositions(page.last, cut) < 0) cut = page.last;
        }
        for (const [index, subscription] of connection.subscriptions.entries()) {
          const page = pages[index]!;
          if (page.scanned >= READ_LIMIT) more = true;
          // Never past the cut (events after it come next pass), never back before where it stood.
          const from = startOf(subscription);
          const capped = comparePositions(page.last, cut) > 0 ? cut : page.last;
          const last = formatPosition(comparePositions(capped, from) < 0 ? from : capped);
          if (last !== subscription.position) positions.set(subscription.key, last);
          for (const event of page.events) {
            if (comparePositions(event.position, cut) > 0) continue;
            const text = formatPosition(event.position);
            const entry = byPosition.get(text) ?? { position: event.position, event, subscriptions: [] };
            entry.subscriptions.push(subscription.id);
            byPosition.set(text, entry);
          }
        }
        const items = [...byPosition.values()]
          .sort((a, b) => comparePositions(a.position, b.position))
          .map(({ position, event, subscriptions }) =>
            eventItem(formatPosition(position), subscriptions, event),
          );
        const heartbeat =
          items.length === 0 &&
          now - new Date(connection.last_active_at).getTime() >= this.deps.config.heartbeatIdleMs;
        return {
          connectionId: connection.connection_id,
          subscriptions: connection.subscriptions,
          items,
          positions,
          heartbeat,
          more,
          // Progress past filtered-out events alone is recorded only once a read fills up, so idle
          // connections are not written on every pass.
          hasWork: items.length > 0 || heartbeat || (more && positions.size > 0),
        };
      }),
    );
  }

  /** Claims, posts, records; returns the connections that need another pass. */
  private async deliverPlans(
    tenantId: string,
    token: string,
    plans: ConnectionPlan[],
    report: DeliveryReport,
  ): Promise<Set<string>> {
    if (plans.length === 0) return new Set();
    const { db, clock } = this.deps;
    const now = clock.now();
    const claims = await db.tenant(tenantId, (tx) =>
      claimConnections(
        tx,
        tenantId,
        plans.map((plan) => plan.connectionId),
        token,
        now,
        new Date(now.getTime() + CLAIM_MS),
      ),
    );
    const planned = new Map(plans.map((plan) => [plan.connectionId, plan]));
    const claimed = claims.filter((claim) => claim.claimed);
    // A subscription changed between listing and claiming (subscribe, or another broadcaster finished):
    // plan those connections again from what the claim returned.
    const stale = claimed.filter(
      (claim) =>
        canonicalJson(claim.subscriptions) !== canonicalJson(planned.get(claim.connection_id)?.subscriptions),
    );
    if (stale.length > 0) {
      const replanned = await this.plan(
        tenantId,
        stale.map((claim) => ({
          connection_id: claim.connection_id,
          subscriptions: claim.subscriptions,
          last_active_at: now,
        })),
      );
      for (const plan of replanned) planned.set(plan.connectionId, plan);
    }
    const outcomes = await mapLimit(
      claimed.map((claim) => planned.get(claim.connection_id)!),
      POST_CONCURRENCY,
      (plan) => this.post(plan, report),
    );
    const gone = outcomes.filter((outcome) => outcome.gone).map((outcome) => outcome.plan.connectionId);
    const again = await this.release(
      tenantId,
      token,
      outcomes
        .filter((outcome) => !outcome.gone)
        .map((outcome) => ({
          id: outcome.plan.connectionId,
          positions: outcome.positions,
          sentAt: outcome.sentAt,
          final: outcome.failed,
        })),
      gone,
    );
    for (const outcome of outcomes) {
      if (!outcome.gone && !outcome.failed && outcome.plan.more) again.add(outcome.plan.connectionId);
    }
    return again;
  }

  private async release(
    tenantId: string,
    token: string,
    connections: { id: string; positions?: Map<string, string>; sentAt?: Date | null; final: boolean }[],
    gone: string[] = [],
  ): Promise<Set<string>> {
    const deliveries: ConnectionDelivery[] = connections.map((c) => ({
      connectionId: c.id,
      positions: [...(c.positions ?? [])].map(([key, position]) => ({ key, position })),
      sentAt: c.sentAt ?? null,
      final: c.final,
    }));
    return this.deps.db.tenant(tenantId, async (tx) => {
      const again = await releaseConnections(tx, tenantId, token, deliveries);
      if (gone.length > 0) await deleteTenantConnections(tx, tenantId, gone);
      return new Set(again);
    });
  }

  /** Posts a plan's messages in order; stops at the first failure, keeping what was delivered. */
  private async post(plan: ConnectionPlan, report: DeliveryReport): Promise<PostOutcome> {
    const poster = this.deps.poster();
    const positions = new Map<string, string>();
    const keyOf = new Map(plan.subscriptions.map((s) => [s.id, s.key]));
    let sentAt: Date | null = null;
    const messages = plan.heartbeat
      ? [{ text: JSON.stringify({ type: 'heartbeat', at: this.deps.clock.now().toISOString() }), items: [] }]
      : packMessages(plan.items);
    for (const message of messages) {
      let outcome: 'sent' | 'gone';
      try {
        outcome = await poster.post(plan.connectionId, message.text);
      } catch (error) {
        report.failed += 1;
        logger.warn('posting to a connection failed; it is retried on the next hint', {
          connectionId: plan.connectionId,
          error: error as Error,
        });
        return { plan, gone: false, failed: true, positions, sentAt };
      }
      if (outcome === 'gone') {
        report.gone += 1;
        return { plan, gone: true, failed: false, positions, sentAt };
      }
      sentAt = this.deps.clock.now();
      report.maxLagMs = Math.max(report.maxLagMs, lagOf(message.items, sentAt));
      report.messages += 1;
      report.events += message.items.length;
      for (const item of message.items) {
        for (const id of item.subscriptions) positions.set(keyOf.get(id)!, item.position);
      }
    }
    return { plan, gone: false, failed: false, positions: plan.positions, sentAt };
  }
}

/** How long the oldest event of a message waited since it occurred (`occurredAt`, the commit's clock). */
function lagOf(items: readonly DeliveredItem[], sentAt: Date): number {
  let lag = 0;
  for (const item of items) {
    if (item.type !== 'event') continue;
    const occurredAt = Date.parse(String(item.event.occurredAt));
    if (Number.isFinite(occurredAt)) lag = Math.max(lag, sentAt.getTime() - occurredAt);
  }
  return lag;
}

/** Splits items into `events` messages of at most MAX_MESSAGE_BYTES, in order. */
export function packMessages(items: readonly DeliveredItem[]): { text: string; items: DeliveredItem[] }[] {
  const head = '{"type":"events","items":[';
  const tail = ']}';
  const overhead = Buffer.byteLength(head) + Buffer.byteLength(tail);
  const messages: { text: string; items: DeliveredItem[] }[] = [];
  let parts: string[] = [];
  let batch: DeliveredItem[] = [];
  let size = overhead;
  const flush = () => {
    if (batch.length === 0) return;
    messages.push({ text: `${head}${parts.join(',')}${tail}`, items: batch });
    parts = [];
    batch = [];
    size = overhead;
  };
  for (const original of items) {
    let item = original;
    let text = JSON.stringify(item);
    if (Buffer.byteLength(text) + overhead > MAX_MESSAGE_BYTES) {
      item = referenceTo(original);
      text = JSON.stringify(item);
    }
    const bytes = Buffer.byteLength(text);
    if (size + bytes + (batch.length > 0 ? 1 : 0) > MAX_MESSAGE_BYTES) flush();
    size += bytes + (batch.length > 0 ? 1 : 0);
    parts.push(text);
    batch.push(item);
  }
  flush();
  return messages;
}

function eventItem(position: string, subscriptions: string[], event: StreamEvent): DeliveredItem {
  return { type: 'event', position, subscriptions, event: event.envelope };
}

/** An event too large for a message: the client fetches it (`GET /api/v1/streams/events/{position}`). */
function referenceTo(item: DeliveredItem): DeliveredItem {
  if (item.type === 'event_ref') return item;
  const subject = item.event.subject as { id?: unknown } | undefined;
  return {
    type: 'event_ref',
    position: item.position,
    subscriptions: item.subscriptions,
    eventType: String(item.event.eventType),
    subjectId: String(subject?.id ?? ''),
  };
}

/** Where a subscription's next read starts. */
function startOf(subscription: StoredSubscription): StreamPosition {
  return parsePosition(subscription.position) ?? STREAM_START;
}

function eventFilter(subscription: StoredSubscription): EventFilter {
  return { ...subscription.filters };
}

function comparePositions(a: StreamPosition, b: StreamPosition): number {
  const tx = BigInt(a.tx) - BigInt(b.tx);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  const seq = BigInt(a.seq) - BigInt(b.seq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

/** The lowest position any planned subscription will stand at: where held-back events would matter. */
function lowestPosition(plans: readonly ConnectionPlan[]): StreamPosition | null {
  let lowest: StreamPosition | null = null;
  for (const plan of plans) {
    for (const subscription of plan.subscriptions) {
      const position = parsePosition(plan.positions.get(subscription.key) ?? subscription.position);
      if (position && (lowest === null || comparePositions(position, lowest) < 0)) lowest = position;
    }
  }
  return lowest;
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(runners);
  return results;
}
