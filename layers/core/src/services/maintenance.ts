import type { Database } from '../adapters/postgres/database.ts';
import { deleteExpiredIdempotencyKeys } from '../adapters/postgres/sql/maintenance/delete-expired-idempotency-keys.ts';
import type { Clock } from '../ports/clock-and-ids.ts';

export interface TickReport {
  at: string;
  idempotencyKeysPruned: number;
}

/**
 * The minute tick (DESIGN §4): cross-tenant housekeeping driven by timestamps in SQL, never by timers.
 * Each task is idempotent, so overlapping ticks or a missed minute are harmless.
 */
export class MaintenanceService {
  constructor(private readonly deps: { db: Database; clock: Clock }) {}

  async tick(): Promise<TickReport> {
    const now = this.deps.clock.now();
    let pruned = 0;
    for (let batch = 0; batch < 20; batch++) {
      const deleted = await this.deps.db.system((db) => deleteExpiredIdempotencyKeys(db, now, 1000));
      pruned += deleted;
      if (deleted < 1000) break;
    }
    return { at: now.toISOString(), idempotencyKeysPruned: pruned };
  }
}
