/**
 * A work queue (SQS `plan` and `fanout` on AWS, in-process locally). Messages are hints: PostgreSQL is
 * the source of truth, so a lost or duplicated message costs latency, never correctness (DESIGN §4).
 */
export interface QueueMessage {
  /** Stable id for deduplication in logs; SQS MessageId on AWS. */
  id: string;
  body: string;
  /** How many times this message has been delivered, 1 on first delivery. */
  receiveCount: number;
  /** Opaque handle used to acknowledge the message. */
  receipt: string;
}

export interface QueuePort {
  /** Sends bodies in as few requests as the transport allows (SQS: batches of 10). */
  sendBatch(bodies: readonly string[]): Promise<void>;
  /** Long-polls up to `max` messages; resolves with [] when none arrive within `waitSeconds`. */
  receive(max: number, waitSeconds: number): Promise<QueueMessage[]>;
  /** Acknowledges processed messages so they are not delivered again. */
  ack(messages: readonly QueueMessage[]): Promise<void>;
}

/**
 * A dead-letter queue, redrivable to its source queue (`POST /api/v1/queues/{name}:redrive`). Receiving,
 * acknowledging and sending back are QueuePort's own operations; what a transport may add is a move
 * done server-side.
 */
export interface DeadLetterQueuePort extends QueuePort {
  /** Messages waiting, as the transport counts them (SQS: ApproximateNumberOfMessages). */
  approximateSize(): Promise<number>;
  /**
   * Starts a server-side move of every message back to the source queue (SQS StartMessageMoveTask) and
   * resolves with its task handle; resolves null when the transport has no such move (in-process, or an
   * emulator without the API), so the caller moves messages itself.
   */
  startMoveTask(): Promise<string | null>;
}
