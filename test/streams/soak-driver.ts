import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Database } from '../../layers/core/src/adapters/postgres/database.ts';
import { insertEvents } from '../../layers/core/src/adapters/postgres/sql/insert-events.ts';
import { buildEvent } from '../../layers/core/src/domain/events.ts';
import { comparePositions, openSse, openWs } from '../e2e/stream-clients.ts';
import type { RunningRuntime } from '../support/local-runtime.ts';
import { startStreamRig } from './rig.ts';

export interface StreamSoakOptions {
  /** A migrated, empty database; default: an embedded PostgreSQL started (and removed) for the run. */
  databaseUrl?: string;
  events: number;
  writers: number;
  tenants: number;
  /** Events per writer transaction: 1..this. */
  maxTransactionEvents: number;
  /** A transaction sleeps up to this long between its inserts, so commits land out of seq order. */
  maxHoldMs: number;
  /** Share of writer transactions rolled back on purpose: their events must never be delivered. */
  rollbackRate: number;
  /** A subscriber stays connected between these many ms, then drops and resumes from its position. */
  connectedMs: [number, number];
  timeoutMs: number;
  log: (line: string) => void;
}

export interface SubscriberReport {
  tenant: string;
  kind: 'sse' | 'websocket';
  connections: number;
  received: number;
  duplicates: number;
  missing: number;
  outOfOrder: number;
  foreign: number;
}

export interface StreamSoakReport {
  events: number;
  rolledBack: number;
  writeMs: number;
  /** From the last commit until every subscriber had everything. */
  drainMs: number;
  subscribers: SubscriberReport[];
}

/**
 * The Realtime acceptance run: `writers` concurrent writers append events for `tenants` tenants in
 * transactions of random size and duration (so commits interleave out of seq order; some roll back),
 * straight into the event log - no API call, so no fanout hint: the runtime's tick sweep and the SSE
 * readers' polling are all that deliver them. Per tenant a WebSocket and an SSE subscriber drop their
 * connection at random moments and resume from the last position they received. Afterwards each
 * subscriber's sequence is compared with the tenant's stream in the database.
 */
export async function runStreamSoak(options: StreamSoakOptions): Promise<StreamSoakReport> {
  const rig = await startStreamRig({
    databaseUrl: options.databaseUrl,
    env: { TICK_INTERVAL_MS: '250', DB_POOL_MAX: '20' },
  });
  const { databaseUrl, runtime } = rig;
  const db = Database.connect(databaseUrl, {
    appRole: 'jobengine_app',
    systemRole: 'jobengine_system',
    max: options.writers + 2,
  });
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  admin.on('error', () => undefined);
  try {
    const tenants = Array.from({ length: options.tenants }, (_, i) => `soak-${i}`);
    const token = await runtime.token({ tenants, expiresIn: '2h' });
    let writing = true;
    const subscribers = tenants.flatMap((tenant) => [
      subscribe(runtime, token, tenant, 'websocket', options, () => writing),
      subscribe(runtime, token, tenant, 'sse', options, () => writing),
    ]);

    const started = performance.now();
    let remaining = options.events;
    let rolledBack = 0;
    const writer = async () => {
      while (remaining > 0) {
        const size = Math.min(remaining, 1 + Math.floor(Math.random() * options.maxTransactionEvents));
        remaining -= size;
        const tenant = tenants[Math.floor(Math.random() * tenants.length)]!;
        const rollback = Math.random() < options.rollbackRate;
        try {
          await db.tenant(tenant, async (tx) => {
            for (let i = 0; i < size; i++) {
              await insertEvents(tx, [soakEvent(tenant)]);
              if (options.maxHoldMs > 0) await sleep(Math.random() * (options.maxHoldMs / size));
            }
            if (rollback) throw new RolledBack();
          });
        } catch (error) {
          if (!(error instanceof RolledBack)) throw error;
          rolledBack += size;
          remaining += size;
        }
      }
    };
    await Promise.all(Array.from({ length: options.writers }, writer));
    const writeMs = performance.now() - started;
    options.log(`wrote ${options.events} events in ${Math.round(writeMs)} ms (${rolledBack} rolled back)`);

    const expected = new Map<string, string[]>();
    for (const tenant of tenants) {
      const rows = await admin.query<{ position: string }>(
        `SELECT tx_id::text || '.' || seq::text AS position FROM events WHERE tenant_id = $1 ORDER BY tx_id, seq`,
        [tenant],
      );
      expected.set(
        tenant,
        rows.rows.map((row) => row.position),
      );
    }
    const committed = [...expected.values()].reduce((sum, positions) => sum + positions.length, 0);
    if (committed !== options.events)
      throw new Error(`expected ${options.events} committed events, found ${committed}`);
    writing = false;
    const drainStarted = performance.now();
    const deadline = Date.now() + options.timeoutMs;
    const results = await Promise.all(subscribers.map((s) => s.finish(expected.get(s.tenant)!, deadline)));
    const drainMs = performance.now() - drainStarted;
    options.log(`every subscriber caught up ${Math.round(drainMs)} ms after the last commit`);
    return {
      events: committed,
      rolledBack,
      writeMs: Math.round(writeMs),
      drainMs: Math.round(drainMs),
      subscribers: results,
    };
  } finally {
    await db.close();
    await admin.end();
    await rig.stop();
  }
}

