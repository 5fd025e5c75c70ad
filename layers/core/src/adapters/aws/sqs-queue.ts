import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BatchResultErrorEntry,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueMessage, QueuePort } from '../../ports/queue.ts';

/** SQS caps every batch API at 10 entries and long polling at 20 seconds. */
const SQS_BATCH_LIMIT = 10;
const SQS_MAX_WAIT_SECONDS = 20;

export interface SqsQueueOptions {
  /** Attempts per batch entry, the first one included. Default 3. */
  maxAttempts?: number;
  /** Delay before the first re-send of failed entries; doubles on each further attempt. Default 100 ms. */
  retryDelayMs?: number;
}

export interface BatchEntryFailure {
  /** What the caller can recognise: `bodies[i]` for sends, the SQS MessageId for acks. */
  entry: string;
  code: string;
  message: string;
  /** SQS blames the request itself (too large, bad receipt): sending it again cannot help. */
  senderFault: boolean;
}

/** Some entries of a batch call still failed after the retries; the rest of the batch succeeded. */
export class QueueBatchError extends Error {
  override readonly name = 'QueueBatchError';
  readonly code = 'QUEUE_BATCH_FAILED';

  constructor(
    readonly operation: 'SendMessageBatch' | 'DeleteMessageBatch',
    readonly failures: readonly BatchEntryFailure[],
    readonly attempts: number,
  ) {
    const listed = failures.map((f) => `${f.entry} (${f.code}: ${f.message})`).join(', ');
    super(`${operation}: ${failures.length} entries still failed after ${attempts} attempt(s): ${listed}`);
  }
}

interface BatchEntry {
  /** Unique across the whole call, so failures from any chunk or retry map back to their entry. */
  Id: string;
  label: string;
}

/**
 * The QueuePort over one SQS queue. Whole-request errors (throttling, network) are retried by the SDK's
 * own retry strategy; this class handles what the SDK does not: batches that succeed partially.
 */
export class SqsQueue implements QueuePort {
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(
    protected readonly client: SQSClient,
    protected readonly queueUrl: string,
    options: SqsQueueOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 100;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new RangeError(`SqsQueue: maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    }
  }

  async sendBatch(bodies: readonly string[]): Promise<void> {
    const entries = bodies.map((body, i) => ({ Id: String(i), label: `bodies[${i}]`, MessageBody: body }));
    await this.inBatches('SendMessageBatch', entries, async (chunk) =>
      this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map(({ Id, MessageBody }) => ({ Id, MessageBody })),
        }),
      ),
    );
  }

  async receive(max: number, waitSeconds: number): Promise<QueueMessage[]> {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`SqsQueue.receive: max must be a positive integer, got ${max}`);
    }
    if (Number.isNaN(waitSeconds)) throw new RangeError('SqsQueue.receive: waitSeconds is NaN');
    const received: QueueMessage[] = [];
    let wait = Math.min(SQS_MAX_WAIT_SECONDS, Math.max(0, Math.ceil(waitSeconds)));
    while (received.length < max) {
      const want = Math.min(SQS_BATCH_LIMIT, max - received.length);
      const output = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: want,
          WaitTimeSeconds: wait,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      const batch = output.Messages ?? [];
      received.push(...batch.map(toQueueMessage));
      // A short batch means the queue is drained for now; asking again would only add a round trip.
      if (batch.length < want) break;
      // The caller already has messages in hand: top up with what is immediately available, never hold
      // them hostage to another long poll.
      wait = 0;
    }
    return received;
  }

  async ack(messages: readonly QueueMessage[]): Promise<void> {
    const entries = messages.map((m, i) => ({ Id: String(i), label: m.id, ReceiptHandle: m.receipt }));
    await this.inBatches('DeleteMessageBatch', entries, async (chunk) =>
      this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map(({ Id, ReceiptHandle }) => ({ Id, ReceiptHandle })),
        }),
      ),
    );
  }

  /**
   * Sends `entries` in chunks of 10, then re-sends only the entries that failed for reasons other than
   * the sender's fault, up to `maxAttempts`. Chunks go one after another: these are small hint messages,
   * and a sequential loop keeps the failure bookkeeping exact.
   */
  private async inBatches<E extends BatchEntry>(
    operation: QueueBatchError['operation'],
    entries: readonly E[],
    sendChunk: (chunk: E[]) => Promise<{ Failed?: BatchResultErrorEntry[] | undefined }>,
  ): Promise<void> {
    const byId = new Map(entries.map((e) => [e.Id, e]));
    const finalFailures: BatchEntryFailure[] = [];
    let pending = [...entries];
    let attempt = 0;
    while (pending.length > 0 && attempt < this.maxAttempts) {
      if (attempt > 0) await sleep(this.retryDelayMs * 2 ** (attempt - 1));
      attempt += 1;
      const retry: E[] = [];
      for (let start = 0; start < pending.length; start += SQS_BATCH_LIMIT) {
        const output = await sendChunk(pending.slice(start, start + SQS_BATCH_LIMIT));
        for (const failed of output.Failed ?? []) {
          const entry = failed.Id === undefined ? undefined : byId.get(failed.Id);
          if (entry === undefined) {
            throw new Error(`${operation}: SQS reported a failure for unknown entry id ${String(failed.Id)}`);
          }
          const failure: BatchEntryFailure = {
            entry: entry.label,
            code: failed.Code ?? 'Unknown',
            message: failed.Message ?? '',
            senderFault: failed.SenderFault === true,
          };
          if (failure.senderFault || attempt === this.maxAttempts) finalFailures.push(failure);
          else retry.push(entry);
        }
      }
      pending = retry;
    }
    if (finalFailures.length > 0) throw new QueueBatchError(operation, finalFailures, attempt);
  }
}

function toQueueMessage(message: Message): QueueMessage {
  if (message.MessageId === undefined || message.ReceiptHandle === undefined) {
    throw new Error('SQS ReceiveMessage returned a message without MessageId or ReceiptHandle');
  }
  return {
    id: message.MessageId,
    body: message.Body ?? '',
    receiveCount: parseReceiveCount(message.Attributes?.ApproximateReceiveCount),
    receipt: message.ReceiptHandle,
  };
}

/**
 * Absent or malformed counts as a first delivery: over-counting could make a consumer give up on a
 * message early, while under-counting only delays that decision to SQS's own redrive.
 */
export function parseReceiveCount(raw: string | undefined): number {
  const count = Number(raw);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}
