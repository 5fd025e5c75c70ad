import { MemoryQueue } from '../../layers/core/src/adapters/in-process/memory-queue.ts';
import type { Database } from '../../layers/core/src/adapters/postgres/database.ts';
import { systemClock, uuidV7Ids } from '../../layers/core/src/adapters/system.ts';
import { CursorCodec } from '../../layers/core/src/domain/cursor.ts';
import type { Clock } from '../../layers/core/src/ports/clock-and-ids.ts';
import { createServices, type Services } from '../../layers/core/src/runtime.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';

/** The application services over a test database, wired exactly as the runtime wires them. */
export function testServices(
  db: Database,
  clock: Clock = systemClock,
): Services & { planQueue: MemoryQueue } {
  const planQueue = new MemoryQueue();
  return {
    ...createServices({
      db,
      clock,
      ids: uuidV7Ids,
      cursors: new CursorCodec('integration-test-secret'),
      planQueue,
    }),
    planQueue,
  };
}

export function callAs(tenantId: string, subject = 'tester'): CallContext {
  return {
    tenantId,
    projectId: null,
    correlationId: `corr-${tenantId}`,
    actor: { subject, scopes: ['orch:operate', 'orch:read'] },
  };
}

/** A clock tests move by hand: services read `now()` from it, so fire times and windows are exact. */
export class ManualClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  set(at: Date | string): void {
    this.current = new Date(at);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
