import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2e, expectEnvelope, ISO, startE2e, UUID } from './helpers.ts';

/**
 * Pack runs end to end (DESIGN §2, §8): scheduling needs a project (422 PROJECT_REQUIRED), a worker leases
 * the `pack-run` job over the worker bridge and streams log lines with its progress, and the logs page in
 * `seq` order. Another tenant sees none of it (404).
 */
describe('pack runs over HTTP', () => {
  let e: E2e;
  let tokenB: string;
  const TENANT = 'packs-a';
  const withProject = { headers: { 'X-Stella-Project': 'proj-web' } };

  const createPackRun = async (body: Record<string, unknown>) => {
    const res = await e.call('POST', '/api/v1/pack-runs', { ...withProject, body });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    return res.json;
  };
  const progress = (jobId: string, body: Record<string, unknown>) =>
    e.call('POST', `/api/v1/worker/jobs/${jobId}:progress`, { body });

  beforeAll(async () => {
    e = await startE2e({ tenant: TENANT });
    tokenB = await e.runtime.token({ tenants: ['packs-b'] });
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('POST without projectId or X-Stella-Project is 422 PROJECT_REQUIRED, and writes nothing', async () => {
    expectEnvelope(
      await e.call('POST', '/api/v1/pack-runs', { body: { pack: 'sbom-scan@1.4', params: {} } }),
      422,
      'PROJECT_REQUIRED',
    );
    const { rows } = await e.t.admin.query('SELECT count(*)::int AS n FROM pack_runs');
    expect(rows[0].n).toBe(0);
  });

  it('refuses a malformed pack, params that are not an object or too large, and unknown fields', async () => {
    for (const body of [
      { pack: 'sbom-scan' },
      { pack: 'SBOM@1' },
      { pack: 'sbom-scan@' },
      { pack: 'sbom-scan@1.4', params: [1, 2] },
      { pack: 'sbom-scan@1.4', params: { blob: 'x'.repeat(70_000) } },
      { pack: 'sbom-scan@1.4', image: 'app:1' },
    ]) {
      expectEnvelope(
        await e.call('POST', '/api/v1/pack-runs', { ...withProject, body }),
        400,
        'VALIDATION_FAILED',
      );
    }
  });

  it('runs a pack: create, lease, progress with log lines, complete, and page through the logs', async () => {
    const params = { image: 'registry.example/web:2.3', formats: ['spdx', 'cyclonedx'] };
    const res = await e.call('POST', '/api/v1/pack-runs', {
      headers: {
        ...withProject.headers,
        'X-Stella-Operator-Reason': 'release 2.3 SBOM',
        'X-Stella-Operator-Ticket': 'REL-23',
      },
      body: { pack: 'sbom-scan@1.4', params, priority: 20 },
    });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const packRun = res.json;
    expect(res.headers.get('location')).toBe(`/api/v1/pack-runs/${packRun.id}`);
    expect(packRun).toEqual({
      id: expect.stringMatching(UUID),
      projectId: 'proj-web',
      pack: 'sbom-scan@1.4',
      params,
      runId: expect.stringMatching(UUID),
      jobId: expect.stringMatching(UUID),
      status: 'queued',
      attempt: 0,
      progress: null,
      correlationId: expect.any(String),
      createdBy: 'e2e-tester',
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
      startedAt: null,
      finishedAt: null,
    });
    expect((await e.call('GET', `/api/v1/pack-runs/${packRun.id}`)).json).toEqual(packRun);
    expect((await e.call('GET', `/api/v1/runs/${packRun.runId}`)).json).toMatchObject({
      kind: 'pack_run',
      projectId: 'proj-web',
      jobs: { total: 1 },
    });

    const leased = await e.call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'pack-worker-1', types: ['pack-run'] },
    });
    expect(leased.status).toBe(200);
    expect(leased.json.leases).toHaveLength(1);
    const lease = leased.json.leases[0];
    expect(lease).toMatchObject({
      jobId: packRun.jobId,
      type: 'pack-run',
      priority: 20,
      maxAttempts: 1,
      payload: { pack: 'sbom-scan@1.4', params, packRunId: packRun.id },
      provenance: { tenant: TENANT, project: 'proj-web' },
    });

    const first = await progress(lease.jobId, {
      leaseId: lease.leaseId,
      progress: { percent: 30, message: 'resolving layers' },
      logs: [
        { stream: 'system', line: 'pulling registry.example/web:2.3' },
        { stream: 'stdout', line: 'layer 1/3' },
        { stream: 'stdout', line: 'layer 2/3' },
        { stream: 'stderr', line: 'warning: layer 3 is 2 GiB' },
      ],
    });
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect(first.json).toEqual({ jobId: lease.jobId, status: 'running' });
    const second = await progress(lease.jobId, {
      leaseId: lease.leaseId,
      progress: { percent: 90 },
      logs: [
        { stream: 'stdout', line: 'layer 3/3' },
        { stream: 'stdout', line: `${'é'.repeat(16_384)}` },
        { stream: 'system', line: 'wrote sbom.spdx.json' },
      ],
    });
    expect(second.status, JSON.stringify(second.json)).toBe(200);
    expect((await e.call('GET', `/api/v1/pack-runs/${packRun.id}`)).json).toMatchObject({
      status: 'running',
      progress: { percent: 90 },
      startedAt: expect.stringMatching(ISO),
    });

    // a line over 16384 characters, or over 1000 lines, is refused whole
    expectEnvelope(
      await progress(lease.jobId, {
        leaseId: lease.leaseId,
        logs: [{ stream: 'stdout', line: 'x'.repeat(16_385) }],
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await progress(lease.jobId, {
        leaseId: lease.leaseId,
        logs: Array.from({ length: 1001 }, () => ({ stream: 'stdout', line: 'x' })),
      }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await progress(lease.jobId, { leaseId: lease.leaseId, logs: [{ stream: 'debug', line: 'x' }] }),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await progress(lease.jobId, { leaseId: lease.leaseId, logs: [{ stream: 'stdout', line: 'a\u0000b' }] }),
      400,
      'VALIDATION_FAILED',
    );

    const done = await e.call('POST', `/api/v1/worker/jobs/${lease.jobId}:complete`, {
      body: { leaseId: lease.leaseId, outcome: 'succeeded', result: { components: 412 } },
    });
    expect(done.json).toMatchObject({ accepted: true, status: 'succeeded' });
    expect((await e.call('GET', `/api/v1/pack-runs/${packRun.id}`)).json).toMatchObject({
      status: 'succeeded',
      finishedAt: expect.stringMatching(ISO),
    });
    // the lease is gone: more lines are LEASE_LOST and change nothing
    expectEnvelope(
      await progress(lease.jobId, { leaseId: lease.leaseId, logs: [{ stream: 'stdout', line: 'late' }] }),
      409,
      'LEASE_LOST',
    );

    // page_size 2 through all 7 lines: seq order, no gaps, no repeats
    const seen: { seq: number; stream: string; line: string }[] = [];
    let token: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const query: string = `page_size=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
      const page = await e.call('GET', `/api/v1/pack-runs/${packRun.id}/logs?${query}`);
      expect(page.status, JSON.stringify(page.json)).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(2);
      for (const item of page.json.items) {
        expect(item).toEqual({
          seq: expect.any(Number),
          stream: item.stream,
          line: item.line,
          at: expect.stringMatching(ISO),
        });
        seen.push({ seq: item.seq, stream: item.stream, line: item.line });
      }
      token = page.json.next_page_token;
      if (!token) break;
    }
    expect(seen.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(seen.map((l) => l.line)).toEqual([
      'pulling registry.example/web:2.3',
      'layer 1/3',
      'layer 2/3',
      'warning: layer 3 is 2 GiB',
      'layer 3/3',
      'é'.repeat(16_384),
      'wrote sbom.spdx.json',
    ]);
    const stderr = await e.call('GET', `/api/v1/pack-runs/${packRun.id}/logs?stream=stderr`);
    expect(stderr.json).toEqual({
      items: [
        { seq: 4, stream: 'stderr', line: 'warning: layer 3 is 2 GiB', at: expect.stringMatching(ISO) },
      ],
      next_page_token: null,
    });
    expectEnvelope(
      await e.call('GET', `/api/v1/pack-runs/${packRun.id}/logs?stream=debug`),
      400,
      'VALIDATION_FAILED',
    );
    expectEnvelope(
      await e.call('GET', `/api/v1/pack-runs/${packRun.id}/logs?page_token=forged.token`),
      400,
      'INVALID_PAGE_TOKEN',
    );

    const created = await e.t.admin.query(
      `SELECT data FROM events WHERE event_type = 'pack_run.created' AND subject_id = $1`,
      [packRun.id],
    );
    expect(created.rows).toEqual([
      {
        data: expect.objectContaining({
          id: packRun.id,
          pack: 'sbom-scan@1.4',
          jobId: packRun.jobId,
          reason: 'release 2.3 SBOM',
          ticket: 'REL-23',
        }),
      },
    ]);
  });

  it('takes projectId from the body too, which wins over the header', async () => {
    const packRun = await createPackRun({ pack: 'policy-sim@2.0.1', projectId: 'proj-body' });
    expect(packRun).toMatchObject({ projectId: 'proj-body', params: {}, status: 'queued' });
    const noHeader = await e.call('POST', '/api/v1/pack-runs', {
      body: { pack: 'policy-sim@2.0.1', projectId: 'proj-only-body' },
    });
    expect(noHeader.status).toBe(201);
    expect(noHeader.json.projectId).toBe('proj-only-body');
  });

  it('answers 404 to another tenant, unknown ids and malformed ids; scopes are enforced', async () => {
    const packRun = await createPackRun({ pack: 'sbom-scan@1.4' });
    const asB = { token: tokenB, tenant: 'packs-b' };
    expectEnvelope(await e.call('GET', `/api/v1/pack-runs/${packRun.id}`, asB), 404, 'NOT_FOUND');
    expectEnvelope(await e.call('GET', `/api/v1/pack-runs/${packRun.id}/logs`, asB), 404, 'NOT_FOUND');
    expectEnvelope(
      await e.call('GET', '/api/v1/pack-runs/018f0000-0000-7000-8000-000000000000'),
      404,
      'NOT_FOUND',
    );
    expectEnvelope(await e.call('GET', '/api/v1/pack-runs/not-a-uuid'), 404, 'NOT_FOUND');
    expectEnvelope(await e.call('GET', '/api/v1/pack-runs/not-a-uuid/logs'), 404, 'NOT_FOUND');
    // tenant B's worker cannot lease tenant A's pack-run job
    const leasedByB = await e.call('POST', '/api/v1/worker/leases', {
      ...asB,
      body: { workerId: 'intruder', types: ['pack-run'] },
    });
    expect(leasedByB.json).toEqual({ leases: [] });

    const readOnly = await e.runtime.token({ tenants: [TENANT], scopes: ['orch:read'] });
    expectEnvelope(
      await e.call('POST', '/api/v1/pack-runs', {
        token: readOnly,
        ...withProject,
        body: { pack: 'sbom-scan@1.4' },
      }),
      403,
      'FORBIDDEN',
    );
    expect((await e.call('GET', `/api/v1/pack-runs/${packRun.id}`, { token: readOnly })).status).toBe(200);
    expect((await e.call('GET', `/api/v1/pack-runs/${packRun.id}/logs`, { token: readOnly })).status).toBe(
      200,
    );
  });

  it('refuses log lines from a job that is not a pack run’s, writing nothing', async () => {
    const job = await e.call('POST', '/api/v1/jobs', { body: { type: 'not.a.pack' } });
    const leased = await e.call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'w-other', types: ['not.a.pack'] },
    });
    const lease = leased.json.leases[0];
    expect(lease.jobId).toBe(job.json.id);
    expectEnvelope(
      await progress(lease.jobId, { leaseId: lease.leaseId, logs: [{ stream: 'stdout', line: 'hello' }] }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await e.call('GET', `/api/v1/jobs/${job.json.id}`)).json).toMatchObject({ status: 'leased' });
  });
});
