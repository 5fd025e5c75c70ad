import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../layers/core/src/domain/errors.ts';
import type { TenantContext } from '../../../layers/core/src/http/api.ts';
import { sseEvent, streamFilterOf, streamStartOf } from '../../../layers/core/src/http/sse.ts';

const ctx = (headers: Record<string, string>) => ({ headers }) as unknown as TenantContext;

describe('SSE framing', () => {
  it('writes id (the position), event (the type) and data (the envelope on one line)', () => {
    const text = sseEvent({
      position: { tx: '812', seq: '40' },
      envelope: { eventType: 'job.leased', seq: 40, subject: { note: 'two\nlines' } },
    });
    expect(text).toBe(
      'id: 812.40\nevent: job.leased\ndata: {"eventType":"job.leased","seq":40,"subject":{"note":"two\\nlines"}}\n\n',
    );
  });

  it('maps the snake_case query onto the reader filter', () => {
    expect(streamFilterOf({ run_id: 'r', job_type: 'parse', event_types: 'job.queued,job.leased' })).toEqual({
      runId: 'r',
      jobId: undefined,
      jobType: 'parse',
      sourceId: undefined,
      eventTypes: ['job.queued', 'job.leased'],
    });
  });

  it('starts after Last-Event-ID, which wins over since; neither means now (null)', () => {
    expect(streamStartOf(ctx({ 'last-event-id': '9.3' }), { since: '1.1' })).toEqual({ tx: '9', seq: '3' });
    expect(streamStartOf(ctx({}), { since: '1.1' })).toEqual({ tx: '1', seq: '1' });
    expect(streamStartOf(ctx({ 'last-event-id': '' }), {})).toBeNull();
    expect(() => streamStartOf(ctx({ 'last-event-id': 'abc' }), {})).toThrow(ValidationError);
  });
});
