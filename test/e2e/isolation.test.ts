import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient, type Lease } from '../../sdk/worker/src/index.ts';
import { type E2e, expectEnvelope, poll, startE2e } from './helpers.ts';

/**
 * Tenant isolation of runs, jobs, worker leases and dead letters (DESIGN §6, §8: cross-tenant ids answer 404,
 * never 403; a lease of another tenant is simply lost), and bad input on every POST route of those families:
 * always a 4xx with the envelope, never a 5xx, and nothing written.
 */
describe('tenant isolation and bad input over HTTP', () => {
  let e: E2e;
  let tokenA: string;
  let tokenB: string;
  let sdkA: JobEngineClient;
  let sdkB: JobEngineClient;
  /** tenant B's data */
  const b = {} as {
    runId: string;
    runJobIds: string[];
    jobId: string;
    lease: Lease;
    deadLetterId: string;
    deadJobId: string;
  };

  const asA = { token: '', tenant: 'iso-a' };
  const asB = { token: '', tenant: 'iso-b' };
  /** Everything tenant B can see of its own data: must be identical before and after A's attempts. */
  const snapshotB = async () => {
    const get = async (path: string) => (await e.call('GET', path, asB)).json;
    return {
      run: await get(`/api/v1/runs/${b.runId}`),
      dag: await get(`/api/v1/runs/${b.runId}/dag`),
      job: await get(`/api/v1/jobs/${b.jobId}`),
      history: await get(`/api/v1/jobs/${b.jobId}/history`),
      deadLetter: await get(`/api/v1/deadletter/${b.deadLetterId}`),
      jobs: await get('/api/v1/jobs?page_size=500'),
      runs: await get('/api/v1/runs?page_size=500'),
      stats: await get('/api/v1/deadletter/stats'),
    };
  };

  beforeAll(async () => {
    e = await startE2e({ tenant: 'iso-a' });
    tokenA = await e.runtime.token({ tenants: ['iso-a'] });
    tokenB = await e.runtime.token({ tenants: ['iso-b'] });
    asA.token = tokenA;
    asB.token = tokenB;
    sdkA = new JobEngineClient({ baseUrl: e.runtime.url, token: tokenA, tenant: 'iso-a' });
    sdkB = new JobEngineClient({ baseUrl: e.runtime.url, token: tokenB, tenant: 'iso-b' });

    // tenant B: a planned run, a job held under a lease, and a dead letter
    const run = await e.call('POST', '/api/v1/runs', {
      ...asB,
      body: {
        jobs: [
          { key: 'root', type: 'secret.root' },
          { key: 'leaf', type: 'secret.leaf', dependsOn: ['root'] },
        ],
      },
    });
    expect(run.status).toBe(202);
    b.runId = run.json.id;
    await poll(
      async () => (await e.call('GET', `/api/v1/runs/${b.runId}`, asB)).json,
      (r) => r.status === 'running',
      { what: "tenant B's run planned" },
    );
    b.runJobIds = (await e.call('GET', `/api/v1/runs/${b.runId}/dag`, asB)).json.jobs.map(
      (j: { id: string }) => j.id,
    );
    const job = await e.call('POST', '/api/v1/jobs', { ...asB, body: { type: 'secret.held' } });
    b.jobId = job.json.id;
    b.lease = (await sdkB.lease({ workerId: 'w-b', types: ['secret.held'] })).leases[0]!;
    const dead = await e.call('POST', '/api/v1/jobs', { ...asB, body: { type: 'secret.dead' } });
    b.deadJobId = dead.json.id;
    const deadLease = (await sdkB.lease({ workerId: 'w-b', types: ['secret.dead'] })).leases[0]!;
    await sdkB.completeOne(b.deadJobId, {
      leaseId: deadLease.leaseId,
      outcome: 'failed',
      error: { retryable: false, errorCode: 'SECRET_FAILURE' },
    });
    b.deadLetterId = (await e.call('GET', '/api/v1/deadletter', asB)).json.items[0].id;
  });
  afterAll(async () => {
    await e?.stop();
  });

  describe('tenant A cannot see or touch tenant B', () => {
    let before: Awaited<ReturnType<typeof snapshotB>>;
    beforeAll(async () => {
      before = await snapshotB();
    });

    it('runs: 404 for B ids, an empty list', async () => {
      expectEnvelope(await e.call('GET', `/api/v1/runs/${b.runId}`, asA), 404, 'NOT_FOUND');
      expectEnvelope(await e.call('GET', `/api/v1/runs/${b.runId}/dag`, asA), 404, 'NOT_FOUND');
      expectEnvelope(await e.call('POST', `/api/v1/runs/${b.runId}:cancel`, asA), 404, 'NOT_FOUND');
      expect((await e.call('GET', '/api/v1/runs', asA)).json).toEqual({ items: [], next_page_token: null });
      expect((await e.call('GET', '/api/v1/runs?status=running', asA)).json.items).toEqual([]);
      // A's token naming B's tenant is refused outright
      expectEnvelope(
        await e.call('GET', `/api/v1/runs/${b.runId}`, { token: tokenA, tenant: 'iso-b' }),
        403,
        'FORBIDDEN',
      );
    });

    it('jobs: 404 for B ids on every route, empty lists', async () => {
      for (const id of [b.jobId, b.deadJobId, ...b.runJobIds]) {
        expectEnvelope(await e.call('GET', `/api/v1/jobs/${id}`, asA), 404, 'NOT_FOUND');
        expectEnvelope(await e.call('GET', `/api/v1/jobs/${id}/history`, asA), 404, 'NOT_FOUND');
        expectEnvelope(await e.call('POST', `/api/v1/jobs/${id}:cancel`, asA), 404, 'NOT_FOUND');
        expectEnvelope(await e.call('POST', `/api/v1/jobs/${id}:retry`, asA), 404, 'NOT_FOUND');
        expectEnvelope(
          await e.call('POST', `/api/v1/jobs/${id}:prioritize`, { ...asA, body: { priority: 100 } }),
          404,
          'NOT_FOUND',
        );
      }
      expect((await e.call('GET', '/api/v1/jobs', asA)).json).toEqual({ items: [], next_page_token: null });
      expect((await e.call('GET', `/api/v1/jobs?run_id=${b.runId}`, asA)).json.items).toEqual([]);
      expect((await e.call('GET', '/api/v1/jobs?type=secret.held', asA)).json.items).toEqual([]);
    });

    it("worker: A leases nothing of B's types; B's lease under A is LEASE_LOST", async () => {
      const leased = await sdkA.lease({
        workerId: 'w-a',
        types: ['secret.root', 'secret.leaf', 'secret.held', 'secret.dead'],
        max: 100,
      });
      expect(leased.leases).toEqual([]);
      await expect(sdkA.heartbeat(b.lease.leaseId, { leaseSeconds: 3600 })).rejects.toMatchObject({
        code: 'LEASE_LOST',
        status: 409,
      });
      await expect(
        sdkA.progress(b.jobId, { leaseId: b.lease.leaseId, progress: { percent: 99 } }),
      ).rejects.toMatchObject({ code: 'LEASE_LOST' });
      await expect(
        sdkA.completeOne(b.jobId, {
          leaseId: b.lease.leaseId,
          outcome: 'succeeded',
          result: { pwned: true },
        }),
      ).rejects.toMatchObject({ code: 'LEASE_LOST' });
      await expect(
        sdkA.complete([
          {
            jobId: b.jobId,
            leaseId: b.lease.leaseId,
            outcome: 'failed',
            error: { retryable: false, errorCode: 'SABOTAGE' },
          },
        ]),
      ).rejects.toMatchObject({ code: 'LEASE_LOST' });
    });

    it('dead letters: 404 for B ids, empty list and stats, a bulk replay matches nothing', async () => {
      expectEnvelope(await e.call('GET', `/api/v1/deadletter/${b.deadLetterId}`, asA), 404, 'NOT_FOUND');
      expectEnvelope(
        await e.call('POST', `/api/v1/deadletter/${b.deadLetterId}:replay`, asA),
        404,
        'NOT_FOUND',
      );
      expectEnvelope(
        await e.call('POST', `/api/v1/deadletter/${b.deadLetterId}:discard`, asA),
        404,
        'NOT_FOUND',
      );
      expect((await e.call('GET', '/api/v1/deadletter', asA)).json).toEqual({
        items: [],
        next_page_token: null,
      });
      expect((await e.call('GET', '/api/v1/deadletter/stats', asA)).json).toEqual({
        counts: { open: 0, replayed: 0, discarded: 0 },
        oldestOpenAt: null,
        topErrors: [],
      });
      const bulk = await e.call('POST', '/api/v1/deadletter:replay', {
        ...asA,
        body: { filter: { jobType: 'secret.dead' }, dryRun: false },
      });
      expect(bulk.json).toEqual({ dryRun: false, matched: 0, more: false, deadLetterIds: [], replayed: [] });
    });

    it("B's data is exactly as it was, and B can still finish its own work", async () => {
      expect(await snapshotB()).toEqual(before);
      const events = await e.t.admin.query(`SELECT count(*)::int AS n FROM events WHERE tenant_id = 'iso-a'`);
      expect(events.rows[0].n).toBe(0);
      expect(
        await sdkB.completeOne(b.jobId, {
          leaseId: b.lease.leaseId,
          outcome: 'succeeded',
          result: { ok: true },
        }),
      ).toMatchObject({ accepted: true, status: 'succeeded' });
    });
  });

  describe('bad input on every POST route: 4xx with the envelope, never 5xx, nothing written', () => {
    const JOB = '00000000-0000-4000-8000-00000000000a';
    const LEASE = '00000000-0000-4000-8000-00000000000b';
    const ok = (outcome = 'succeeded') => ({ jobId: JOB, leaseId: LEASE, outcome });
    const cases: [
      string,
      string,
      string,
      () => { body?: unknown; raw?: string; headers?: Record<string, string> },
      number,
      string,
    ][] = [
      // POST /runs
      [
        'POST',
        '/api/v1/runs',
        'wrong types',
        () => ({ body: { jobs: 'all of them', priority: 'high' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/runs',
        'unknown fields',
        () => ({ body: { jobs: [{ key: 'a', type: 't' }], owner: 'root' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/runs',
        'an unknown field in a job',
        () => ({ body: { jobs: [{ key: 'a', type: 't', sudo: true }] } }),
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/api/v1/runs', 'missing fields', () => ({ body: {} }), 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/api/v1/runs',
        'a job without a type',
        () => ({ body: { jobs: [{ key: 'a' }] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/runs',
        'a malformed job key',
        () => ({ body: { jobs: [{ key: '../a', type: 't' }] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/runs',
        'a priority out of range',
        () => ({ body: { jobs: [{ key: 'a', type: 't' }], priority: 1000 } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/runs',
        'a non-uuid source id',
        () => ({ body: { jobs: [{ key: 'a', type: 't' }], sourceId: 'nvd' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/runs',
        'an array body',
        () => ({ body: [{ key: 'a', type: 't' }] }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/runs',
        'a 7 MB body',
        () => ({
          raw: JSON.stringify({
            jobs: [{ key: 'a', type: 't', payload: { blob: 'x'.repeat(7 * 1024 * 1024) } }],
          }),
        }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      ['POST', '/api/v1/runs', 'malformed JSON', () => ({ raw: '{"jobs": [' }), 400, 'INVALID_JSON'],
      [
        'POST',
        '/api/v1/runs',
        'a form body',
        () => ({ raw: 'jobs=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      // POST /runs/{id}:cancel
      ['POST', '/api/v1/runs/not-a-uuid:cancel', 'a non-uuid run id', () => ({}), 404, 'NOT_FOUND'],
      [
        'POST',
        `/api/v1/runs/${JOB}:cancel`,
        'a reason of the wrong type',
        () => ({ body: { reason: 42 } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/runs/${JOB}:cancel`,
        'an unknown field',
        () => ({ body: { force: true } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/runs/${JOB}:cancel`,
        'an empty reason',
        () => ({ body: { reason: '' } }),
        400,
        'VALIDATION_FAILED',
      ],
      // POST /jobs
      [
        'POST',
        '/api/v1/jobs',
        'wrong types',
        () => ({ body: { type: 7, payload: 'x' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/jobs',
        'unknown fields',
        () => ({ body: { type: 't', tenantId: 'iso-b' } }),
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/api/v1/jobs', 'missing fields', () => ({ body: { payload: {} } }), 400, 'VALIDATION_FAILED'],
      [
        'POST',
        '/api/v1/jobs',
        'an upper-case type',
        () => ({ body: { type: 'Scan' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/jobs',
        'an array payload',
        () => ({ body: { type: 't', payload: [1, 2] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/jobs',
        'a bad retry policy',
        () => ({ body: { type: 't', retry: { maxAttempts: 0 } } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/jobs',
        'a non-uuid source id',
        () => ({ body: { type: 't', sourceId: 'x' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/jobs',
        'a 2 MB body',
        () => ({ raw: JSON.stringify({ type: 't', payload: { blob: 'x'.repeat(2 * 1024 * 1024) } }) }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'POST',
        '/api/v1/jobs',
        'a 300 KB payload',
        () => ({ body: { type: 't', payload: { blob: 'x'.repeat(300 * 1024) } } }),
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', '/api/v1/jobs', 'malformed JSON', () => ({ raw: '{"type":' }), 400, 'INVALID_JSON'],
      // POST /jobs/{id}:…
      ['POST', '/api/v1/jobs/not-a-uuid:cancel', 'a non-uuid job id (cancel)', () => ({}), 404, 'NOT_FOUND'],
      ['POST', '/api/v1/jobs/not-a-uuid:retry', 'a non-uuid job id (retry)', () => ({}), 404, 'NOT_FOUND'],
      [
        'POST',
        '/api/v1/jobs/not-a-uuid:prioritize',
        'a non-uuid job id (prioritize)',
        () => ({ body: { priority: 1 } }),
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/api/v1/jobs/${JOB}:prioritize`,
        'a priority of the wrong type',
        () => ({ body: { priority: 'urgent' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/jobs/${JOB}:prioritize`,
        'a missing priority',
        () => ({ body: {} }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/jobs/${JOB}:prioritize`,
        'an unknown field',
        () => ({ body: { priority: 1, also: 2 } }),
        400,
        'VALIDATION_FAILED',
      ],
      ['POST', `/api/v1/jobs/${JOB}:explode`, 'an unknown custom method', () => ({}), 404, 'NOT_FOUND'],
      // POST /worker/leases
      [
        'POST',
        '/api/v1/worker/leases',
        'missing fields',
        () => ({ body: { types: ['t'] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/leases',
        'wrong types',
        () => ({ body: { workerId: 1, types: 't' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/leases',
        'no types',
        () => ({ body: { workerId: 'w', types: [] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/leases',
        'a claim batch over 500',
        () => ({ body: { workerId: 'w', types: ['t'], max: 501 } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/leases',
        'a lease under 5 s',
        () => ({ body: { workerId: 'w', types: ['t'], leaseSeconds: 4 } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/leases',
        'a malformed worker id',
        () => ({ body: { workerId: 'w 1', types: ['t'] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/leases',
        'unknown fields',
        () => ({ body: { workerId: 'w', types: ['t'], tenant: 'iso-b' } }),
        400,
        'VALIDATION_FAILED',
      ],
      // POST /worker/leases/{leaseId}:heartbeat
      [
        'POST',
        `/api/v1/worker/leases/${LEASE}:heartbeat`,
        'a lease length of the wrong type',
        () => ({ body: { leaseSeconds: '60' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/leases/${LEASE}:heartbeat`,
        'a lease length over an hour',
        () => ({ body: { leaseSeconds: 3601 } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/leases/${LEASE}:heartbeat`,
        'an unknown field',
        () => ({ body: { extend: true } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/leases/not-a-uuid:heartbeat',
        'a non-uuid lease id',
        () => ({}),
        409,
        'LEASE_LOST',
      ],
      // POST /worker/jobs/{jobId}:progress
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:progress`,
        'a missing lease id',
        () => ({ body: { progress: {} } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:progress`,
        'a non-uuid lease id',
        () => ({ body: { leaseId: 'l' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:progress`,
        'a percent over 100',
        () => ({ body: { leaseId: LEASE, progress: { percent: 101 } } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:progress`,
        'a malformed artifact',
        () => ({
          body: {
            leaseId: LEASE,
            artifacts: [{ uri: 'x', digest: 'md5:1', sizeBytes: 1, mediaType: 'a/b', kind: 'k' }],
          },
        }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/jobs/not-a-uuid:progress',
        'a non-uuid job id (progress)',
        () => ({ body: { leaseId: LEASE } }),
        404,
        'NOT_FOUND',
      ],
      // POST /worker/jobs/{jobId}:complete
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:complete`,
        'an unknown outcome',
        () => ({ body: { leaseId: LEASE, outcome: 'done' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:complete`,
        'a failure without an error',
        () => ({ body: { leaseId: LEASE, outcome: 'failed' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:complete`,
        'a success with an error',
        () => ({
          body: { leaseId: LEASE, outcome: 'succeeded', error: { retryable: true, errorCode: 'X' } },
        }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:complete`,
        'a lower-case error code',
        () => ({
          body: { leaseId: LEASE, outcome: 'failed', error: { retryable: true, errorCode: 'oops' } },
        }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/worker/jobs/${JOB}:complete`,
        'a job id in the body',
        () => ({ body: { ...ok() } }),
        400,
        'VALIDATION_FAILED',
      ],
      // POST /worker/completions
      [
        'POST',
        '/api/v1/worker/completions',
        'an empty batch',
        () => ({ body: { completions: [] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/completions',
        'a batch over 500',
        () => ({ body: { completions: Array.from({ length: 501 }, () => ok()) } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/completions',
        'a non-uuid job id',
        () => ({ body: { completions: [{ ...ok(), jobId: 'j1' }] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/completions',
        'missing fields',
        () => ({ body: { completions: [{ jobId: JOB }] } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/completions',
        'unknown fields',
        () => ({ body: { completions: [ok()], flush: true } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/worker/completions',
        'a bare array',
        () => ({ body: [ok()] }),
        400,
        'VALIDATION_FAILED',
      ],
      // POST /deadletter/{id}:replay and :discard
      [
        'POST',
        '/api/v1/deadletter/not-a-uuid:replay',
        'a non-uuid dead letter id (replay)',
        () => ({}),
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/api/v1/deadletter/${JOB}:replay`,
        'a priority of the wrong type',
        () => ({ body: { priority: 'high' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        `/api/v1/deadletter/${JOB}:replay`,
        'an unknown field',
        () => ({ body: { force: true } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/deadletter/not-a-uuid:discard',
        'a non-uuid dead letter id (discard)',
        () => ({}),
        404,
        'NOT_FOUND',
      ],
      [
        'POST',
        `/api/v1/deadletter/${JOB}:discard`,
        'an empty reason',
        () => ({ body: { reason: '' } }),
        400,
        'VALIDATION_FAILED',
      ],
      // POST /deadletter:replay
      [
        'POST',
        '/api/v1/deadletter:replay',
        'an unknown filter field',
        () => ({ body: { filter: { tenant: 'iso-b' } } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/deadletter:replay',
        'a limit over 1000',
        () => ({ body: { limit: 1001 } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/deadletter:replay',
        'a dry run of the wrong type',
        () => ({ body: { dryRun: 'no' } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/deadletter:replay',
        'a malformed createdBefore',
        () => ({ body: { filter: { createdBefore: 'yesterday' } } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'POST',
        '/api/v1/deadletter:replay',
        'a non-uuid source id',
        () => ({ body: { filter: { sourceId: 'nvd' } } }),
        400,
        'VALIDATION_FAILED',
      ],
    ];

    const fingerprint = async () =>
      (
        await e.t.admin.query(
          `SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM runs)::int AS runs,
                  (SELECT count(*) FROM jobs)::int AS jobs, (SELECT max(updated_at) FROM jobs) AS jobs_at,
                  (SELECT count(*) FROM dead_letters WHERE status <> 'open')::int AS resolved`,
        )
      ).rows[0];

    it.each(cases)('%s %s: %s', async (method, path, _name, input, status, code) => {
      const before = await fingerprint();
      const res = await e.call(method, path, { ...asA, ...input() });
      expectEnvelope(res, status, code);
      expect(await fingerprint()).toEqual(before);
    });

    /**
     * POST /worker/jobs/{jobId}:complete passes the path id unchecked to COMPLETE_JOBS_SQL, whose
     * `jsonb_to_recordset(...) AS c(job_id uuid, ...)` fails to cast 'not-a-uuid' (SQLSTATE 22P02): 500 INTERNAL.
     * Its sibling :progress answers 404 through requireUuid.
     */
    it('POST /worker/jobs/{non-uuid}:complete is a 4xx like :progress, not a 500', async () => {
      const before = await fingerprint();
      const res = await e.call('POST', '/api/v1/worker/jobs/not-a-uuid:complete', {
        ...asA,
        body: { leaseId: LEASE, outcome: 'succeeded' },
      });
      expect(await fingerprint()).toEqual(before);
      expectEnvelope(res, 404, 'NOT_FOUND');
    });

    /**
     * LeasingService.complete matches results to the request by comparing the request's job id string with
     * the lower-case id PostgreSQL returns: a job id sent in upper case (a valid UUID, accepted by the schema
     * and by PostgreSQL) is completed, yet answered `accepted: false, LEASE_LOST`.
     */
    it('a completion naming the job id in upper case is answered accepted, as the job did succeed', async () => {
      await e.call('POST', '/api/v1/jobs', { ...asA, body: { type: 'upper.one' } });
      const lease = (await sdkA.lease({ workerId: 'w-a', types: ['upper.one'] })).leases[0]!;
      const res = await e.call('POST', `/api/v1/worker/jobs/${lease.jobId.toUpperCase()}:complete`, {
        ...asA,
        body: { leaseId: lease.leaseId, outcome: 'succeeded' },
      });
      expect(res.status).toBe(200);
      expect((await e.call('GET', `/api/v1/jobs/${lease.jobId}`, asA)).json.status).toBe('succeeded');
      expect(res.json).toMatchObject({ accepted: true, status: 'succeeded' });
    });

    it('a batch completion naming the job id in upper case is answered accepted', async () => {
      await e.call('POST', '/api/v1/jobs', { ...asA, body: { type: 'upper.batch' } });
      const lease = (await sdkA.lease({ workerId: 'w-a', types: ['upper.batch'] })).leases[0]!;
      const res = await sdkA.complete([
        { jobId: lease.jobId.toUpperCase(), leaseId: lease.leaseId.toUpperCase(), outcome: 'succeeded' },
      ]);
      expect((await e.call('GET', `/api/v1/jobs/${lease.jobId}`, asA)).json.status).toBe('succeeded');
      expect(res.results[0]).toMatchObject({ accepted: true, status: 'succeeded' });
    });
  });
});