class RolledBack extends Error {}

function soakEvent(tenant: string) {
  const id = randomUUID();
  return buildEvent(
    {
      eventType: 'source.updated',
      tenantId: tenant,
      projectId: null,
      correlationId: null,
      actor: { subject: 'soak', scopes: [] },
      subject: { kind: 'source', id, data: { id } },
      idempotencyKey: `orch-source.updated-${id}-1`,
    },
    randomUUID(),
    new Date(),
  );
}

interface Received {
  position: string;
  tenant: unknown;
}

/**
 * One subscriber: connects, stays for a random while, drops, resumes from the last position it
 * received - until writing is over and it has as many events as the tenant's stream.
 */
function subscribe(
  runtime: RunningRuntime,
  token: string,
  tenant: string,
  kind: 'sse' | 'websocket',
  options: StreamSoakOptions,
  writing: () => boolean,
) {
  const received: Received[] = [];
  let connections = 0;
  let target: number | null = null;
  let stopped = false;
  const last = () => received.at(-1)?.position ?? '0.0';
  const session = async () => {
    connections += 1;
    const stay = options.connectedMs[0] + Math.random() * (options.connectedMs[1] - options.connectedMs[0]);
    const until = Date.now() + stay;
    const settled = () => stopped || Date.now() >= until || (target !== null && received.length >= target);
    if (kind === 'sse') {
      const client = await openSse(runtime.url, {
        token,
        tenant,
        lastEventId: last(),
        onEvent: (event) => received.push({ position: event.id, tenant: event.data.tenantId }),
      });
      if (client.status !== 200) throw new Error(`SSE answered ${client.status}: ${client.comments[0]}`);
      while (!settled()) await sleep(5);
      client.close();
      await client.ended;
    } else {
      const client = await openWs(runtime.wsUrl, {
        token,
        tenant,
        onItem: (item) => received.push({ position: item.position, tenant: item.event?.tenantId }),
      });
      await client.request({ action: 'subscribe', id: 'soak', since: last() }, 'subscribed');
      while (!settled()) await sleep(5);
      await client.close();
    }
  };
  const loop = (async () => {
    while (!stopped && !(target !== null && received.length >= target)) await session();
  })();
  return {
    tenant,
    async finish(expected: string[], deadline: number): Promise<SubscriberReport> {
      target = expected.length;
      while (received.length < expected.length && Date.now() < deadline && writing() === false) {
        await Promise.race([loop, sleep(50)]);
      }
      stopped = true;
      await loop;
      const positions = received.map((r) => r.position);
      const seen = new Set(positions);
      let outOfOrder = 0;
      for (let i = 1; i < positions.length; i++) {
        if (comparePositions(positions[i - 1]!, positions[i]!) >= 0) outOfOrder += 1;
      }
      const report: SubscriberReport = {
        tenant,
        kind,
        connections,
        received: received.length,
        duplicates: positions.length - seen.size,
        missing: expected.filter((position) => !seen.has(position)).length,
        outOfOrder,
        foreign: received.filter((r) => r.tenant !== tenant).length,
      };
      if (positions.join() !== expected.join() && report.missing === 0 && report.duplicates === 0) {
        report.outOfOrder = Math.max(report.outOfOrder, 1);
      }
      options.log(`${tenant} ${kind}: ${JSON.stringify(report)}`);
      return report;
    },
  };
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
