import { z } from 'zod';

/** The infrastructure queues whose dead-letter queues an operator may redrive. */
export const REDRIVABLE_QUEUES = ['plan', 'fanout'] as const;
export type RedrivableQueue = (typeof REDRIVABLE_QUEUES)[number];

export const QueueName = z.enum(REDRIVABLE_QUEUES);

/** A redrive moves at most this many messages per call when it moves them itself. */
export const MAX_REDRIVE_MESSAGES = 1000;

export const RedriveBody = z.strictObject({
  /**
   * Move at most this many (oldest first, as the queue hands them out). Absent: everything, by a
   * server-side move task where the transport has one, else up to MAX_REDRIVE_MESSAGES per call.
   */
  maxMessages: z.number().int().min(1).max(MAX_REDRIVE_MESSAGES).optional(),
  /** Only count what waits in the dead-letter queue; move nothing. */
  dryRun: z.boolean().default(false),
});
export type RedriveInput = z.output<typeof RedriveBody>;

export const RedriveResult = z.object({
  queue: QueueName,
  dryRun: z.boolean(),
  /**
   * `move-task`: SQS moves every message server-side (asynchronously; `moved` is the count when it
   * started). `receive-send-delete`: moved here, message by message (in-process queues, emulators, or a
   * bounded `maxMessages`). `none`: a dry run.
   */
  method: z.enum(['move-task', 'receive-send-delete', 'none']),
  moved: z.number().int().min(0),
  /** Messages waiting in the dead-letter queue before the call (approximate on SQS). */
  available: z.number().int().min(0),
  /** The SQS move task's handle (`move-task` only): CancelMessageMoveTask takes it. */
  taskHandle: z.string().optional(),
  /** A receive-send-delete pass stopped early (time budget or an error); call again for the rest. */
  incomplete: z.string().optional(),
});
export type RedriveResult = z.output<typeof RedriveResult>;
