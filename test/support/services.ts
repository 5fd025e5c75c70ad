import { MemoryQueue } from '../../layers/core/src/adapters/in-process/memory-queue.ts';
import type { Database } from '../../layers/core/src/adapters/postgres/database.ts';
import { systemClock, uuidV7Ids } from '../../layers/core/src/adapters/system.ts';
import { CursorCodec } from '../../layers/core/src/domain/cursor.ts';
import { createServices, type Services } from '../../layers/core/src/runtime.ts';
import type { CallContext } from '../../layers/core/src/services/context.ts';

/** The application services over a test database, wired exactly as the runtime wires them. */
export function testServices(db: Database): Services & { planQueue: MemoryQueue } {
  const planQueue = new MemoryQueue();
  return {
    ...createServices({
      db,
      clock: systemClock,
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
