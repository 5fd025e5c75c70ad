import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient, type Lease } from '../../sdk/worker/src/index.ts';
import { type E2e, expectEnvelope, ISO, payloadDigest, poll, startE2e, UUID } from './helpers.ts';

/** The jobs API end to end (DESIGN §6, §8): one-job submissions, lists, history, cancel, retry, prioritize. */
describe('jobs API over HTTP', () => {
  let e: E2e;
  let sdk: JobEngineClient;
  const TENANT = 'jobs-a';

  const createJob = async (body: Record<string, unknown>) => {
    const res = await e.call('POST', '/api/v1/jobs', { body });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json as { id: string; runId: string; status: string; priority: number };
  };
  const getJob = async (id: string) => (await e.call('GET', `/api/v1/jobs/${id}`)).json;
  const leaseOne = async (type: string): Promise<Lease> => {
    const { leases } = await sdk.lease({ workerId: 'w-jobs', types: [type] });
    expect(leases, `one ${type} job to lease`).toHaveLength(1);
    return leases[0]!;
  };
  const deadLetter = async (type: string, payload: Record<string, unknown> = {}) => {
    const job = await createJob({ type, payload, retry: { maxAttempts: 3, baseMs: 10 } });
    const lease = await leaseOne(type);
    await sdk.completeOne(job.id, {
      leaseId: lease.leaseId,
      outcome: 'failed',
      error: { retryable: false, errorCode: 'BROKEN', errorClass: 'validation' },
    });
    expect((await getJob(job.id)).status).toBe('dead_lettered');
    return job;
  };
  const failRetryably = async (type: string) => {
    const job = await createJob({ type, retry: { baseMs: 120_000, jitter: 0 } });
    const lease = await leaseOne(type);
    await sdk.completeOne(job.id, {
      leaseId: lease.leaseId,
      outcome: 'failed',
      error: { retryable: true, errorCode: 'SLOW_UPSTREAM' },
    });
    const queued = await getJob(job.id);
    expect(queued.status).toBe('queued');
    expect(Date.parse(queued.notBefore)).toBeGreaterThan(Date.now() + 100_000);
    return job;
  };

  /** Follows next_page_token; stops after maxPages (a list that never ends fails the caller's assertion). */
  const pageThrough = async (path: string, maxPages = 10) => {
    const seen: string[] = [];
    let token: string | null = null;
    for (let pages = 0; pages < maxPages; pages++) {
      const page = await e.call('GET', `${path}${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((j: { id: string }) => j.id));
      token = page.json.next_page_token;
      if (!token) return seen;
    }
    return [...seen, 'page-limit-reached'];
  };

  beforeAll(async () => {
    e = await startE2e({ tenant: TENANT });
    sdk = new JobEngineClient({
      baseUrl: e.runtime.url,
      token: await e.runtime.token({ tenants: [TENANT] }),
      tenant: TENANT,
    });
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('POST /jobs answers 201 with a queued job in a one-job run', async () => {
    const payload = { advisory: 'GHSA-xxxx', nested: { b: 2, a: 1 } };
    const res = await e.call('POST', '/api/v1/jobs', {
      body: { type: 'submit.t', payload, priority: -3, key: 'scan-1', projectId: 'proj-1' },
      headers: { 'X-Correlation-Id': 'corr-job-1' },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/api/v1/jobs/${res.json.id}`);
    expect(res.json).toEqual({
      id: expect.stringMatching(UUID),
      runId: expect.stringMatching(UUID),
      key: 'scan-1',
      type: 'submit.t',
      status: 'queued',
      priority: -3,
      payload,
      payloadDigest: payloadDigest(payload),
      attempt: 0,
      maxAttempts: 5,
      notBefore: expect.stringMatching(ISO),
      lease: null,
      progress: null,
      result: null,
      lastError: null,
      reason: null,
      replayOf: null,
      sourceId: null,
      projectId: 'proj-1',
      correlationId: 'corr-job-1',
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
      startedAt: null,
      finishedAt: null,
    });
    expect(await getJob(res.json.id)).toEqual(res.json);
    expect((await e.call('GET', `/api/v1/runs/${res.json.runId}`)).json).toMatchObject({
      kind: 'adhoc',
      status: 'running',
      projectId: 'proj-1',
      jobs: { total: 1 },
    });
    const history = (await e.call('GET', `/api/v1/jobs/${res.json.id}/history`)).json;
    expect(history).toEqual({
      items: [
        {
          id: expect.any(Number),
          attempt: 0,
          from: null,
          to: 'queued',
          transition: 'plan',
          reason: null,
          leaseId: null,
          actor: 'e2e-tester',
          details: null,
          at: expect.stringMatching(ISO),
        },
      ],
      next_page_token: null,
    });
    // defaults: key `job`, priority 0, empty payload
    expect(await createJob({ type: 'submit.t' })).toMatchObject({ key: 'job', priority: 0, payload: {} });
  });

  it('lists jobs by status, type and run, in creation order', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createJob({ type: 'list.t', payload: { i } })).id);
    const other = await createJob({ type: 'list.other' });
    const lease = await leaseOne('list.t'); // the oldest list.t job becomes leased
    expect(lease.jobId).toBe(created[0]);

    const byType = (await e.call('GET', '/api/v1/jobs?type=list.t&page_size=500')).json;
    expect(byType.items.map((j: { id: string }) => j.id)).toEqual(created);
    const queued = (await e.call('GET', '/api/v1/jobs?type=list.t&status=queued')).json;
    expect(queued.items.map((j: { id: string }) => j.id)).toEqual(created.slice(1));
    const leased = (await e.call('GET', '/api/v1/jobs?status=leased')).json;
    expect(leased.items.map((j: { id: string }) => j.id)).toEqual([created[0]]);
    const byRun = (await e.call('GET', `/api/v1/jobs?run_id=${other.runId}`)).json;
    expect(byRun).toEqual({ items: [await getJob(other.id)], next_page_token: null });
    expect((await e.call('GET', '/api/v1/jobs?type=list.none')).json).toEqual({
      items: [],
      next_page_token: null,
    });

    // creation order, ending with the id: ids ascend (UUIDv7) and so do creation times
    const all = (await e.call('GET', '/api/v1/jobs?page_size=500')).json.items as {
      id: string;
      createdAt: string;
    }[];
    for (let i = 1; i < all.length; i++) {
      expect(all[i - 1]!.id < all[i]!.id).toBe(true);
      expect(all[i - 1]!.createdAt <= all[i]!.createdAt).toBe(true);
    }

    const first = await e.call('GET', '/api/v1/jobs?type=list.t&page_size=1');
    expectEnvelope(
      await e.call(
        'GET',
        `/api/v1/jobs?type=list.other&page_token=${encodeURIComponent(first.json.next_page_token)}`,
      ),
      400,
      'INVALID_PAGE_TOKEN',
    );
    expectEnvelope(await e.call('GET', '/api/v1/jobs?status=sleeping'), 400, 'VALIDATION_FAILED');
    expectEnvelope(await e.call('GET', '/api/v1/jobs?run_id=123'), 400, 'VALIDATION_FAILED');
    expectEnvelope(await e.call('GET', '/api/v1/jobs?type=Upper'), 400, 'VALIDATION_FAILED');
    expectEnvelope(await e.call('GET', '/api/v1/jobs?page_size=0'), 400, 'VALIDATION_FAILED');
  });

  /**
   * Regression: at HEAD (cdcb930) jobs got `created_at = now()` in SQL (microseconds) while the page token kept
   * `createdAt.toISOString()` (milliseconds), so `(created_at, id) > token` matched the previous page's last
   * row again - pages overlapped and page_size=1 never advanced.
   */
  it('pages through jobs without repeating an item', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await createJob({ type: 'page.t', payload: { i } })).id);
    expect(await pageThrough('/api/v1/jobs?type=page.t&page_size=2')).toEqual(created);
  });

  it('page_size=1 over jobs advances to the end', async () => {
    const created: string[] = [];
    for (let i = 0; i < 3; i++) created.push((await createJob({ type: 'page.one', payload: { i } })).id);
    expect(await pageThrough('/api/v1/jobs?type=page.one&page_size=1', 6)).toEqual(created);
  });

  it(':prioritize changes the lease order', async () => {
    const first = await createJob({ type: 'prio.t', key: 'first' });
    const second = await createJob({ type: 'prio.t', key: 'second' });
    const third = await createJob({ type: 'prio.t', key: 'third' });
    const res = await e.call('POST', `/api/v1/jobs/${third.id}:prioritize`, { body: { priority: 90 } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: third.id, priority: 90, status: 'queued' });
    expect(
      (await e.call('POST', `/api/v1/jobs/${first.id}:prioritize`, { body: { priority: -10 } })).status,
    ).toBe(200);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push((await leaseOne('prio.t')).jobId);
    expect(order).toEqual([third.id, second.id, first.id]);

    const event = await e.t.admin.query(
      `SELECT data FROM events WHERE event_type = 'job.prioritized' AND subject_id = $1`,
      [third.id],
    );
    expect(event.rows).toEqual([{ data: expect.objectContaining({ priority: 90, previousPriority: 0 }) }]);

    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${third.id}:prioritize`, { body: { priority: 101 } }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${third.id}:prioritize`, { body: { priority: 1.5 } }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${third.id}:prioritize`, { body: {} }),
      400,
      'VALIDATION_FAILED',
    );
    // a finished job cannot be reprioritized
    const done = await createJob({ type: 'prio.done' });
    const lease = await leaseOne('prio.done');
    await sdk.completeOne(done.id, { leaseId: lease.leaseId, outcome: 'succeeded' });
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${done.id}:prioritize`, { body: { priority: 5 } }),
      409,
      'ILLEGAL_TRANSITION',
    );
  });

  it(':cancel cancels a queued job, which is never leased; a second cancel is 409', async () => {
    const job = await createJob({ type: 'cancel.t' });
    const res = await e.call('POST', `/api/v1/jobs/${job.id}:cancel`, {
      body: { reason: 'duplicate submission' },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: job.id,
      status: 'canceled',
      reason: 'duplicate submission',
      finishedAt: expect.stringMatching(ISO),
    });
    expect((await sdk.lease({ workerId: 'w-jobs', types: ['cancel.t'] })).leases).toEqual([]);
    expect((await e.call('GET', `/api/v1/runs/${job.runId}`)).json).toMatchObject({
      status: 'canceled',
      jobs: { total: 1, canceled: 1 },
    });
    const history = (await e.call('GET', `/api/v1/jobs/${job.id}/history`)).json.items;
    expect(history.at(-1)).toMatchObject({
      transition: 'cancel',
      from: 'queued',
      to: 'canceled',
      reason: 'duplicate submission',
    });
    expectEnvelope(await e.call('POST', `/api/v1/jobs/${job.id}:cancel`), 409, 'ILLEGAL_TRANSITION');

    // the operator-reason header is the default reason
    const other = await createJob({ type: 'cancel.t' });
    const viaHeader = await e.call('POST', `/api/v1/jobs/${other.id}:cancel`, {
      headers: { 'X-Stella-Operator-Reason': 'ticket OPS-1' },
    });
    expect(viaHeader.json).toMatchObject({ status: 'canceled', reason: 'ticket OPS-1' });
    const third = await createJob({ type: 'cancel.t' });
    expect((await e.call('POST', `/api/v1/jobs/${third.id}:cancel`)).json).toMatchObject({
      reason: 'canceled_by_operator',
    });
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${third.id}:cancel`, {
        headers: { 'X-Stella-Operator-Reason': 'x'.repeat(257) },
      }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it(':cancel of a leased job voids the lease: the worker gets LEASE_LOST', async () => {
    const job = await createJob({ type: 'cancel.leased' });
    const lease = await leaseOne('cancel.leased');
    expect((await e.call('POST', `/api/v1/jobs/${job.id}:cancel`)).json).toMatchObject({
      status: 'canceled',
      lease: null,
    });
    await expect(sdk.heartbeat(lease.leaseId)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(
      sdk.completeOne(job.id, { leaseId: lease.leaseId, outcome: 'succeeded' }),
    ).rejects.toMatchObject({
      code: 'LEASE_LOST',
    });
    expect((await getJob(job.id)).status).toBe('canceled');
  });

  it(':cancel of a parent cancels its pending descendants (upstream_failed) and the run', async () => {
    const run = await e.call('POST', '/api/v1/runs', {
      body: {
        jobs: [
          { key: 'a', type: 'cancel.dag' },
          { key: 'b', type: 'cancel.dag', dependsOn: ['a'] },
          { key: 'c', type: 'cancel.dag', dependsOn: ['b'] },
        ],
      },
    });
    expect(run.status).toBe(202);
    const dag = await poll(
      async () => (await e.call('GET', `/api/v1/runs/${run.json.id}/dag`)).json,
      (d) => d.run.status !== 'planning',
      { what: 'run planned' },
    );
    const [a, b, c] = dag.jobs.map((j: { id: string }) => j.id) as string[];
    expect(
      (await e.call('POST', `/api/v1/jobs/${a}:cancel`, { body: { reason: 'wrong feed' } })).status,
    ).toBe(200);
    expect(await getJob(a!)).toMatchObject({ status: 'canceled', reason: 'wrong feed' });
    for (const id of [b!, c!]) {
      expect(await getJob(id)).toMatchObject({ status: 'canceled', reason: 'upstream_failed' });
      const history = (await e.call('GET', `/api/v1/jobs/${id}/history`)).json.items;
      expect(history.at(-1)).toMatchObject({
        transition: 'upstream_failed',
        from: 'pending',
        to: 'canceled',
      });
    }
    expect((await e.call('GET', `/api/v1/runs/${run.json.id}`)).json).toMatchObject({
      status: 'canceled',
      jobs: { total: 3, canceled: 3 },
    });
  });

  it(':retry of a dead-lettered job replays it as a new job (replayOf, priority 50), leaving history alone', async () => {
    const original = await deadLetter('retry.dead', { doc: 42 });
    const historyBefore = (await e.call('GET', `/api/v1/jobs/${original.id}/history`)).json;
    const res = await e.call('POST', `/api/v1/jobs/${original.id}:retry`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: expect.stringMatching(UUID),
      type: 'retry.dead',
      status: 'queued',
      priority: 50,
      attempt: 0,
      maxAttempts: 3,
      payload: { doc: 42 },
      replayOf: original.id,
    });
    expect(res.json.id).not.toBe(original.id);
    expect(res.json.runId).not.toBe(original.runId);
    expect((await e.call('GET', `/api/v1/runs/${res.json.runId}`)).json).toMatchObject({
      kind: 'replay',
      labels: { replayOf: original.id },
    });
    expect(await getJob(original.id)).toMatchObject({ status: 'dead_lettered' });
    expect((await e.call('GET', `/api/v1/jobs/${original.id}/history`)).json).toEqual(historyBefore);
    const lease = await leaseOne('retry.dead');
    expect(lease).toMatchObject({ jobId: res.json.id, attempt: 1, payload: { doc: 42 } });
  });

  /**
   * :retry of a dead-lettered job (JobsService.retry → replayIn) creates the replay job but leaves the job's
   * dead letter `open` and never marks it `replayed`, and a second :retry replays it again - while
   * POST /deadletter/{id}:replay of the same failure marks it and refuses a second replay (409). The same
   * failure can so be replayed any number of times (and is still counted open in /deadletter/stats).
   */
  it(':retry of a dead-lettered job marks its dead letter replayed, and a second :retry is refused', async () => {
    const original = await deadLetter('retry.twice');
    const replay = await e.call('POST', `/api/v1/jobs/${original.id}:retry`);
    expect(replay.status).toBe(200);
    const letter = (await e.call('GET', '/api/v1/deadletter?job_type=retry.twice')).json.items[0];
    expect(letter).toMatchObject({ jobId: original.id, status: 'replayed', replayedJobId: replay.json.id });
    expectEnvelope(await e.call('POST', `/api/v1/jobs/${original.id}:retry`), 409, 'ILLEGAL_TRANSITION');
    const replays = await e.t.admin.query('SELECT count(*)::int AS n FROM jobs WHERE replay_of = $1', [
      original.id,
    ]);
    expect(replays.rows[0].n).toBe(1);
  });

  it(':retry of a queued job in backoff makes it ready now', async () => {
    const job = await failRetryably('retry.backoff');
    expect((await sdk.lease({ workerId: 'w-jobs', types: ['retry.backoff'] })).leases).toEqual([]);
    const res = await e.call('POST', `/api/v1/jobs/${job.id}:retry`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: job.id, status: 'queued', attempt: 1, replayOf: null });
    expect(Date.parse(res.json.notBefore)).toBeLessThanOrEqual(Date.now());
    const lease = await leaseOne('retry.backoff');
    expect(lease).toMatchObject({ jobId: job.id, attempt: 2, idempotencyKey: `orch-job-${job.id}-2` });
    const event = await e.t.admin.query(
      `SELECT idempotency_key FROM events WHERE event_type = 'job.retry_requested' AND subject_id = $1`,
      [job.id],
    );
    expect(event.rows).toEqual([{ idempotency_key: `orch-job.retry_requested-${job.id}-1` }]);
    // a job a worker holds cannot be retried; neither can a succeeded one
    expectEnvelope(await e.call('POST', `/api/v1/jobs/${job.id}:retry`), 409, 'ILLEGAL_TRANSITION');
    await sdk.completeOne(job.id, { leaseId: lease.leaseId, outcome: 'succeeded' });
    expectEnvelope(await e.call('POST', `/api/v1/jobs/${job.id}:retry`), 409, 'ILLEGAL_TRANSITION');
    // :retry takes no body
    expectEnvelope(
      await e.call('POST', `/api/v1/jobs/${job.id}:retry`, { body: { now: true } }),
      400,
      'VALIDATION_FAILED',
    );
  });

  it('pages through a job history', async () => {
    const job = await createJob({ type: 'hist.t', retry: { baseMs: 0, jitter: 0, maxAttempts: 10 } });
    for (let i = 0; i < 3; i++) {
      const lease = await leaseOne('hist.t');
      await sdk.completeOne(job.id, {
        leaseId: lease.leaseId,
        outcome: 'failed',
        error: { retryable: true, errorCode: 'AGAIN' },
      });
    }
    const transitions: string[] = [];
    const ids: number[] = [];
    let token: string | null = null;
    do {
      const page = await e.call(
        'GET',
        `/api/v1/jobs/${job.id}/history?page_size=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      transitions.push(...page.json.items.map((h: { transition: string }) => h.transition));
      ids.push(...page.json.items.map((h: { id: number }) => h.id));
      token = page.json.next_page_token;
    } while (token);
    expect(transitions).toEqual(['plan', 'lease', 'retry', 'lease', 'retry', 'lease', 'retry']);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expectEnvelope(await e.call('GET', `/api/v1/jobs/${job.id}/history?status=x`), 400, 'VALIDATION_FAILED');
    expectEnvelope(
      await e.call('GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000/history'),
      404,
      'NOT_FOUND',
    );
  });

  it('answers 404 for unknown and malformed job ids on every job route', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const id of [unknown, 'not-a-uuid']) {
      expectEnvelope(await e.call('GET', `/api/v1/jobs/${id}`), 404, 'NOT_FOUND');
      expectEnvelope(await e.call('POST', `/api/v1/jobs/${id}:cancel`), 404, 'NOT_FOUND');
      expectEnvelope(await e.call('POST', `/api/v1/jobs/${id}:retry`), 404, 'NOT_FOUND');
      expectEnvelope(
        await e.call('POST', `/api/v1/jobs/${id}:prioritize`, { body: { priority: 1 } }),
        404,
        'NOT_FOUND',
      );
    }
  });
});
