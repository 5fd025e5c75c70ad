import { z } from 'zod';

/** Filters a stream subscriber may set (WebSocket `subscribe`, SSE query); every field narrows. */
export const StreamFilter = z.strictObject({
  runId: z.uuid().optional(),
  jobId: z.uuid().optional(),
  jobType: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,63}$/)
    .optional(),
  sourceId: z.uuid().optional(),
  eventTypes: z
    .array(z.string().regex(/^[a-z][a-z_]*\.[a-z][a-z_.]*$/))
    .max(50)
    .optional(),
});
export type StreamFilter = z.output<typeof StreamFilter>;

/** Messages a WebSocket client sends on `$default`. */
export const WebSocketMessage = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('subscribe'),
    id: z.string().min(1).max(64).optional(),
    filters: StreamFilter.default({}),
    /** Resume after this event sequence number. */
    since: z.number().int().min(0).optional(),
  }),
  z.strictObject({ action: z.literal('unsubscribe'), id: z.string().min(1).max(64).optional() }),
  z.strictObject({ action: z.literal('ping') }),
]);
export type WebSocketMessage = z.output<typeof WebSocketMessage>;
