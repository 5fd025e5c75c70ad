import type { StreamNotifier } from '../adapters/in-process/stream-notifier.ts';
import { logger } from '../observability/logger.ts';
import type { QueuePort } from '../ports/queue.ts';

/** The body of a `fanout` queue message: "this tenant's stream may have moved". */
export interface FanoutMessage {
  tenantId: string;
}

/**
 * Fanout hints (DESIGN §4): after a commit that may have written events, the tenant is named on the
 * `fanout` queue; the broadcaster then reads the event log and delivers whatever is new to the tenant's
 * WebSocket connections. A hint carries no event: a lost one costs latency until the next hint or the
 * tick's sweep, a duplicate costs one read. In-process readers (the local runtime's SSE) are woken too.
 */
export class FanoutService {
  constructor(private readonly deps: { queue: QueuePort; notifier: StreamNotifier }) {}

  /** Sends one hint per tenant. Never throws: a failure is logged and left to the tick's sweep. */
  async hint(tenantIds: Iterable<string>): Promise<void> {
    const unique = [...new Set(tenantIds)];
    if (unique.length === 0) return;
    for (const tenantId of unique) this.deps.notifier.notify(tenantId);
    try {
      await this.deps.queue.sendBatch(
        unique.map((tenantId) => JSON.stringify({ tenantId } satisfies FanoutMessage)),
      );
    } catch (error) {
      logger.warn('fanout hint not sent; the tick sweep will deliver', {
        tenants: unique.length,
        error: error as Error,
      });
    }
  }
}
