import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../layers/core/src/adapters/in-process/memory-queue.ts';
import {
  formatPosition,
  type StreamPosition,
} from '../../layers/core/src/adapters/postgres/sql/events/read-events.ts';
import { STREAM_START } from '../../layers/core/src/adapters/postgres/sql/events/stream-end.ts';
import { insertEvents } from '../../layers/core/src/adapters/postgres/sql/insert-events.ts';
import { uuidV7Ids } from '../../layers/core/src/adapters/system.ts';
import { CursorCodec } from '../../layers/core/src/domain/cursor.ts';
import type { EventType } from '../../layers/core/src/domain/event-types.ts';
import { buildEvent, type OrchEvent } from '../../layers/core/src/domain/events.ts';
import type { Clock } from '../../layers/core/src/ports/clock-and-ids.ts';
import type { ConnectionPoster } from '../../layers/core/src/ports/connection-poster.ts';
import { createServices, type Services } from '../../layers/core/src/runtime.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/**
 * The event log and WebSocket delivery on real PostgreSQL (DESIGN §7 stream order;
 * docs/adr/0008-event-stream.md): the reader never skips an event that commits late with a smaller
 * seq, retention, and the broadcaster's exactly-once, in-order delivery with concurrent broadcasters.
 */
function event(
  tenantId: string,
  eventType: EventType = 'source.updated',
  data: Record<string, unknown> = {},
): OrchEvent {
  const id = randomUUID();
  return buildEvent(
    {
      eventType,
      tenantId,
      projectId: null,
      correlationId: null,
      actor: { subject: 'test', scopes: [] },
      subject: { kind: 'source', id, data: { id, ...data } },
      idempotencyKey: `orch-${eventType}-${id}-1`,
    },
    uuidV7Ids.next(),
    new Date(),
  );
}

/** Posts recorded per connection; `gone` and `failing` connections answer 410 / throw. */
class RecordingPoster implements ConnectionPoster {
  readonly posts = new Map<string, Record<string, unknown>[]>();
  readonly gone = new Set<string>();
  readonly failing = new Map<string, number>();

  async post(connectionId: string, data: string): Promise<'sent' | 'gone'> {
    if (this.gone.has(connectionId)) return 'gone';
    const failures = this.failing.get(connectionId) ?? 0;
    if (failures > 0) {
      this.failing.set(connectionId, failures - 1);
      throw new Error('throttled');
    }
    // a little latency, so concurrent broadcasters overlap
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
    this.posts.set(connectionId, [...(this.posts.get(connectionId) ?? []), JSON.parse(data)]);
    return 'sent';
  }

  /** Event entries delivered to a connection, in order. */
  items(connectionId: string) {
    return (this.posts.get(connectionId) ?? [])
      .filter((message) => message.type === 'events')
      .flatMap(
        (message) => message.items as { position: string; subscriptions: string[]; event: OrchEvent }[],
      );
  }
}

