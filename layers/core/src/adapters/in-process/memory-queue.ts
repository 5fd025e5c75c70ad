import { randomUUID } from 'node:crypto';
import type { DeadLetterQueuePort, QueueMessage } from '../../ports/queue.ts';

/** As SQS caps long polling, so a consumer written against one behaves the same on the other. */
const MAX_WAIT_SECONDS = 20;

export interface MemoryQueueOptions {
  /** How long a received message stays hidden unless acknowledged. Default 30 s, as SQS. */
  visibilityTimeoutMs?: number;
  /**
   * Mirrors the SQS redrive policy we deploy: a message already received `maxReceiveCount` times moves
   * to `deadLetterQueue` when it would be delivered again.
   */
  redrive?: { maxReceiveCount: number; deadLetterQueue: MemoryQueue };
}

interface StoredMessage {
  id: string;
  body: string;
  receiveCount: number;
  /** Epoch ms from which the message may be delivered. */
  visibleAt: number;
  /** Receipt of the latest delivery; only it can acknowledge the message. */
  receipt: string | undefined;
}

/**
 * The in-process QueuePort of the local runtime, with the SQS semantics consumers rely on: at-least-once
 * delivery, visibility timeout, receive counts and redrive to a dead-letter queue. Time is the wall
 * clock (`Date.now` and timers), so tests drive it with fake timers.
 */
export class MemoryQueue implements DeadLetterQueuePort {
  /** Insertion order is send order, which keeps delivery roughly FIFO like a standard SQS queue. */
  private readonly messages = new Map<string, StoredMessage>();
  /** Wake-up callbacks of receivers blocked in `receive`; each clears its own timer. */
  private readonly waiters = new Set<() => void>();
  private readonly visibilityTimeoutMs: number;
  private readonly redrive: MemoryQueueOptions['redrive'];
  private closed = false;

  constructor(options: MemoryQueueOptions = {}) {
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.redrive = options.redrive;
    if (!(this.visibilityTimeoutMs >= 0)) {
      throw new RangeError(`MemoryQueue: visibilityTimeoutMs must be >= 0, got ${this.visibilityTimeoutMs}`);
    }
    if (
      this.redrive !== undefined &&
      !(Number.isInteger(this.redrive.maxReceiveCount) && this.redrive.maxReceiveCount >= 1)
    ) {
      throw new RangeError(
        `MemoryQueue: redrive.maxReceiveCount must be a positive integer, got ${this.redrive.maxReceiveCount}`,
      );
    }
  }

  async sendBatch(bodies: readonly string[]): Promise<void> {
    if (this.closed) throw new Error('MemoryQueue is closed');
    for (const body of bodies) this.enqueue(randomUUID(), body);
  }

  async receive(max: number, waitSeconds: number): Promise<QueueMessage[]> {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`MemoryQueue.receive: max must be a positive integer, got ${max}`);
    }
    if (Number.isNaN(waitSeconds)) throw new RangeError('MemoryQueue.receive: waitSeconds is NaN');
    const deadline = Date.now() + Math.min(MAX_WAIT_SECONDS, Math.max(0, waitSeconds)) * 1000;
    for (;;) {
      if (this.closed) return [];
      const delivered = this.deliver(max);
      if (delivered.length > 0) return delivered;
      const now = Date.now();
      if (now >= deadline) return [];
      // Sleep until something can change the answer: a send, a close, an in-flight message becoming
      // visible again, or the end of the wait.
      await this.sleep(Math.min(deadline, this.nextVisibleAt(now)) - now);
    }
  }

  async ack(messages: readonly QueueMessage[]): Promise<void> {
    for (const { id, receipt } of messages) {
      // A stale receipt (the message was redelivered since) must not delete the newer delivery: as in
      // SQS, that consumer holds the message now.
      if (this.messages.get(id)?.receipt === receipt) this.messages.delete(id);
    }
  }

  /** Messages held, in flight or not (SQS's approximate counts, exact here). */
  async approximateSize(): Promise<number> {
    return this.messages.size;
  }

  /** No server-side move in process: a redrive receives, sends back and acknowledges instead. */
  async startMoveTask(): Promise<string | null> {
    return null;
  }

  /** Wakes every blocked `receive` with [] and rejects further sends. Idempotent. */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  private enqueue(id: string, body: string): void {
    this.messages.set(id, { id, body, receiveCount: 0, visibleAt: 0, receipt: undefined });
    this.wakeAll();
  }

  private deliver(max: number): QueueMessage[] {
    const now = Date.now();
    const delivered: QueueMessage[] = [];
    for (const message of this.messages.values()) {
      if (delivered.length >= max) break;
      if (message.visibleAt > now) continue;
      if (this.redrive !== undefined && message.receiveCount >= this.redrive.maxReceiveCount) {
        this.messages.delete(message.id);
        // SQS keeps the MessageId when it moves a message; the dead-letter queue counts afresh.
        this.redrive.deadLetterQueue.enqueue(message.id, message.body);
        continue;
      }
      message.receiveCount += 1;
      message.receipt = randomUUID();
      message.visibleAt = now + this.visibilityTimeoutMs;
      delivered.push({
        id: message.id,
        body: message.body,
        receiveCount: message.receiveCount,
        receipt: message.receipt,
      });
    }
    return delivered;
  }

  private nextVisibleAt(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const { visibleAt } of this.messages.values()) {
      if (visibleAt > now && visibleAt < next) next = visibleAt;
    }
    return next;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
