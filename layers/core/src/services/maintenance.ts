import type { Database } from '../adapters/postgres/database.ts';
import { countOpenDeadLetters } from '../adapters/postgres/sql/maintenance/count-open-dead-letters.ts';
import { countQueuedJobs } from '../adapters/postgres/sql/maintenance/count-queued-jobs.ts';
import { deleteExpiredIdempotencyKeys } from '../adapters/postgres/sql/maintenance/delete-expired-idempotency-keys.ts';
import { findExpiredLeases } from '../adapters/postgres/sql/maintenance/find-expired-leases.ts';
import { findStalePlanningRuns } from '../adapters/postgres/sql/maintenance/find-stale-planning-runs.ts';
import { completeJobs } from '../adapters/postgres/sql/worker/complete-jobs.ts';
import { listConnectionTenants } from '../adapters/postgres/sql/ws/list-connection-tenants.ts';
import { logger } from '../observability/logger.ts';
import {
  metricsEnabled,
  recordDeadLettered,
  recordDeadLetterSize,
  recordLeasesExpired,
  recordQueueDepth,
} from '../observability/metrics.ts';
import type { Clock } from '../ports/clock-and-ids.ts';
import type { BackfillsService } from './backfills.ts';
import type { FanoutService } from './fanout.ts';
import type { FlowControlService } from './flow-control.ts';
import type { PublisherService } from './publisher.ts';
import type { RunsService } from './runs.ts';
import type { SchedulesService } from './schedules.ts';
import type { StreamsService } from './streams.ts';

export interface TickReport {
  at: string;
  /** Schedules fired (or advanced past skipped fires), runs they created, fire times skipped. */
  schedulesFired: number;
  scheduledRuns: number;
  scheduleFiresSkipped: number;
  /** Backfill chunks released by the tick's top-up (completions release most of them). */
  backfillChunksReleased: number;
  leasesExpired: number;
  /** Throttled jobs whose hold ended (a throttle expired) queued again. */
  throttledReleased: number;
  runsReplanned: number;
  idempotencyKeysPruned: number;
  eventsPublished: number;
  eventsPrunedByAge: number;
  eventsPrunedByCount: number;
  /** Tenants with WebSocket connections, each sent a fanout hint. */
  fanoutSwept: number;
  /** Gauges sampled for the metrics (queue depth and open dead letters); 0 when metrics are off. */
  gaugesSampled: number;
}

const REAPER = { subject: 'system:reaper', scopes: [] };
/** A plan message normally lands within seconds; a run planning for longer lost its message. */
const STALE_PLANNING_SECONDS = 30;
/** Events one tick publishes at most: a backlog drains over several ticks, within the tick's timeout. */
export const TICK_PUBLISH_LIMIT = 5_000;
/** (tenant, job type) queue-depth gauges one tick emits at most, largest first. */
export const TICK_QUEUE_DEPTH_LIMIT = 500;

/**
 * The minute tick (DESIGN §4): cross-tenant housekeeping driven by timestamps in SQL, never by timers.
 * Every task is idempotent and fenced, so overlapping ticks or a missed minute are harmless.
 */
export class MaintenanceService {
  constructor(
    private readonly deps: {
      db: Database;
      clock: Clock;
      runs: RunsService;
      flowControl: FlowControlService;
      schedules: SchedulesService;
      backfills: BackfillsService;
      /** null when publishing is off (EVENT_BUS_NAME unset) */
      publisher?: PublisherService | null;
      streams: StreamsService;
      fanout: FanoutService;
    },
  ) {}

