import { z } from 'zod';

const EVENT_TYPE = /^[a-z][a-z_]*\.[a-z][a-z_.]*$/;

/**
 * A position in a tenant's event stream, `<tx>.<seq>`: opaque to clients, which only echo it back (SSE
 * `id:` and `Last-Event-ID`, WebSocket `position` and `since`). `0.0` is before every retained event.
 */
export const StreamPositionText = z
  .string()
  .regex(/^\d{1,20}\.\d{1,19}$/, 'a stream position: <tx>.<seq> as received in an event id');

/** Filters a stream subscriber may set (WebSocket `subscribe`, SSE query); every field narrows. */
export const StreamFilter = z.strictObject({
  runId: z.uuid().optional(),
  jobId: z.uuid().optional(),
  jobType: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,63}$/)
    .optional(),
  sourceId: z.uuid().optional(),
  eventTypes: z.array(z.string().regex(EVENT_TYPE)).max(50).optional(),
});
export type StreamFilter = z.output<typeof StreamFilter>;

/** `GET /api/v1/streams/events`: the filters in snake_case, `event_types` a comma-separated list. */
export const StreamEventsQuery = z.strictObject({
  run_id: z.uuid().optional(),
  job_id: z.uuid().optional(),
  job_type: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,63}$/)
    .optional(),
  source_id: z.uuid().optional(),
  event_types: z
    .string()
    .regex(
      /^[a-z][a-z_]*\.[a-z][a-z_.]*(,[a-z][a-z_]*\.[a-z][a-z_.]*){0,49}$/,
      'a comma-separated list of event types (at most 50)',
    )
    .optional(),
  /** Start after this position; `Last-Event-ID` wins when both are sent. Absent: from now. */
  since: StreamPositionText.optional(),
});
export type StreamEventsQuery = z.output<typeof StreamEventsQuery>;

/** Messages a WebSocket client sends on `$default`. */
export const WebSocketMessage = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('subscribe'),
    id: z.string().min(1).max(64).optional(),
    filters: StreamFilter.default({}),
    /** Replay after this position, then go live; absent: from now. */
    since: StreamPositionText.optional(),
  }),
  z.strictObject({ action: z.literal('unsubscribe'), id: z.string().min(1).max(64).optional() }),
  z.strictObject({ action: z.literal('ping') }),
]);
export type WebSocketMessage = z.output<typeof WebSocketMessage>;
