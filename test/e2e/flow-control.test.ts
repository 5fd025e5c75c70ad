import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2e, expectEnvelope, startE2e } from './helpers.ts';

/**
 * Flow control over real HTTP (docs/adr/0010-flow-control.md): the operator routes with their scopes and
 * operator notes, backpressure as 429 with rate-limit headers, source pause, explain, and a shared worker
 * pool leasing for several tenants.
 */
describe('flow control over HTTP', () => {
  let e: E2e;
  const reason = { 'X-Stella-Operator-Reason': 'e2e', 'X-Stella-Operator-Ticket': 'OPS-7' };

  beforeAll(async () => {
    e = await startE2e({ tenant: 'fc', tokenTenants: ['fc', 'fc-b'] });
  });
  afterAll(() => e?.stop());

  it('manages quotas with orch:quota and a required reason, and reports their usage', async () => {
    const noReason = await e.call('POST', '/api/v1/quotas', { body: { jobType: 'fc.job', maxQueued: 2 } });
    expectEnvelope(noReason, 400, 'VALIDATION_FAILED');
    const readOnly = await e.runtime.token({ tenants: ['fc'], scopes: ['orch:read', 'orch:operate'] });
    expectEnvelope(
      await e.call('POST', '/api/v1/quotas', {
        token: readOnly,
        headers: reason,
        body: { jobType: 'fc.job' },
      }),
      403,
      'FORBIDDEN',
    );
    const created = await e.call('POST', '/api/v1/quotas', {
      headers: reason,
      body: { jobType: 'fc.job', maxQueued: 2, burst: 10, refillPerHour: 3600 },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      jobType: 'fc.job',
      maxQueued: 2,
      tokens: 10,
      weight: 1,
      version: 1,
    });
    const id = created.json.id as string;
    expectEnvelope(
      await e.call('POST', '/api/v1/quotas', { headers: reason, body: { jobType: 'fc.job' } }),
      409,
      'ALREADY_EXISTS',
    );
    const patched = await e.call('PATCH', `/api/v1/quotas/${id}`, { headers: reason, body: { weight: 3 } });
    expect(patched.json).toMatchObject({ weight: 3, version: 2 });
    const rebucketed = await e.call('PATCH', `/api/v1/quotas/${id}`, {
      headers: reason,
      body: { burst: 5, refillPerHour: 7200 },
    });
    expect(rebucketed.json).toMatchObject({ burst: 5, refillPerHour: 7200, tokens: 5, version: 3 });
    expectEnvelope(
      await e.call('PATCH', `/api/v1/quotas/${id}`, { headers: reason, body: { burst: null } }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await e.call('POST', `/api/v1/quotas/${id}:pause`)).json).toMatchObject({ paused: true });
    expectEnvelope(await e.call('POST', `/api/v1/quotas/${id}:pause`), 409, 'ILLEGAL_TRANSITION');
    expect((await e.call('POST', `/api/v1/quotas/${id}:resume`)).json).toMatchObject({ paused: false });
    expect((await e.call('GET', '/api/v1/quotas?job_type=fc.job')).json.items).toHaveLength(1);

    // Backpressure: two jobs fit, the third is a 429 with rate-limit headers, and nothing is written.
    for (const key of ['a', 'b']) {
      expect((await e.call('POST', '/api/v1/jobs', { body: { type: 'fc.job', key } })).status).toBe(201);
    }
    const rejected = await e.call('POST', '/api/v1/jobs', { body: { type: 'fc.job', key: 'c' } });
    expectEnvelope(rejected, 429, 'RATE_LIMITED');
    expect(rejected.headers.get('retry-after')).toBe('1');
    expect(rejected.headers.get('x-ratelimit-limit')).toBe('2');
    expect(rejected.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(rejected.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    const runRejected = await e.call('POST', '/api/v1/runs', {
      body: { jobs: [{ key: 'x', type: 'fc.job', payload: {} }] },
    });
    expectEnvelope(runRejected, 429, 'RATE_LIMITED');
    const { rows } = await e.t.admin.query(`SELECT count(*)::int AS n FROM jobs WHERE tenant_id = 'fc'`);
    expect(rows[0].n).toBe(2);

    const summary = await e.call('GET', '/api/v1/quotas/summary');
    expect(summary.json.items[0]).toMatchObject({
      queued: 2,
      backpressure: { limit: 2, remaining: 0, engaged: true },
    });
    const deleted = await e.call('DELETE', `/api/v1/quotas/${id}`, { headers: reason });
    expect(deleted.json).toMatchObject({ id, jobType: 'fc.job' });
    expectEnvelope(await e.call('GET', `/api/v1/quotas/${id}`), 404, 'NOT_FOUND');
    const audit = await e.t.admin.query(
      `SELECT action FROM audit_log WHERE tenant_id = 'fc' AND target_kind = 'quota' ORDER BY position`,
    );
    expect(audit.rows.map((r) => r.action)).toEqual([
      'quota.create',
      'quota.update',
      'quota.update',
      'quota.pause',
      'quota.resume',
      'quota.delete',
    ]);
  });

  it('pauses and resumes a source, explains held jobs, and lists circuits, buckets and throttles', async () => {
    const source = (
      await e.call('POST', '/api/v1/sources', {
        body: { name: 'nvd', type: 'feed', upstreamHost: 'nvd.example' },
      })
    ).json;
    const job = (await e.call('POST', '/api/v1/jobs', { body: { type: 'fc.src', sourceId: source.id } }))
      .json;
    const paused = await e.call('POST', `/api/v1/sources/${source.id}:pause`, { headers: reason });
    expect(paused.json).toMatchObject({ paused: true, pauseReason: 'e2e' });
    const lease = await e.call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'w1', types: ['fc.src'], max: 5 },
    });
    expect(lease.json.leases).toHaveLength(0);
    const explained = await e.call('GET', `/api/v1/jobs/${job.id}/explain`);
    expect(explained.json).toMatchObject({
      jobId: job.id,
      status: 'throttled',
      waiting: true,
      reasons: [{ code: 'source_paused' }],
      estimatedStartAt: null,
    });
    expect((await e.call('POST', `/api/v1/sources/${source.id}:resume`)).json).toMatchObject({
      paused: false,
    });
    expect((await e.call('GET', `/api/v1/jobs/${job.id}`)).json.status).toBe('queued');

    const bucket = await e.call('POST', '/api/v1/buckets', {
      headers: reason,
      body: { sourceHost: 'nvd.example', burst: 2, refillPerHour: 60 },
    });
    expect(bucket.status).toBe(201);
    expect((await e.call('GET', '/api/v1/buckets')).json.items).toHaveLength(1);
    expect(
      (await e.call('PATCH', `/api/v1/buckets/${bucket.json.id}`, { headers: reason, body: { burst: 4 } }))
        .json,
    ).toMatchObject({ burst: 4 });

    const throttle = await e.call('POST', '/api/v1/throttles', {
      headers: reason,
      body: {
        target: { kind: 'source', id: source.id },
        kind: 'blackout',
        expiresAt: '2099-01-01T00:00:00Z',
      },
    });
    expect(throttle.status).toBe(201);
    expect(throttle.json).toMatchObject({ active: true, reason: 'e2e', ticket: 'OPS-7' });
    expectEnvelope(
      await e.call('POST', '/api/v1/throttles', {
        headers: reason,
        body: { target: { kind: 'source', id: '00000000-0000-7000-8000-000000000000' }, kind: 'pause' },
      }),
      400,
      'VALIDATION_FAILED',
    );
    expect((await e.call('GET', '/api/v1/throttles?active=true')).json.items).toHaveLength(1);
    expect((await e.call('POST', `/api/v1/throttles/${throttle.json.id}:lift`)).json).toMatchObject({
      active: false,
    });
    expectEnvelope(
      await e.call('POST', `/api/v1/throttles/${throttle.json.id}:lift`),
      409,
      'ILLEGAL_TRANSITION',
    );

    const circuits = await e.call('GET', '/api/v1/circuits');
    expect(circuits.json.items).toEqual([
      expect.objectContaining({ sourceId: source.id, state: 'closed', failureThreshold: 5 }),
    ]);
    expect((await e.call('GET', '/api/v1/incidents')).json).toEqual({ items: [], next_page_token: null });
  });

  it('leases for a shared pool across the tenants the token grants, and refuses others', async () => {
    await e.call('POST', '/api/v1/jobs', { tenant: 'fc-b', body: { type: 'fc.pool' } });
    await e.call('POST', '/api/v1/jobs', { body: { type: 'fc.pool' } });
    const pool = await e.call('POST', '/api/v1/worker/leases', {
      body: { workerId: 'pool', types: ['fc.pool'], max: 5, tenants: ['fc', 'fc-b'] },
    });
    expect(
      pool.json.leases.map((l: { provenance: { tenant: string } }) => l.provenance.tenant).sort(),
    ).toEqual(['fc', 'fc-b']);
    expectEnvelope(
      await e.call('POST', '/api/v1/worker/leases', {
        body: { workerId: 'pool', types: ['fc.pool'], tenants: ['fc', 'elsewhere'] },
      }),
      403,
      'FORBIDDEN',
    );
  });
});
