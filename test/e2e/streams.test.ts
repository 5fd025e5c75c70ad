import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient, Worker } from '../../sdk/worker/src/index.ts';
import { type E2e, expectEnvelope, poll, startE2e } from './helpers.ts';
import { comparePositions, openSse, openWs, type SseClient } from './stream-clients.ts';

/**
 * The event stream end to end (DESIGN §4, §7; docs/adr/0008-event-stream.md): SSE over the local gateway's
 * streaming integration and WebSocket delivery by the broadcaster through the management API, against
 * what the event log holds.
 */
describe('event stream over SSE and WebSocket', () => {
  let e: E2e;
  let token: string;
  const tenant = 'streams-a';
  const other = 'streams-b';
  const open: { close(): unknown }[] = [];

  /** The tenant's event positions in stream order, as the database holds them. */
  const positionsInDb = async (tenantId: string, where = 'true', values: unknown[] = []) => {
    const result = await e.t.admin.query<{ position: string }>(
      `SELECT tx_id::text || '.' || seq::text AS position FROM events
        WHERE tenant_id = $1 AND ${where} ORDER BY tx_id, seq`,
      [tenantId, ...values],
    );
    return result.rows.map((row) => row.position);
  };
  const positionsAfter = (positions: string[], position: string) =>
    positions.filter((p) => comparePositions(p, position) > 0);
  const submitRun = async (prefix: string, tenantId = tenant) => {
    const res = await e.call('POST', '/api/v1/runs', {
      tenant: tenantId,
      body: {
        jobs: [
          { key: 'fetch', type: `${prefix}.fetch` },
          { key: 'parse', type: `${prefix}.parse`, dependsOn: ['fetch'] },
        ],
      },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    return (res.json as { id: string }).id;
  };
  const runEventsInDb = (runId: string) =>
    positionsInDb(tenant, `(data->>'runId' = $2 OR subject_id = $2)`, [runId]);
  const track = <T extends { close(): unknown }>(client: T) => {
    open.push(client);
    return client;
  };
  const sse = async (
    options: { query?: Record<string, string>; lastEventId?: string; tenantId?: string } = {},
  ) => track(await openSse(e.runtime.url, { token, tenant: options.tenantId ?? tenant, ...options }));

  beforeAll(async () => {
    // A fast tick: its fanout sweep delivers events written behind the API's back (direct inserts).
    e = await startE2e(
      { tenant, tokenTenants: [tenant, other] },
      { TICK_INTERVAL_MS: '500', SSE_HEARTBEAT_MS: '300' },
    );
    token = await e.runtime.token({ tenants: [tenant, other] });
  });
  afterAll(async () => {
    for (const client of open) await client.close();
    await e?.stop();
  });

  it('streams a submitted run live over SSE: ids are stream positions, in order, as in the event log', async () => {
    const stream = await sse();
    expect(stream.status).toBe(200);
    await stream.waitFor(() => stream.retry !== null || stream.comments.length > 0, 5_000);
    expect(stream.retry).toBe(1000);
    const runId = await submitRun('sse');
    const expected = await poll(
      () => runEventsInDb(runId),
      (positions) => positions.length >= 3,
      { what: 'the run planned' },
    );
    await stream.waitFor((events) => expected.every((id) => events.some((event) => event.id === id)));
    const ids = stream.events.map((event) => event.id);
    expect([...ids].sort(comparePositions)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const all = await positionsInDb(tenant);
    expect(ids).toEqual(all.slice(all.indexOf(ids[0]!), all.indexOf(ids[0]!) + ids.length));
    const first = stream.events.find((event) => event.id === expected[0])!;
    expect(first.data).toMatchObject({ schema: 'orch.event.v1', tenantId: tenant, eventType: first.event });
    expect(first.data.seq).toBe(Number(first.id.split('.')[1]));
  });

  it('resumes with Last-Event-ID without gaps or duplicates, and it wins over since', async () => {
    const start = (await positionsInDb(tenant)).at(-1) ?? '0.0';
    const first = await sse({ query: { since: start } });
    await submitRun('resume-1');
    await first.waitFor((events) => events.length >= 2);
    first.close();
    const seen = first.events.map((event) => event.id);
    const lastSeen = seen.at(-1)!;
    await submitRun('resume-2');
    await submitRun('resume-3');
    // since points back at the start: Last-Event-ID must take precedence
    const second = await sse({ query: { since: start }, lastEventId: lastSeen });
    const expected = await poll(
      () => positionsInDb(tenant),
      (positions) => positionsAfter(positions, start).length >= seen.length + 6,
      { what: 'the runs planned' },
    );
    const wanted = positionsAfter(expected, start);
    await second.waitFor((events) => events.length >= wanted.length - seen.length);
    const combined = [...seen, ...second.events.map((event) => event.id)];
    expect(combined.slice(0, wanted.length)).toEqual(wanted);
  });

  it('filters by run, job type and event types, and refuses bad requests with the envelope', async () => {
    const runId = await submitRun('filtered');
    await submitRun('unrelated');
    const byRun = await sse({ query: { since: '0.0', run_id: runId } });
    const byType = await sse({
      query: { since: '0.0', job_type: 'filtered.parse', event_types: 'job.pending,job.queued' },
    });
    const expected = await poll(
      () => runEventsInDb(runId),
      (positions) => positions.length >= 3,
    );
    await byRun.waitFor((events) => events.length >= expected.length);
    expect(byRun.events.map((event) => event.id).slice(0, expected.length)).toEqual(expected);
    await byType.waitFor((events) => events.length >= 1);
    for (const event of byType.events) {
      expect(['job.pending', 'job.queued']).toContain(event.event);
      expect((event.data.subject as { data: { type: string } }).data.type).toBe('filtered.parse');
    }

    const call = (path: string, options: Parameters<E2e['call']>[2] = {}) => e.call('GET', path, options);
    expectEnvelope(await call('/api/v1/streams/events', { token: null }), 401, 'UNAUTHENTICATED');
    expectEnvelope(await call('/api/v1/streams/events', { tenant: null }), 403, 'TENANT_REQUIRED');
    expectEnvelope(await call('/api/v1/streams/events', { tenant: 'not-granted' }), 403, 'FORBIDDEN');
    const reader = await e.runtime.token({ tenants: [tenant], scopes: ['orch:operate'] });
    expectEnvelope(await call('/api/v1/streams/events', { token: reader }), 403, 'FORBIDDEN');
    expectEnvelope(await call('/api/v1/streams/events?since=12'), 400, 'VALIDATION_FAILED');
    expectEnvelope(await call('/api/v1/streams/events?event_types=Job'), 400, 'VALIDATION_FAILED');
    expectEnvelope(await call('/api/v1/streams/events?colour=red'), 400, 'VALIDATION_FAILED');
    const badResume = await call('/api/v1/streams/events', { headers: { 'Last-Event-ID': 'nope' } });
    expectEnvelope(badResume, 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(badResume.json)).toContain('headers.Last-Event-ID');
  });

  it('writes heartbeat comments while idle and ends streams when the client leaves', async () => {
    const stream = await sse({ tenantId: other });
    await stream.waitFor(() => stream.comments.includes('ping'), 5_000);
    stream.close();
    await stream.ended;
  });

  it('serves one event by position for event_ref; another tenant gets 404', async () => {
    const [position] = await positionsInDb(tenant);
    const res = await e.call('GET', `/api/v1/streams/events/${position}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      position,
      event: { tenantId: tenant, seq: Number(position!.split('.')[1]) },
    });
    expectEnvelope(
      await e.call('GET', `/api/v1/streams/events/${position}`, { tenant: other }),
      404,
      'NOT_FOUND',
    );
    expectEnvelope(await e.call('GET', '/api/v1/streams/events/1.x'), 404, 'NOT_FOUND');
  });

  it('delivers over WebSocket: live from subscribe, in order, only the own tenant', async () => {
    const client = track(await openWs(e.runtime.wsUrl, { token, tenant }));
    const otherClient = track(await openWs(e.runtime.wsUrl, { token, tenant: other }));
    const reply = await client.request({ action: 'subscribe', id: 'all' }, 'subscribed');
    expect(reply).toMatchObject({
      type: 'subscribed',
      id: 'all',
      position: expect.stringMatching(/^\d+\.\d+$/),
    });
    await otherClient.request({ action: 'subscribe', id: 'mine' }, 'subscribed');
    const runId = await submitRun('ws');
    const otherRun = await submitRun('ws-other', other);
    const expected = await poll(
      () => runEventsInDb(runId),
      (positions) => positions.length >= 3,
    );
    await client.waitFor((c) => expected.every((p) => c.items.some((item) => item.position === p)));
    const positions = client.items.map((item) => item.position);
    expect([...positions].sort(comparePositions)).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
    expect(
      positionsAfter(await positionsInDb(tenant), reply.position as string).slice(0, positions.length),
    ).toEqual(positions);
    for (const item of client.items) {
      expect(item).toMatchObject({ type: 'event', subscriptions: ['all'], event: { tenantId: tenant } });
    }
    await otherClient.waitFor((c) =>
      c.items.some(
        (item) =>
          (item.event?.subject as { id: string })?.id === otherRun ||
          JSON.stringify(item.event).includes(otherRun),
      ),
    );
    expect(otherClient.items.every((item) => item.event?.tenantId === other)).toBe(true);
    expect(client.items.some((item) => item.event?.tenantId === other)).toBe(false);
  });

  it('replays from since, then goes live; several subscriptions on one connection', async () => {
    const runId = await submitRun('since');
    const inDb = await poll(
      () => runEventsInDb(runId),
      (positions) => positions.length >= 3,
    );
    const client = track(await openWs(e.runtime.wsUrl, { token, tenant }));
    await client.request({ action: 'subscribe', id: 'run', filters: { runId }, since: '0.0' }, 'subscribed');
    await client.request(
      { action: 'subscribe', id: 'queued', filters: { eventTypes: ['job.queued'] }, since: '0.0' },
      'subscribed',
    );
    await client.waitFor((c) =>
      inDb.every((p) => c.items.some((item) => item.position === p && item.subscriptions.includes('run'))),
    );
    const positions = client.items.map((item) => item.position);
    expect([...positions].sort(comparePositions)).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
    await client.request({ action: 'unsubscribe', id: 'queued' }, 'unsubscribed');
  });

  it('delivers an event matching several subscriptions once, naming all of them', async () => {
    // Live events only (no since): both subscriptions exist before the run's events are written, so the
    // outcome does not depend on how fast a replay finishes.
    const client = track(await openWs(e.runtime.wsUrl, { token, tenant }));
    await client.request({ action: 'subscribe', id: 'all', filters: {} }, 'subscribed');
    await client.request(
      { action: 'subscribe', id: 'queued', filters: { eventTypes: ['job.queued'] } },
      'subscribed',
    );
    const runId = await submitRun('both');
    // Only this run's events: an earlier test's run may still be planning while the two subscriptions are
    // made one after the other, and its events rightly match only the first.
    const ofRun = (item: (typeof client.items)[number]) =>
      item.event?.eventType === 'job.queued' &&
      (item.event.subject as { data?: { runId?: string } }).data?.runId === runId;
    await client.waitFor((c) => c.items.some(ofRun));
    const queued = client.items.filter(ofRun);
    expect(queued.length).toBeGreaterThan(0);
    expect(queued.every((item) => [...item.subscriptions].sort().join() === 'all,queued')).toBe(true);
    const positions = client.items.map((item) => item.position);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it('sends events over 128 KB as event_ref, fetched by position', async () => {
    const client = track(await openWs(e.runtime.wsUrl, { token, tenant }));
    await client.request(
      { action: 'subscribe', id: 'big', filters: { eventTypes: ['source.updated'] } },
      'subscribed',
    );
    const sourceId = randomUUID();
    const envelope = {
      schema: 'orch.event.v1',
      eventId: randomUUID(),
      eventType: 'source.updated',
      occurredAt: new Date().toISOString(),
      idempotencyKey: `orch-source.updated-${sourceId}-1`,
      correlationId: null,
      tenantId: tenant,
      projectId: null,
      actor: { subject: 'e2e', scopes: [] },
      subject: { kind: 'source', id: sourceId, data: { notes: 'x'.repeat(200_000) } },
    };
    await e.t.admin.query(
      `INSERT INTO events (tenant_id, event_id, event_type, occurred_at, subject_kind, subject_id, idempotency_key,
                           actor, data)
       VALUES ($1, $2, 'source.updated', now(), 'source', $3, $4, $5, $6)`,
      [
        tenant,
        envelope.eventId,
        sourceId,
        envelope.idempotencyKey,
        JSON.stringify(envelope.actor),
        JSON.stringify(envelope.subject.data),
      ],
    );
    // no API call follows: the tick's fanout sweep delivers it
    await client.waitFor((c) => c.items.length >= 1, 10_000);
    const [item] = client.items;
    expect(item).toMatchObject({
      type: 'event_ref',
      eventType: 'source.updated',
      subjectId: sourceId,
      subscriptions: ['big'],
    });
    const fetched = await e.call('GET', `/api/v1/streams/events/${item!.position}`);
    expect(fetched.status).toBe(200);
    expect((fetched.json as { event: typeof envelope }).event.subject.data.notes).toHaveLength(200_000);
  });

  it('forgets a connection the management API answers 410 for', async () => {
    // A connection whose $disconnect never ran (API Gateway calls it on a best-effort basis).
    await e.t.admin.query(
      `INSERT INTO ws_connections (tenant_id, connection_id, subject, subscriptions, connected_at, last_seen_at)
       VALUES ($1, 'ghost', 'e2e', $2, now(), now())`,
      [tenant, JSON.stringify([{ id: 'all', key: randomUUID(), filters: {}, position: '0.0' }])],
    );
    await submitRun('gone');
    await poll(
      async () =>
        (await e.t.admin.query(`SELECT 1 FROM ws_connections WHERE connection_id = 'ghost'`)).rowCount,
      (rows) => rows === 0,
      { what: 'the ghost connection forgotten' },
    );
    // a real socket that closed is forgotten by $disconnect
    const rows = async () =>
      (await e.t.admin.query('SELECT 1 FROM ws_connections WHERE tenant_id = $1', [tenant])).rowCount ?? 0;
    const before = await rows();
    const client = await openWs(e.runtime.wsUrl, { token, tenant });
    await client.request({ action: 'subscribe' }, 'subscribed');
    expect(await rows()).toBe(before + 1);
    await client.close();
    await poll(rows, (n) => n === before, { what: 'the closed connection forgotten' });
  });

  it('runs a run to completion with an SDK worker while an SSE client follows it', async () => {
    const stream: SseClient = await sse();
    const runId = await submitRun('worked');
    const client = new JobEngineClient({ baseUrl: e.runtime.url, token, tenant });
    const done = async () => ({ result: { ok: true } });
    const worker = new Worker({
      client,
      workerId: 'e2e-stream-worker',
      pollIntervalMs: 20,
      maxPollIntervalMs: 100,
      handlers: { 'worked.fetch': done, 'worked.parse': done },
    });
    worker.start();
    try {
      await stream.waitFor(
        (events) =>
          events.some(
            (event) => event.event === 'run.succeeded' && (event.data.subject as { id: string }).id === runId,
          ),
        20_000,
      );
    } finally {
      await worker.stop({ graceful: true, timeoutMs: 5_000 });
    }
    const expected = await runEventsInDb(runId);
    const got = stream.events.map((event) => event.id).filter((id) => expected.includes(id));
    expect(got).toEqual(expected);
  });
});
