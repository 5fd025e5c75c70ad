import type { Database } from '../adapters/postgres/database.ts';
import {
  MAX_REDRIVE_MESSAGES,
  REDRIVABLE_QUEUES,
  type RedrivableQueue,
  type RedriveInput,
  type RedriveResult,
} from '../api/queues.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';
import { logger } from '../observability/logger.ts';
import type { DeadLetterQueuePort, QueuePort } from '../ports/queue.ts';
import { type AuditRecord, recordAudit } from './audit.ts';
import type { CallContext } from './context.ts';

/** A work queue and its dead-letter queue; `deadLetters` null where this process was given none. */
export interface RedrivableQueuePair {
  queue: QueuePort;
  deadLetters: DeadLetterQueuePort | null;
  /** why `deadLetters` is null, for the 409 */
  missing?: string;
}

/** How long one receive-send-delete pass may run: well inside the `queues` function's timeout. */
const PASS_BUDGET_MS = 20_000;

/**
 * Infrastructure dead-letter queues (DESIGN §4): an operator moves the `plan` or `fanout` DLQ's messages
 * back to the work queue once the cause is fixed. Messages are hints re-derivable from PostgreSQL, so a
 * duplicate costs a redundant plan or delivery pass, never correctness. Every redrive (dry runs aside) is
 * audited in the caller's tenant chain with its reason and ticket.
 */
export class QueuesService {
  constructor(
    private readonly deps: {
      db: Database;
      queues: Readonly<Record<RedrivableQueue, RedrivableQueuePair>>;
      now?: () => number;
      /** default: recordAudit in a transaction of the caller's tenant */
      audit?: (call: CallContext, record: AuditRecord) => Promise<void>;
    },
  ) {}

  private audit(call: CallContext, record: AuditRecord): Promise<void> {
    if (this.deps.audit) return this.deps.audit(call, record);
    return this.deps.db.tenant(call.tenantId, (db) => recordAudit(db, call, record));
  }

  async redrive(call: CallContext, name: string, input: RedriveInput): Promise<RedriveResult> {
    if (!(REDRIVABLE_QUEUES as readonly string[]).includes(name)) {
      throw new NotFoundError('queue', `'${name}' (redrivable: ${REDRIVABLE_QUEUES.join(', ')})`);
    }
    const queue = name as RedrivableQueue;
    const { queue: source, deadLetters, missing } = this.deps.queues[queue];
    if (!deadLetters) {
      throw new AppError(
        'CONFLICT',
        `the '${queue}' queue has no dead-letter queue here: ${missing ?? 'none is configured'}`,
      );
    }
    const available = await deadLetters.approximateSize();
    if (input.dryRun) return { queue, dryRun: true, method: 'none', moved: 0, available };

    let result: RedriveResult;
    const taskHandle = input.maxMessages === undefined ? await deadLetters.startMoveTask() : null;
    if (taskHandle !== null) {
      result = { queue, dryRun: false, method: 'move-task', moved: available, available, taskHandle };
    } else {
      const limit = input.maxMessages ?? MAX_REDRIVE_MESSAGES;
      result = { queue, dryRun: false, available, ...(await this.moveMessages(source, deadLetters, limit)) };
    }
    // after the move: SQS is no party to the transaction, and the entry must say what was moved
    await this.audit(call, {
      action: 'queue.redrive',
      targetKind: 'queue',
      targetId: queue,
      before: { deadLetters: available },
      after: result,
    });
    logger.info('dead-letter queue redriven', { ...result });
    return result;
  }

  /**
   * Receive from the DLQ, send back, acknowledge - in batches of 10 until `limit`, an empty receive or the
   * time budget. A message is acknowledged only once it was sent, so a failure leaves it in the DLQ
   * (at worst sent twice: a hint).
   */
  private async moveMessages(
    source: QueuePort,
    deadLetters: DeadLetterQueuePort,
    limit: number,
  ): Promise<Pick<RedriveResult, 'method' | 'moved' | 'incomplete'>> {
    const now = this.deps.now ?? Date.now;
    const started = now();
    let moved = 0;
    while (moved < limit) {
      if (now() - started > PASS_BUDGET_MS) {
        return { method: 'receive-send-delete', moved, incomplete: 'time budget spent; call again' };
      }
      try {
        const batch = await deadLetters.receive(Math.min(10, limit - moved), 1);
        if (batch.length === 0) break;
        await source.sendBatch(batch.map((message) => message.body));
        await deadLetters.ack(batch);
        moved += batch.length;
      } catch (error) {
        if (moved === 0) throw error;
        logger.warn('redrive stopped early', { moved, error: error as Error });
        return { method: 'receive-send-delete', moved, incomplete: (error as Error).message.slice(0, 200) };
      }
    }
    return { method: 'receive-send-delete', moved };
  }
}