describe('event stream', () => {
  let t: TestDatabase;
  let s: Services;
  let poster: RecordingPoster;
  let now = new Date();
  const clock: Clock = { now: () => now };

  beforeAll(async () => {
    t = await createTestDatabase();
    poster = new RecordingPoster();
    s = createServices({
      db: t.db,
      clock,
      ids: uuidV7Ids,
      cursors: new CursorCodec('integration-test-secret'),
      planQueue: new MemoryQueue(),
      connectionPoster: () => poster,
      streamSettings: { retentionDays: 7, retentionMaxPerTenant: 5, heartbeatIdleMs: 60_000 },
    });
  });
  afterAll(async () => {
    await t.drop();
  });

  /** Everything readable after `from`, page by page, each read resuming where the last one stopped. */
  async function readAll(tenantId: string, from: StreamPosition = STREAM_START) {
    const positions: string[] = [];
    let position = from;
    for (;;) {
      const page = await s.streams.read(tenantId, position, {}, 3);
      positions.push(...page.events.map((e) => formatPosition(e.position)));
      position = page.last;
      if (page.scanned < 3) return { positions, last: position };
    }
  }

  /** A session of its own (the admin pool stays free for assertions). */
  async function session(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    return client;
  }

  async function inOwnTransaction(client: pg.Client, events: OrchEvent[]) {
    await client.query('BEGIN');
    await insertEvents(client, events);
  }

  describe('the reader', () => {
    it('does not return an event past one that commits later with a smaller seq', async () => {
      const tenant = 'late-a';
      const a = await session();
      const b = await session();
      try {
        const [eventA, eventB] = [event(tenant), event(tenant)];
        await inOwnTransaction(a, [eventA]);
        await inOwnTransaction(b, [eventB]);
        await b.query('COMMIT');
        // only B is committed, and A (smaller seq) is still open: nothing may be read yet
        const before = await readAll(tenant);
        expect(before.positions).toEqual([]);
        await a.query('COMMIT');
        const seqOf = async (e: OrchEvent) =>
          (await t.admin.query('SELECT seq::text FROM events WHERE event_id = $1', [e.eventId])).rows[0]
            .seq as string;
        const [seqA, seqB] = [await seqOf(eventA), await seqOf(eventB)];
        expect(BigInt(seqA)).toBeLessThan(BigInt(seqB));
        const afterCommit = await readAll(tenant, before.last);
        expect(afterCommit.positions.map((p) => p.split('.')[1])).toEqual([seqA, seqB]);
      } finally {
        await a.end();
        await b.end();
      }
    });

    it('orders by transaction: an older transaction that writes its event last still comes first', async () => {
      const tenant = 'late-b';
      const a = await session();
      const b = await session();
      try {
        await a.query('BEGIN');
        await a.query('SELECT pg_current_xact_id()');
        await inOwnTransaction(b, [event(tenant)]);
        await b.query('COMMIT');
        await insertEvents(a, [event(tenant)]);
        const before = await readAll(tenant);
        expect(before.positions).toEqual([]);
        await a.query('COMMIT');
        const { positions } = await readAll(tenant, before.last);
        const [fromA, fromB] = positions.map((p) => p.split('.').map(BigInt) as [bigint, bigint]);
        expect(fromA![0]).toBeLessThan(fromB![0]);
        expect(fromA![1]).toBeGreaterThan(fromB![1]);
        // a reader that resumes anywhere never sees one of them twice or misses one
        expect(await readAll(tenant, { tx: String(fromA![0]), seq: String(fromA![1]) })).toMatchObject({
          positions: [positions[1]],
        });
      } finally {
        await a.end();
        await b.end();
      }
    });

    it('never skips or repeats under concurrent writers of random duration, read while they write', async () => {
      const tenant = 'late-c';
      let writing = true;
      const seen: string[] = [];
      const reader = (async () => {
        let position = STREAM_START;
        while (writing || seen.length < 400) {
          const page = await s.streams.read(tenant, position, {}, 50);
          seen.push(...page.events.map((e) => formatPosition(e.position)));
          position = page.last;
          if (!writing && page.scanned === 0 && seen.length >= 400) break;
        }
      })();
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          for (let round = 0; round < 10; round++) {
            await t.db.tenant(tenant, async (db) => {
              const size = 1 + Math.floor(Math.random() * 10);
              for (let i = 0; i < size && i < 400; i++) {
                await insertEvents(db, [event(tenant)]);
                await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
              }
            });
          }
        }),
      );
      const total = Number(
        (await t.admin.query('SELECT count(*) FROM events WHERE tenant_id = $1', [tenant])).rows[0].count,
      );
      writing = false;
      // the reader stops once it has everything; give it the exact total
      while (seen.length < total) await new Promise((resolve) => setTimeout(resolve, 10));
      await Promise.race([reader, new Promise((resolve) => setTimeout(resolve, 100))]);
      const inDb = (
        await t.admin.query<{ p: string }>(
          `SELECT tx_id::text || '.' || seq::text AS p FROM events WHERE tenant_id = $1 ORDER BY tx_id, seq`,
          [tenant],
        )
      ).rows.map((row) => row.p);
      expect(seen.slice(0, total)).toEqual(inDb);
    });
  });

  describe('retention', () => {
    it('prunes by age, a stream prefix, published or not', async () => {
      const tenant = 'old-events';
      const old = [event(tenant), event(tenant), event(tenant)];
      for (const e of old) e.occurredAt = new Date(Date.now() - 10 * 86_400_000).toISOString();
      await t.db.tenant(tenant, (db) => insertEvents(db, old));
      await t.db.tenant(tenant, (db) => insertEvents(db, [event(tenant), event(tenant)]));
      await t.admin.query('UPDATE events SET published_at = now() WHERE tenant_id = $1 AND event_id = $2', [
        tenant,
        old[0]!.eventId,
      ]);
      now = new Date();
      const report = await s.streams.prune();
      expect(report.eventsPrunedByAge).toBeGreaterThanOrEqual(3);
      const left = await t.admin.query('SELECT event_id FROM events WHERE tenant_id = $1', [tenant]);
      expect(left.rowCount).toBe(2);
      expect(left.rows.map((row) => row.event_id)).not.toContain(old[0]!.eventId);
    });

    it('prunes published events beyond the newest N per tenant, never unpublished ones', async () => {
      const tenant = 'many-events';
      const events = Array.from({ length: 10 }, () => event(tenant));
      await t.db.tenant(tenant, (db) => insertEvents(db, events));
      // the oldest two stay unpublished (the outbox has not sent them yet)
      await t.admin.query(
        'UPDATE events SET published_at = now() WHERE tenant_id = $1 AND NOT (event_id = ANY($2::uuid[]))',
        [tenant, [events[0]!.eventId, events[1]!.eventId]],
      );
      const report = await s.streams.prune();
      expect(report.eventsPrunedByCount).toBe(3);
      const left = await t.admin.query<{ event_id: string }>(
        'SELECT event_id FROM events WHERE tenant_id = $1 ORDER BY seq',
        [tenant],
      );
      expect(left.rows.map((row) => row.event_id)).toEqual([
        events[0]!.eventId,
        events[1]!.eventId,
        ...events.slice(5).map((e) => e.eventId),
      ]);
    });
  });

  describe('the broadcaster', () => {
    const deadline = () => new Date(Date.now() + 20_000);
    const positionsInDb = async (tenant: string, eventType?: string) =>
      (
        await t.admin.query<{ p: string }>(
          `SELECT tx_id::text || '.' || seq::text AS p FROM events
            WHERE tenant_id = $1 AND ($2::text IS NULL OR event_type = $2) ORDER BY tx_id, seq`,
          [tenant, eventType ?? null],
        )
      ).rows.map((row) => row.p);
    const connect = async (tenant: string, id: string) =>
      s.connections.connect(id, tenant, null, {
        subject: 'test',
        scopes: new Set(['orch:read']),
        tenants: '*',
      });

    it('delivers each event once, in order, per subscription, with concurrent broadcasters and writers', async () => {
      const tenant = 'fanout-a';
      await t.db.tenant(tenant, (db) => insertEvents(db, [event(tenant)]));
      for (const id of ['c1', 'c2', 'c3']) await connect(tenant, id);
      await connect('fanout-other', 'c-other');
      await s.connections.handle('c1', { action: 'subscribe', id: 'all', filters: {}, since: '0.0' });
      await s.connections.handle('c2', { action: 'subscribe', id: 'all', filters: {} });
      await s.connections.handle('c3', {
        action: 'subscribe',
        id: 'created',
        filters: { eventTypes: ['source.created'] },
        since: '0.0',
      });
      await s.connections.handle('c-other', { action: 'subscribe', id: 'all', filters: {}, since: '0.0' });
      const startOfC2 = (await positionsInDb(tenant)).at(-1)!;

      let writing = true;
      const writers = Array.from({ length: 4 }, async (_, w) => {
        for (let round = 0; round < 15; round++) {
          await t.db.tenant(tenant, async (db) => {
            for (let i = 0; i < 1 + (round % 4); i++) {
              await insertEvents(db, [
                event(tenant, (round + w) % 3 === 0 ? 'source.created' : 'source.updated'),
              ]);
              await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
            }
          });
        }
      });
      const broadcasters = Array.from({ length: 3 }, async () => {
        while (writing) await s.broadcaster.deliver(tenant, deadline());
      });
      await Promise.all(writers);
      writing = false;
      await Promise.all(broadcasters);
      await s.broadcaster.deliver(tenant, deadline());

      const all = await positionsInDb(tenant);
      expect(poster.items('c1').map((i) => i.position)).toEqual(all);
      expect(poster.items('c2').map((i) => i.position)).toEqual(all.slice(all.indexOf(startOfC2) + 1));
      expect(poster.items('c3').map((i) => i.position)).toEqual(
        await positionsInDb(tenant, 'source.created'),
      );
      expect(poster.items('c3').every((i) => i.subscriptions.join() === 'created')).toBe(true);
      expect(poster.items('c-other')).toEqual([]);
      const claims = await t.admin.query(
        'SELECT 1 FROM ws_connections WHERE tenant_id = $1 AND (delivery_token IS NOT NULL OR delivery_requested)',
        [tenant],
      );
      expect(claims.rowCount).toBe(0);
    });

    it('delivers an event two subscriptions match once, naming both, when one of them is far behind', async () => {
      // 'all' replays from the start and needs more than one read (a page holds 500); 'created' starts at
      // the end. The event both match must not go out first for 'created' and again later for 'all'.
      const tenant = 'fanout-merge';
      await t.db.tenant(tenant, (db) =>
        insertEvents(
          db,
          Array.from({ length: 600 }, () => event(tenant)),
        ),
      );
      await connect(tenant, 'merge');
      await s.connections.handle('merge', { action: 'subscribe', id: 'all', filters: {}, since: '0.0' });
      await s.connections.handle('merge', {
        action: 'subscribe',
        id: 'created',
        filters: { eventTypes: ['source.created'] },
      });
      await t.db.tenant(tenant, (db) => insertEvents(db, [event(tenant, 'source.created')]));
      const [created] = await positionsInDb(tenant, 'source.created');
      for (let pass = 0; pass < 5; pass++) await s.broadcaster.deliver(tenant, deadline());

      const items = poster.items('merge');
      expect(items.map((i) => i.position)).toEqual(await positionsInDb(tenant));
      expect(items.filter((i) => i.position === created).map((i) => [...i.subscriptions].sort())).toEqual([
        ['all', 'created'],
      ]);
    });

    it('keeps what was posted before a failure, resumes after it, and forgets gone connections', async () => {
      const tenant = 'fanout-b';
      await connect(tenant, 'flaky');
      await connect(tenant, 'ghost');
      await s.connections.handle('flaky', { action: 'subscribe', id: 'all', filters: {}, since: '0.0' });
      await s.connections.handle('ghost', { action: 'subscribe', id: 'all', filters: {}, since: '0.0' });
      await t.db.tenant(tenant, (db) => insertEvents(db, [event(tenant), event(tenant)]));
      poster.gone.add('ghost');
      poster.failing.set('flaky', 1);
      const first = await s.broadcaster.deliver(tenant, deadline());
      expect(first).toMatchObject({ failed: 1, gone: 1, complete: true });
      expect(poster.items('flaky')).toEqual([]);
      expect(
        (await t.admin.query(`SELECT 1 FROM ws_connections WHERE connection_id = 'ghost'`)).rowCount,
      ).toBe(0);
      await s.broadcaster.deliver(tenant, deadline());
      await t.db.tenant(tenant, (db) => insertEvents(db, [event(tenant)]));
      await s.broadcaster.deliver(tenant, deadline());
      expect(poster.items('flaky').map((i) => i.position)).toEqual(await positionsInDb(tenant));
    });

    it('heartbeats connections idle for the heartbeat interval', async () => {
      const tenant = 'fanout-c';
      await connect(tenant, 'quiet');
      now = new Date(Date.now() + 61_000);
      try {
        await s.broadcaster.deliver(tenant, new Date(now.getTime() + 20_000));
      } finally {
        now = new Date();
      }
      expect(poster.posts.get('quiet')).toEqual([{ type: 'heartbeat', at: expect.any(String) }]);
    });
  });
});
