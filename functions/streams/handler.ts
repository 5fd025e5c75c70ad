import {
  eventStream,
  formatPosition,
  StreamEventsQuery,
  streamingOperation,
  streamingTenantApi,
  type TenantContext,
} from '@jobengine/core';

/**
 * The event stream (DESIGN §4 SSE): a streaming function - Lambda response streaming behind the REST API
 * (`responseTransferMode: STREAM`), the same handler in the local runtime.
 */
export const handler = streamingTenantApi({
  'GET /api/v1/streams/events': streamingOperation<TenantContext, typeof StreamEventsQuery>({
    scope: 'orch:read',
    query: StreamEventsQuery,
    handle: ({ ctx, query }) => eventStream(ctx, query),
  }),
  // An event by position: what a WebSocket client fetches for an `event_ref` (an event over 128 KB).
  'GET /api/v1/streams/events/{position}': streamingOperation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => {
      const event = await ctx.runtime.streams.get(ctx.tenantId, params.position!);
      return { status: 200, body: { position: formatPosition(event.position), event: event.envelope } };
    },
  }),
});