  async tick(): Promise<TickReport> {
    const now = this.deps.clock.now();
    const fired = await this.deps.schedules.fireDue(now);
    const leasesExpired = await this.reapExpiredLeases();
    let throttledReleased = 0;
    for (let batch = 0; batch < 20; batch++) {
      const released = await this.deps.flowControl.releaseDueThrottledJobs(1000);
      throttledReleased += released;
      if (released < 1000) break;
    }
    const backfillChunksReleased = await this.deps.backfills.releaseDue();
    const runsReplanned = await this.replanStaleRuns();
    let idempotencyKeysPruned = 0;
    for (let batch = 0; batch < 20; batch++) {
      const deleted = await this.deps.db.system((db) => deleteExpiredIdempotencyKeys(db, now, 1000));
      idempotencyKeysPruned += deleted;
      if (deleted < 1000) break;
    }
    const eventsPublished = this.deps.publisher
      ? (await this.deps.publisher.publishPending(TICK_PUBLISH_LIMIT)).published
      : 0;
    const { eventsPrunedByAge, eventsPrunedByCount } = await this.deps.streams.prune();
    const fanoutSwept = await this.sweepFanout();
    const gaugesSampled = await this.sampleGauges();
    return {
      at: now.toISOString(),
      schedulesFired: fired.schedules,
      scheduledRuns: fired.runsCreated,
      scheduleFiresSkipped: fired.firesSkipped,
      backfillChunksReleased,
      leasesExpired,
      throttledReleased,
      runsReplanned,
      idempotencyKeysPruned,
      eventsPublished,
      eventsPrunedByAge,
      eventsPrunedByCount,
      fanoutSwept,
      gaugesSampled,
    };
  }

  /**
   * The gauges of the minute tick: queued jobs per tenant and type, open dead letters per tenant
   * (observability/metrics.ts). Skipped, queries included, while metrics are off (locally by default).
   */
  async sampleGauges(): Promise<number> {
    if (!metricsEnabled()) return 0;
    const [depths, deadLetters] = await this.deps.db.system(
      async (db) =>
        [await countQueuedJobs(db, TICK_QUEUE_DEPTH_LIMIT), await countOpenDeadLetters(db)] as const,
    );
    for (const row of depths) recordQueueDepth(row.tenant_id, row.type, row.depth);
    for (const row of deadLetters) recordDeadLetterSize(row.tenant_id, row.open);
    return depths.length + deadLetters.length;
  }

  /**
   * A fanout hint for every tenant with WebSocket connections: delivers what lost hints (and the tick's
   * own writes, like reaped leases) left behind, and lets the broadcaster heartbeat idle connections. It
   * runs after the other tasks so their events are covered.
   */
  async sweepFanout(): Promise<number> {
    const tenants = await this.deps.db.system((db) => listConnectionTenants(db));
    await this.deps.fanout.hint(tenants);
    return tenants.length;
  }

  /**
   * Leases past their deadline go back to the queue with attempt+1, or to the dead-letter queue on the
   * last attempt - through the completion statement with outcome `lease_expired`, fenced by the lease id,
   * so a worker completing at the same moment and the reaper cannot both win.
   */
  async reapExpiredLeases(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 50; round++) {
      const expired = await this.deps.db.system((db) => findExpiredLeases(db, 1000));
      if (expired.length === 0) break;
      const byTenant = Map.groupBy(expired, (lease) => lease.tenant_id);
      for (const [tenantId, leases] of byTenant) {
        const done = await this.deps.db.tenant(tenantId, (db) =>
          completeJobs(
            db,
            tenantId,
            leases.map((lease) => ({ job_id: lease.id, lease_id: lease.lease_id, outcome: 'lease_expired' })),
            REAPER,
          ),
        );
        total += done.length;
        recordLeasesExpired(tenantId, done.length);
        recordDeadLettered(tenantId, done.filter((job) => job.to_status === 'dead_lettered').length);
      }
      if (expired.length < 1000) break;
    }
    if (total > 0) logger.info('expired leases reaped', { count: total });
    return total;
  }

  async replanStaleRuns(): Promise<number> {
    const stale = await this.deps.db.system((db) => findStalePlanningRuns(db, STALE_PLANNING_SECONDS, 100));
    let planned = 0;
    for (const run of stale) {
      try {
        if ((await this.deps.runs.plan(run.tenant_id, run.id)) === 'planned') planned++;
      } catch (error) {
        logger.error('re-planning failed', { tenantId: run.tenant_id, runId: run.id, error: error as Error });
      }
    }
    return planned;
  }
}
