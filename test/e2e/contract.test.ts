import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../layers/core/src/openapi/index.ts';
import { send } from '../fuzz/http.ts';
import {
  type DocumentedOperation,
  documentedOperations,
  type Json,
  operationFor,
  type SchemaValidator,
  schemaValidator,
} from '../fuzz/openapi.ts';
import { type CallOptions, type E2e, poll, startE2e } from './helpers.ts';

/**
 * The contract test (DESIGN §8): every route over real HTTP against the local runtime, every response -
 * success and error - validated against the schema the served OpenAPI document gives for its status, and
 * the document checked to cover every operation the runtime serves.
 */
describe('the API honours its OpenAPI document', () => {
  const TENANT = 'contract';
  let e: E2e;
  let document: Json;
  let operations: DocumentedOperation[];
  let validator: SchemaValidator;
  /** operationId → statuses seen */
  const seen = new Map<string, Set<number>>();

  /** A call whose answer must be what the document says for the operation and the status it got. */
  async function call(method: string, path: string, options: CallOptions = {}) {
    const result = await e.call(method, path, options);
    const op = operationFor(operations, method, path.split('?')[0]!);
    expect(op, `${method} ${path} is not documented`).toBeDefined();
    const what = `${method} ${path} → ${result.status} ${JSON.stringify(result.json)?.slice(0, 500)}`;
    expect(validator.responseErrors(op!, result.status, result.json), what).toEqual([]);
    expect(result.headers.get('content-type'), what).toMatch(/^application\/json\b/);
    const response = op!.responses[String(result.status)]!;
    for (const header of Object.keys((response.headers as Json | undefined) ?? {})) {
      if (header === 'Idempotent-Replayed') continue;
      expect(result.headers.get(header), `${what}: header ${header}`).not.toBeNull();
    }
    let statuses = seen.get(op!.operationId);
    if (!statuses) {
      statuses = new Set();
      seen.set(op!.operationId, statuses);
    }
    statuses.add(result.status);
    return result;
  }

  /** An event stream: the status, headers and what arrived until `until` held (a stream does not end). */
  async function stream(
    path: string,
    until: (text: string) => boolean,
    headers: Record<string, string> = {},
  ) {
    const token = await e.runtime.token({ tenants: [TENANT] });
    const result = await send(
      e.runtime.url,
      {
        method: 'GET',
        path,
        headers: { Authorization: `Bearer ${token}`, 'X-Stella-Tenant': TENANT, ...headers },
      },
      { streamMs: 5_000, until },
    );
    if (!result.ok) throw new Error(`GET ${path}: ${result.error}`);
    const op = operationFor(operations, 'GET', path.split('?')[0]!)!;
    const response = op.responses[String(result.status)];
    expect(response, `GET ${path} → ${result.status} is not documented`).toBeDefined();
    const documentedTypes = Object.keys((response!.content as Json | undefined) ?? {});
    const type = String(result.headers['content-type'] ?? '').split(';')[0];
    expect(documentedTypes, `GET ${path} → ${result.status} ${type}`).toContain(type);
    if (type === 'application/json') {
      expect(validator.responseErrors(op, result.status, JSON.parse(result.text))).toEqual([]);
    }
    seen.set(op.operationId, new Set([...(seen.get(op.operationId) ?? []), result.status]));
    return result;
  }

  const expectStatus = (result: { status: number; json: unknown }, status: number, code?: string) => {
    expect(result.status, JSON.stringify(result.json)).toBe(status);
    if (code) expect((result.json as { error: { code: string } }).error.code).toBe(code);
  };

  /** A job of a type nobody else leases, leased now: its id and lease. */
  async function leasedJob(type: string, body: Json = {}) {
    const job = await call('POST', '/api/v1/jobs', { body: { type, ...body } });
    expectStatus(job, 201);
    const leased = await call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'contract-w', types: [type], leaseSeconds: 300 },
    });
    expectStatus(leased, 200);
    expect(leased.json.leases).toHaveLength(1);
    return { jobId: job.json.id as string, leaseId: leased.json.leases[0].leaseId as string };
  }

  async function deadLetteredJob(type: string) {
    const { jobId, leaseId } = await leasedJob(type, { retry: { maxAttempts: 1 } });
    const done = await call('POST', `/api/v1/worker/jobs/${jobId}:complete`, {
      body: { leaseId, outcome: 'failed', error: { retryable: false, errorCode: 'BROKEN', message: 'no' } },
    });
    expectStatus(done, 200);
    expect(done.json).toMatchObject({ accepted: true, status: 'dead_lettered' });
    const letters = await call('GET', `/api/v1/deadletter?job_type=${type}`);
    return { jobId, deadLetterId: letters.json.items.at(-1).id as string };
  }

  beforeAll(async () => {
    e = await startE2e({ tenant: TENANT }, { TICK_INTERVAL_MS: '3600000' });
    const served = await e.call('GET', '/.well-known/openapi', { token: null, tenant: null });
    expect(served.status).toBe(200);
    document = served.json;
    operations = documentedOperations(document);
    validator = schemaValidator(document);
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('serves the generated document, unauthenticated, as JSON', async () => {
    const result = await call('GET', '/.well-known/openapi', { token: null, tenant: null });
    expect(result.headers.get('content-type')).toMatch(/^application\/json/);
    expect(result.json).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    const again = await e.call('GET', '/.well-known/openapi', { token: null, tenant: null });
    expect(JSON.stringify(again.json)).toBe(JSON.stringify(result.json));
    expectStatus(await call('GET', '/.well-known/openapi?x=1', { token: null, tenant: null }), 400);
  });

  it('serves every documented operation: none is an unknown route or method', async () => {
    const token = await e.runtime.token({ tenants: [TENANT] });
    for (const op of operations) {
      const path = op.path.replace(/\{\w+\}/g, randomUUID());
      const result = await send(e.runtime.url, {
        method: op.method,
        path,
        headers: {
          Authorization: `Bearer ${token}`,
          'X-Stella-Tenant': TENANT,
          ...(op.body ? { 'Content-Type': 'application/json' } : {}),
        },
        body: op.body ? Buffer.from('{}') : undefined,
      });
      if (!result.ok) throw new Error(`${op.key}: ${result.error}`);
      const message = (result.json as { error?: { message?: string } })?.error?.message ?? '';
      expect(result.status, `${op.key}: ${message}`).not.toBe(405);
      expect(message, op.key).not.toMatch(/^no route/);
      expect(result.status, `${op.key}: ${message}`).toBeLessThan(500);
    }
  });

  it('probes', async () => {
    expectStatus(await call('GET', '/healthz', { token: null, tenant: null }), 200);
    expectStatus(await call('GET', '/readyz', { token: null, tenant: null }), 200);
  });

  it('sources: create, list with pagination, read, conditional update', async () => {
    const created = [];
    for (const name of ['alpha', 'beta', 'gamma']) {
      const result = await call('POST', '/api/v1/sources', {
        body: { name, type: 'advisory_feed', upstreamHost: `${name}.example`, config: { n: 1 } },
      });
      expectStatus(result, 201);
      created.push(result.json);
    }
    expectStatus(
      await call('POST', '/api/v1/sources', {
        body: { name: 'alpha', type: 'advisory_feed', upstreamHost: 'alpha.example' },
      }),
      409,
      'ALREADY_EXISTS',
    );
    const first = await call('GET', '/api/v1/sources?page_size=2');
    expectStatus(first, 200);
    expect(first.json.next_page_token).toEqual(expect.any(String));
    const second = await call('GET', `/api/v1/sources?page_size=2&page_token=${first.json.next_page_token}`);
    expectStatus(second, 200);
    expect(second.json.next_page_token).toBeNull();
    expectStatus(
      await call('GET', `/api/v1/sources?page_size=2&type=other&page_token=${first.json.next_page_token}`),
      400,
      'INVALID_PAGE_TOKEN',
    );
    const id = created[0].id;
    const read = await call('GET', `/api/v1/sources/${id}`);
    expectStatus(read, 200);
    expect(read.headers.get('etag')).toBe('"1"');
    const updated = await call('PATCH', `/api/v1/sources/${id}`, {
      body: { enabled: false },
      headers: { 'If-Match': '"1"', 'X-Stella-Operator-Reason': 'contract test' },
    });
    expectStatus(updated, 200);
    expectStatus(
      await call('PATCH', `/api/v1/sources/${id}`, {
        body: { enabled: true },
        headers: { 'If-Match': '"1"' },
      }),
      412,
      'PRECONDITION_FAILED',
    );
    expectStatus(await call('PATCH', `/api/v1/sources/${randomUUID()}`, { body: { enabled: true } }), 404);
    expectStatus(await call('GET', '/api/v1/sources/not-a-uuid'), 404, 'NOT_FOUND');
    const invalid = await call('POST', '/api/v1/sources', {
      body: { name: '', type: 'Bad Type', colour: 1 },
    });
    expectStatus(invalid, 400, 'VALIDATION_FAILED');
    expect(invalid.json.error.details.length).toBeGreaterThanOrEqual(3);
  });

  it('runs: submit, read, list, DAG, cancel', async () => {
    const submitted = await call('POST', '/api/v1/runs', {
      body: {
        jobs: [
          { key: 'fetch', type: 'contract.run' },
          { key: 'parse', type: 'contract.run', dependsOn: ['fetch'] },
        ],
        labels: { suite: 'contract' },
      },
    });
    expectStatus(submitted, 202);
    const id = submitted.json.id;
    await poll(
      () => call('GET', `/api/v1/runs/${id}`),
      (r) => r.json.status === 'running',
      { what: 'the run to be planned' },
    );
    expectStatus(await call('GET', '/api/v1/runs?page_size=1'), 200);
    expectStatus(await call('GET', `/api/v1/runs?status=running&kind=adhoc`), 200);
    const dag = await call('GET', `/api/v1/runs/${id}/dag`);
    expectStatus(dag, 200);
    expect(dag.json.edges).toEqual([{ parent: 'fetch', child: 'parse' }]);
    expectStatus(await call('GET', `/api/v1/runs/${randomUUID()}/dag`), 404);
    expectStatus(await call('POST', `/api/v1/runs/${id}:cancel`, { body: { reason: 'contract test' } }), 200);
    expectStatus(await call('POST', `/api/v1/runs/${id}:cancel`, { body: {} }), 409, 'ILLEGAL_TRANSITION');
    expectStatus(
      await call('POST', '/api/v1/runs', { body: { jobs: [{ key: 'a', type: 'x', dependsOn: ['a'] }] } }),
      400,
    );
  });

  it('jobs: idempotent submit, list, read, history, prioritize, cancel, retry', async () => {
    const key = `contract-${randomUUID()}`;
    const body = { type: 'contract.job', payload: { n: 1 }, priority: 5 };
    const first = await call('POST', '/api/v1/jobs', { body, headers: { 'Idempotency-Key': key } });
    expectStatus(first, 201);
    const replay = await call('POST', '/api/v1/jobs', { body, headers: { 'Idempotency-Key': key } });
    expectStatus(replay, 201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json).toEqual(first.json);
    expectStatus(
      await call('POST', '/api/v1/jobs', {
        body: { ...body, priority: 6 },
        headers: { 'Idempotency-Key': key },
      }),
      422,
      'IDEMPOTENCY_KEY_REUSED',
    );
    const id = first.json.id;
    await call('POST', '/api/v1/jobs', { body: { type: 'contract.job' } });
    const page = await call('GET', '/api/v1/jobs?page_size=1&type=contract.job');
    expectStatus(page, 200);
    const next = await call(
      'GET',
      `/api/v1/jobs?page_size=1&type=contract.job&page_token=${page.json.next_page_token}`,
    );
    expectStatus(next, 200);
    expectStatus(await call('GET', `/api/v1/jobs/${id}`), 200);
    expectStatus(await call('GET', `/api/v1/jobs/${id}/history`), 200);
    expectStatus(await call('GET', `/api/v1/jobs/${randomUUID()}/history`), 404);
    expectStatus(await call('POST', `/api/v1/jobs/${id}:prioritize`, { body: { priority: 50 } }), 200);
    expectStatus(await call('POST', `/api/v1/jobs/${id}:cancel`, { body: {} }), 200);
    expectStatus(await call('POST', `/api/v1/jobs/${id}:cancel`, { body: {} }), 409);
    expectStatus(await call('POST', `/api/v1/jobs/${id}:prioritize`, { body: { priority: 1 } }), 409);
    const replayOfCanceled = await call('POST', `/api/v1/jobs/${id}:retry`);
    expectStatus(replayOfCanceled, 200);
    expect(replayOfCanceled.json.replayOf).toBe(id);
    const dead = await deadLetteredJob('contract.retry');
    expectStatus(await call('POST', `/api/v1/jobs/${dead.jobId}:retry`), 200);
    expectStatus(await call('POST', `/api/v1/jobs/${dead.jobId}:retry`), 409, 'ILLEGAL_TRANSITION');
    expectStatus(await call('POST', `/api/v1/jobs/${randomUUID()}:retry`), 404);
  });

  it('worker bridge: lease, heartbeat, progress, complete, batch completion', async () => {
    const empty = await call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'w', types: ['none.here'] },
    });
    expectStatus(empty, 200);
    expect(empty.json.leases).toEqual([]);
    const one = await leasedJob('contract.work');
    expectStatus(
      await call('POST', `/api/v1/worker/leases/${one.leaseId}:heartbeat`, { body: { leaseSeconds: 120 } }),
      200,
    );
    expectStatus(
      await call('POST', `/api/v1/worker/jobs/${one.jobId}:progress`, {
        body: { leaseId: one.leaseId, progress: { percent: 50, message: 'half' } },
      }),
      200,
    );
    const done = await call('POST', `/api/v1/worker/jobs/${one.jobId}:complete`, {
      body: { leaseId: one.leaseId, outcome: 'succeeded', result: { rows: 3 } },
    });
    expectStatus(done, 200);
    expect(done.json).toMatchObject({ accepted: true, status: 'succeeded' });
    expectStatus(
      await call('POST', `/api/v1/worker/leases/${one.leaseId}:heartbeat`, { body: {} }),
      409,
      'LEASE_LOST',
    );
    expectStatus(
      await call('POST', `/api/v1/worker/jobs/${one.jobId}:complete`, {
        body: { leaseId: one.leaseId, outcome: 'succeeded' },
      }),
      409,
      'LEASE_LOST',
    );
    expectStatus(
      await call('POST', `/api/v1/worker/jobs/${one.jobId}:progress`, { body: { leaseId: one.leaseId } }),
      409,
    );
    const two = await leasedJob('contract.batch');
    const batch = await call('POST', '/api/v1/worker/completions', {
      body: { completions: [{ jobId: two.jobId, leaseId: two.leaseId, outcome: 'succeeded' }] },
    });
    expectStatus(batch, 200);
    expect(batch.json.results).toEqual([{ jobId: two.jobId, accepted: true, status: 'succeeded' }]);
    expectStatus(
      await call('POST', '/api/v1/worker/completions', {
        body: { completions: [{ jobId: two.jobId, leaseId: two.leaseId, outcome: 'succeeded' }] },
      }),
      409,
      'LEASE_LOST',
    );
  });

  it('dead letters: list, stats, read, replay one and by filter, discard', async () => {
    const a = await deadLetteredJob('contract.dead');
    const b = await deadLetteredJob('contract.dead');
    const c = await deadLetteredJob('contract.dead');
    const page = await call('GET', '/api/v1/deadletter?page_size=1&status=open');
    expectStatus(page, 200);
    expect(page.json.next_page_token).toEqual(expect.any(String));
    const stats = await call('GET', '/api/v1/deadletter/stats');
    expectStatus(stats, 200);
    expect(stats.json.counts.open).toBeGreaterThanOrEqual(3);
    expectStatus(await call('GET', `/api/v1/deadletter/${a.deadLetterId}`), 200);
    expectStatus(await call('GET', `/api/v1/deadletter/${randomUUID()}`), 404);
    expectStatus(await call('POST', `/api/v1/deadletter/${a.deadLetterId}:replay`, { body: {} }), 201);
    expectStatus(
      await call('POST', `/api/v1/deadletter/${a.deadLetterId}:replay`, { body: {} }),
      409,
      'ILLEGAL_TRANSITION',
    );
    const dry = await call('POST', '/api/v1/deadletter:replay', {
      body: { filter: { jobType: 'contract.dead' } },
    });
    expectStatus(dry, 200);
    expect(dry.json).toMatchObject({ dryRun: true, matched: 2, replayed: [] });
    expectStatus(await call('POST', `/api/v1/deadletter/${b.deadLetterId}:discard`, { body: {} }), 200);
    expectStatus(await call('POST', `/api/v1/deadletter/${b.deadLetterId}:discard`, { body: {} }), 409);
    const real = await call('POST', '/api/v1/deadletter:replay', {
      body: { filter: { jobType: 'contract.dead' }, dryRun: false, priority: 10 },
    });
    expectStatus(real, 200);
    expect(real.json.replayed).toEqual([{ deadLetterId: c.deadLetterId, jobId: expect.any(String) }]);
  });

  it('queues: redrive a dead-letter queue (in process: receive/send/delete), platform operators only', async () => {
    const operator = await e.runtime.token({ tenants: '*' });
    const reason = { 'X-Stella-Operator-Reason': 'contract: planner fixed' };
    const dry = await call('POST', '/api/v1/queues/plan:redrive', {
      token: operator,
      headers: reason,
      body: { dryRun: true },
    });
    expectStatus(dry, 200);
    expect(dry.json).toEqual({ queue: 'plan', dryRun: true, method: 'none', moved: 0, available: 0 });
    const real = await call('POST', '/api/v1/queues/fanout:redrive', {
      token: operator,
      headers: reason,
      body: { maxMessages: 10 },
    });
    expectStatus(real, 200);
    expect(real.json).toMatchObject({
      queue: 'fanout',
      dryRun: false,
      method: 'receive-send-delete',
      moved: 0,
    });
    expectStatus(
      await call('POST', '/api/v1/queues/plan:redrive', { token: operator, body: {} }),
      400,
      'VALIDATION_FAILED',
    );
    expectStatus(
      await call('POST', '/api/v1/queues/plan:redrive', { headers: reason, body: {} }),
      403,
      'FORBIDDEN',
    );
    expectStatus(
      await call('POST', '/api/v1/queues/events:redrive', { token: operator, headers: reason, body: {} }),
      404,
      'NOT_FOUND',
    );
  });

  it('pack runs: create in a project, read, logs', async () => {
    const created = await call('POST', '/api/v1/pack-runs', {
      body: { pack: 'sbom-scan@1.4', projectId: 'contract-project', params: { image: 'app:1' } },
    });
    expectStatus(created, 201);
    expectStatus(
      await call('POST', '/api/v1/pack-runs', { body: { pack: 'sbom-scan@1.4' } }),
      422,
      'PROJECT_REQUIRED',
    );
    expectStatus(await call('GET', `/api/v1/pack-runs/${created.json.id}`), 200);
    expectStatus(await call('GET', `/api/v1/pack-runs/${created.json.id}/logs?page_size=10`), 200);
    expectStatus(await call('GET', `/api/v1/pack-runs/${randomUUID()}`), 404);
    expectStatus(await call('GET', `/api/v1/pack-runs/${randomUUID()}/logs`), 404);
  });

  it('schedules and watermarks: create, list, read, next fires, update, pause, resume, delete', async () => {
    const source = await call('POST', '/api/v1/sources', {
      body: { name: 'contract-scheduled', type: 'contract_feed', upstreamHost: 'feed.example' },
    });
    expectStatus(source, 201);
    const body = {
      name: 'contract-hourly',
      cron: '0 * * * *',
      timezone: 'Europe/Berlin',
      sourceId: source.json.id,
      stream: 'advisories',
      runTemplate: { jobs: [{ key: 'ingest', type: 'contract.ingest', payload: {} }] },
      catchUp: 'fire_all',
      maxWindowSeconds: 3600,
    };
    const created = await call('POST', '/api/v1/schedules', { body });
    expectStatus(created, 201);
    expect(created.headers.get('location')).toBe(`/api/v1/schedules/${created.json.id}`);
    expectStatus(await call('POST', '/api/v1/schedules', { body }), 409, 'ALREADY_EXISTS');
    expectStatus(
      await call('POST', '/api/v1/schedules', { body: { ...body, name: 'bad-zone', timezone: 'Mars/Base' } }),
      400,
      'VALIDATION_FAILED',
    );
    const id = created.json.id as string;
    expectStatus(await call('GET', '/api/v1/schedules?page_size=1'), 200);
    expectStatus(await call('GET', `/api/v1/schedules/${id}`), 200);
    const next = await call('GET', `/api/v1/schedules/${id}/next?count=3`);
    expectStatus(next, 200);
    expect(next.json.fireTimes).toHaveLength(3);
    expectStatus(await call('PATCH', `/api/v1/schedules/${id}`, { body: { cron: '*/30 * * * *' } }), 200);
    expectStatus(await call('POST', `/api/v1/schedules/${id}:pause`), 200);
    expectStatus(await call('POST', `/api/v1/schedules/${id}:pause`), 409, 'ILLEGAL_TRANSITION');
    expectStatus(await call('POST', `/api/v1/schedules/${id}:resume`), 200);
    expectStatus(await call('GET', `/api/v1/sources/${source.json.id}/watermarks`), 200);
    expectStatus(await call('GET', `/api/v1/sources/${randomUUID()}/watermarks`), 404);
    expectStatus(await call('DELETE', `/api/v1/schedules/${id}`), 200);
    expectStatus(await call('GET', `/api/v1/schedules/${id}`), 404);
  });

  it('backfills: dry run, start, list, read, pause, resume, cancel; reason and ticket required', async () => {
    const source = await call('POST', '/api/v1/sources', {
      body: { name: 'contract-backfilled', type: 'contract_backfill', upstreamHost: 'feed.example' },
    });
    expectStatus(source, 201);
    const notes = { 'X-Stella-Operator-Reason': 'reprocess January', 'X-Stella-Operator-Ticket': 'OPS-1' };
    const body = {
      sourceId: source.json.id,
      start: '2024-01-01T00:00:00Z',
      end: '2024-01-02T00:00:00Z',
      chunkSeconds: 7200,
      maxConcurrency: 2,
    };
    const noTicket = await call('POST', '/api/v1/backfills', {
      body,
      headers: { 'X-Stella-Operator-Reason': 'reprocess January' },
    });
    expectStatus(noTicket, 400, 'VALIDATION_FAILED');
    const dry = await call('POST', '/api/v1/backfills', { body: { ...body, dryRun: true }, headers: notes });
    expectStatus(dry, 200);
    expect(dry.json).toMatchObject({ dryRun: true, chunkCount: 12 });
    const started = await call('POST', '/api/v1/backfills', { body, headers: notes });
    expectStatus(started, 201);
    expect(started.json).toMatchObject({ status: 'running', progress: { queued: 2, pending: 10 } });
    expectStatus(await call('POST', '/api/v1/backfills', { body, headers: notes }), 409, 'BACKFILL_OVERLAP');
    const id = started.json.id as string;
    expectStatus(await call('GET', '/api/v1/backfills?page_size=1'), 200);
    expectStatus(await call('GET', `/api/v1/backfills/${id}`), 200);
    expectStatus(await call('POST', `/api/v1/backfills/${id}:pause`), 400, 'VALIDATION_FAILED');
    expectStatus(await call('POST', `/api/v1/backfills/${id}:pause`, { headers: notes }), 200);
    expectStatus(await call('POST', `/api/v1/backfills/${id}:resume`, { headers: notes }), 200);
    const canceled = await call('POST', `/api/v1/backfills/${id}:cancel`, { headers: notes });
    expectStatus(canceled, 200);
    expect(canceled.json).toMatchObject({ status: 'canceled', progress: { canceled: 12 } });
    expectStatus(
      await call('POST', `/api/v1/backfills/${id}:cancel`, { headers: notes }),
      409,
      'ILLEGAL_TRANSITION',
    );
    expectStatus(await call('GET', `/api/v1/backfills/${randomUUID()}`), 404);
  });

  it('streams: follow events as Server-Sent Events, read one by position', async () => {
    const idOf = (text: string) => /^id: (\S+)$/m.exec(text)?.[1];
    const followed = await stream('/api/v1/streams/events?since=0.0', (text) => idOf(text) !== undefined);
    expect(followed.status).toBe(200);
    const position = idOf(followed.text);
    expect(position).toMatch(/^\d+\.\d+$/);
    const resumed = await stream('/api/v1/streams/events', (text) => idOf(text) !== undefined, {
      'Last-Event-ID': position!,
    });
    expect(resumed.status).toBe(200);
    const event = await call('GET', `/api/v1/streams/events/${position}`);
    expectStatus(event, 200);
    expect(event.json.position).toBe(position);
    expectStatus(await call('GET', '/api/v1/streams/events/99999999.1'), 404);
    expectStatus(await call('GET', '/api/v1/streams/events/not-a-position'), 404);
    expectStatus(await call('GET', '/api/v1/streams/events?event_types=NOT%20AN%20EVENT'), 400);
    expectStatus(
      await call('GET', '/api/v1/streams/events', { headers: { 'Last-Event-ID': 'yesterday' } }),
      400,
    );
  });

  it('audit: the log, a signed export and its files, artifacts by run and by digest', async () => {
    const digest = `sha256:${'f'.repeat(64)}`;
    const { jobId, leaseId } = await leasedJob('contract.artifact');
    const done = await call('POST', `/api/v1/worker/jobs/${jobId}:complete`, {
      body: {
        leaseId,
        outcome: 'succeeded',
        artifacts: [
          { uri: 's3://b/out.json', digest, sizeBytes: 3, mediaType: 'application/json', kind: 'report' },
        ],
      },
    });
    expectStatus(done, 200);
    const log = await call('GET', '/api/v1/audit?page_size=2&action=job.submit');
    expectStatus(log, 200);
    expect(log.json.items[0]).toMatchObject({ action: 'job.submit', target: { kind: 'job' } });
    expectStatus(await call('GET', '/api/v1/audit?from=yesterday'), 400, 'VALIDATION_FAILED');

    const job = await call('GET', `/api/v1/jobs/${jobId}`);
    const artifacts = await call('GET', `/api/v1/runs/${job.json.runId}/artifacts`);
    expectStatus(artifacts, 200);
    expect(artifacts.json.items).toEqual([expect.objectContaining({ digest, jobId, attempt: 1 })]);
    const byDigest = await call('GET', `/api/v1/artifacts/${digest}`);
    expectStatus(byDigest, 200);
    expect(byDigest.json).toMatchObject({ digest, more: false, registrations: [{ uri: 's3://b/out.json' }] });
    expectStatus(await call('GET', `/api/v1/artifacts/sha256:${'0'.repeat(64)}`), 404);
    expectStatus(await call('GET', `/api/v1/runs/${randomUUID()}/artifacts`), 404);

    const window = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() };
    const created = await call('POST', '/api/v1/audit/exports', {
      body: window,
      headers: { 'X-Stella-Operator-Reason': 'contract export' },
    });
    expectStatus(created, 201);
    expect(created.json).toMatchObject({ status: 'succeeded', window });
    expect(created.headers.get('location')).toBe(`/api/v1/audit/exports/${created.json.id}`);
    const status = await call('GET', `/api/v1/audit/exports/${created.json.id}`);
    expectStatus(status, 200);
    expect(status.json).toEqual(created.json);
    const manifest = await stream(
      `/api/v1/audit/exports/${created.json.id}/files/manifest.json`,
      () => false,
    );
    expect(manifest.status).toBe(200);
    expect(manifest.headers.etag).toBe(`"${created.json.manifestDigest}"`);
    expect(JSON.parse(manifest.text)).toMatchObject({ tenant: TENANT, window });
    expectStatus(await call('GET', `/api/v1/audit/exports/${created.json.id}/files/secrets.txt`), 404);
    expectStatus(await call('GET', `/api/v1/audit/exports/${randomUUID()}`), 404);
    expectStatus(
      await call('POST', '/api/v1/audit/exports', { body: { ...window, runId: randomUUID() } }),
      404,
    );
    expectStatus(
      await call('POST', '/api/v1/audit/exports', { body: { from: window.to, to: window.from } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('flow control: quotas, buckets, throttles, source pause, circuits, incidents, explain, 429', async () => {
    const reason = { 'X-Stella-Operator-Reason': 'contract test' };
    const quota = await call('POST', '/api/v1/quotas', {
      headers: reason,
      body: { jobType: 'contract.fc', maxQueued: 1, burst: 5, refillPerHour: 60 },
    });
    expectStatus(quota, 201);
    const id = quota.json.id;
    expectStatus(await call('GET', '/api/v1/quotas?job_type=contract.fc'), 200);
    expectStatus(await call('GET', `/api/v1/quotas/${id}`), 200);
    expectStatus(await call('PATCH', `/api/v1/quotas/${id}`, { headers: reason, body: { weight: 2 } }), 200);
    expectStatus(await call('POST', `/api/v1/quotas/${id}:pause`), 200);
    expectStatus(await call('POST', `/api/v1/quotas/${id}:resume`), 200);
    const job = await call('POST', '/api/v1/jobs', { body: { type: 'contract.fc' } });
    expectStatus(job, 201);
    const limited = await call('POST', '/api/v1/jobs', { body: { type: 'contract.fc' } });
    expectStatus(limited, 429, 'RATE_LIMITED');
    expect(limited.headers.get('x-ratelimit-limit')).toBe('1');
    expectStatus(await call('GET', '/api/v1/quotas/summary'), 200);
    expectStatus(await call('GET', `/api/v1/jobs/${job.json.id}/explain`), 200);
    expectStatus(await call('DELETE', `/api/v1/quotas/${id}`, { headers: reason }), 200);
    expectStatus(await call('GET', `/api/v1/quotas/${id}`), 404);

    const bucket = await call('POST', '/api/v1/buckets', {
      headers: reason,
      body: { sourceHost: 'contract.example', burst: 5, refillPerHour: 60 },
    });
    expectStatus(bucket, 201);
    expectStatus(await call('GET', '/api/v1/buckets'), 200);
    expectStatus(await call('GET', `/api/v1/buckets/${bucket.json.id}`), 200);
    expectStatus(
      await call('PATCH', `/api/v1/buckets/${bucket.json.id}`, {
        headers: reason,
        body: { refillPerHour: 120 },
      }),
      200,
    );
    expectStatus(await call('DELETE', `/api/v1/buckets/${bucket.json.id}`, { headers: reason }), 200);

    const throttle = await call('POST', '/api/v1/throttles', {
      headers: reason,
      body: { target: { kind: 'tenant' }, kind: 'concurrency', maxConcurrency: 3 },
    });
    expectStatus(throttle, 201);
    expectStatus(await call('GET', '/api/v1/throttles?active=true'), 200);
    expectStatus(await call('POST', `/api/v1/throttles/${throttle.json.id}:lift`), 200);

    const source = await call('POST', '/api/v1/sources', {
      body: { name: 'contract-fc', type: 'feed', upstreamHost: 'contract.example' },
    });
    expectStatus(await call('POST', `/api/v1/sources/${source.json.id}:pause`, { headers: reason }), 200);
    expectStatus(await call('POST', `/api/v1/sources/${source.json.id}:pause`), 409, 'ILLEGAL_TRANSITION');
    expectStatus(await call('POST', `/api/v1/sources/${source.json.id}:resume`), 200);
    expectStatus(await call('GET', '/api/v1/circuits?state=closed'), 200);
    expectStatus(await call('GET', '/api/v1/incidents?status=open'), 200);
  });

  it('errors: authentication, tenant, scope, media type, JSON, size', async () => {
    expectStatus(await call('GET', '/api/v1/jobs', { token: null }), 401, 'UNAUTHENTICATED');
    expectStatus(await call('GET', '/api/v1/jobs', { token: 'not.a.jwt' }), 401, 'UNAUTHENTICATED');
    expectStatus(await call('GET', '/api/v1/jobs', { tenant: null }), 403, 'TENANT_REQUIRED');
    expectStatus(await call('GET', '/api/v1/jobs', { tenant: 'someone-else' }), 403, 'FORBIDDEN');
    const reader = await e.runtime.token({ tenants: [TENANT], scopes: ['orch:read'] });
    expectStatus(
      await call('POST', '/api/v1/jobs', { token: reader, body: { type: 'x' } }),
      403,
      'FORBIDDEN',
    );
    expectStatus(
      await call('POST', '/api/v1/jobs', { raw: 'type=x', headers: { 'Content-Type': 'text/plain' } }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectStatus(await call('POST', '/api/v1/jobs', { raw: '{"type":' }), 400, 'INVALID_JSON');
    expectStatus(
      await call('POST', '/api/v1/jobs', { body: { type: 'x', payload: { pad: 'x'.repeat(1_100_000) } } }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectStatus(await call('GET', '/api/v1/jobs?page_token=forged.token'), 400, 'INVALID_PAGE_TOKEN');
    expectStatus(await call('GET', '/api/v1/jobs?colour=red'), 400, 'VALIDATION_FAILED');
    expectStatus(await call('GET', '/api/v1/jobs/stats'), 404);
  });

  it('exercised every documented operation with its success status', () => {
    const missing = operations
      .filter((op) => !seen.get(op.operationId)?.has(op.successStatus))
      .map((op) => `${op.key} (${op.successStatus})`);
    expect(missing).toEqual([]);
    const errorStatuses = new Set(
      [...seen.values()].flatMap((statuses) => [...statuses]).filter((s) => s >= 400),
    );
    expect([...errorStatuses].sort()).toEqual(
      expect.arrayContaining([400, 401, 403, 404, 409, 412, 413, 415, 422]),
    );
  });
});
