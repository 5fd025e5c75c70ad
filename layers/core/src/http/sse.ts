import {
  type EventFilter,
  formatPosition,
  parsePosition,
  type StreamEvent,
  type StreamPosition,
} from '../adapters/postgres/sql/events/read-events.ts';
import type { StreamEventsQuery } from '../api/streams.ts';
import { ValidationError } from '../domain/errors.ts';
import type { TenantContext } from './api.ts';
import type { StreamingResult } from './streaming.ts';

/** One SSE event: `id:` is the stream position a client resumes from (`Last-Event-ID`). */
export function sseEvent(event: StreamEvent): string {
  return `id: ${formatPosition(event.position)}\nevent: ${String(event.envelope.eventType)}\ndata: ${JSON.stringify(event.envelope)}\n\n`;
}

/** The filters of `GET /api/v1/streams/events`, in the event reader's terms. */
export function streamFilterOf(query: StreamEventsQuery): EventFilter {
  return {
    runId: query.run_id,
    jobId: query.job_id,
    jobType: query.job_type,
    sourceId: query.source_id,
    eventTypes: query.event_types?.split(','),
  };
}

/** Where a stream starts: `Last-Event-ID` (a reconnecting EventSource), else `since`, else null (now). */
export function streamStartOf(ctx: TenantContext, query: StreamEventsQuery): StreamPosition | null {
  const lastEventId = ctx.headers['last-event-id'];
  if (lastEventId !== undefined && lastEventId !== '') {
    const position = parsePosition(lastEventId.trim());
    if (!position) {
      throw new ValidationError('invalid Last-Event-ID', [
        {
          path: 'headers.Last-Event-ID',
          message: 'a stream position: <tx>.<seq> as received in an event id',
        },
      ]);
    }
    return position;
  }
  return query.since ? parsePosition(query.since) : null;
}

/**
 * `GET /api/v1/streams/events` as Server-Sent Events: a `retry:` hint, then every event of the tenant
 * after the start position that matches the filters, in stream order, each with its position as `id:`;
 * a `: ping` comment after `heartbeatMs` without data. It ends when the client leaves or the function
 * nears its timeout; the client reconnects with `Last-Event-ID` and misses nothing.
 */
export async function eventStream(ctx: TenantContext, query: StreamEventsQuery): Promise<StreamingResult> {
  const { runtime, tenantId } = ctx;
  const filter = streamFilterOf(query);
  const from = streamStartOf(ctx, query) ?? (await runtime.streams.end(tenantId));
  const heartbeatMs = runtime.config.SSE_HEARTBEAT_MS;
  return {
    status: 200,
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
    },
    async stream(sink) {
      // The retry hint, and a first write so proxies pass the status and headers on at once.
      await sink.write(`retry: ${runtime.config.SSE_RETRY_MS}\n: stream after ${formatPosition(from)}\n\n`);
      let lastWrite = Date.now();
      for await (const events of runtime.streams.follow(tenantId, from, filter, sink.signal)) {
        if (events.length > 0) {
          await sink.write(events.map(sseEvent).join(''));
          lastWrite = Date.now();
        } else if (Date.now() - lastWrite >= heartbeatMs) {
          await sink.write(': ping\n\n');
          lastWrite = Date.now();
        }
      }
    },
  };
}
