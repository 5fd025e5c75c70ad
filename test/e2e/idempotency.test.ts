import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient } from '../../sdk/worker/src/index.ts';
import { type E2e, expectEnvelope, startE2e, UUID } from './helpers.ts';

/**
 * `Idempotency-Key` over HTTP (DESIGN §8, ADR 0006): retries replay the first response with
 * `Idempotent-Replayed: true`, the key on another request is a 422, concurrent duplicates yield one effect,
 * kept 4xx replay as themselves, keys are per tenant and expire.
 */
describe('Idempotency-Key over HTTP', () => {
  let e: E2e;
  const TENANT = 'idem-a';
  const OTHER = 'idem-b';
  const TTL_HOURS = 3;
  const withKey = (key: string, body: unknown, tenant = TENANT) => ({
    body,
    tenant,
    headers: { 'Idempotency-Key': key },
  });
  const count = async (sql: string, values: unknown[]) =>
    (await e.t.admin.query<{ n: number }>(sql, values)).rows[0]!.n;
  const jobsOfType = (type: string) => count('SELECT count(*)::int AS n FROM jobs WHERE type = $1', [type]);

  beforeAll(async () => {
    e = await startE2e(
      { tenant: TENANT, tokenTenants: [TENANT, OTHER] },
      { IDEMPOTENCY_TTL_HOURS: String(TTL_HOURS) },
    );
  });
  afterAll(async () => {
    await e?.stop();
  });

  it('replays POST /runs for a retry: same run, one run in the database, Idempotent-Replayed: true', async () => {
    const body = {
      jobs: [{ key: 'fetch', type: 'idem.fetch', payload: { a: 1, b: 2 } }],
      labels: { x: 'y' },
    };
    const first = await e.call('POST', '/api/v1/runs', withKey('run-1', body));
    expect(first.status, JSON.stringify(first.json)).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const reordered = {
      labels: { x: 'y' },
      jobs: [{ payload: { b: 2, a: 1 }, type: 'idem.fetch', key: 'fetch' }],
    };
    const second = await e.call('POST', '/api/v1/runs', withKey('run-1', reordered));
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.json).toEqual(first.json);
    expect(
      await count(`SELECT count(*)::int AS n FROM runs WHERE tenant_id = $1 AND labels->>'x' = 'y'`, [
        TENANT,
      ]),
    ).toBe(1);
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the same key on a different body, with no effect', async () => {
    const first = await e.call('POST', '/api/v1/jobs', withKey('job-1', { type: 'idem.reuse' }));
    expect(first.status).toBe(201);
    const reused = await e.call(
      'POST',
      '/api/v1/jobs',
      withKey('job-1', { type: 'idem.reuse', priority: 5 }),
    );
    expectEnvelope(reused, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await jobsOfType('idem.reuse')).toBe(1);
  });

  it('yields one job for 10 concurrent POST /jobs with one key: replays of it, or 409 in progress', async () => {
    const body = { type: 'idem.concurrent', payload: { n: 1 } };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => e.call('POST', '/api/v1/jobs', withKey('burst-1', body))),
    );
    expect(await jobsOfType('idem.concurrent')).toBe(1);
    const [job] = (
      await e.t.admin.query<{ id: string }>(`SELECT id::text FROM jobs WHERE type = 'idem.concurrent'`)
    ).rows;
    const created = responses.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const response of created) expect(response.json.id).toBe(job!.id);
    expect(created.filter((r) => r.headers.get('idempotent-replayed') !== 'true')).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 201)) {
      expectEnvelope(response, 409, 'CONFLICT');
      expect(response.headers.get('retry-after')).toBe('1');
    }
  });

  it('keeps a 4xx: an invalid body replays as the same 400, and the corrected body needs a new key', async () => {
    const invalid = { type: 'idem.invalid', priority: 'high' };
    const first = await e.call('POST', '/api/v1/jobs', withKey('bad-1', invalid));
    expectEnvelope(first, 400, 'VALIDATION_FAILED');
    const replay = await e.call('POST', '/api/v1/jobs', withKey('bad-1', invalid));
    expect(replay.status).toBe(400);
    expect(replay.json).toEqual(first.json);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const corrected = await e.call('POST', '/api/v1/jobs', withKey('bad-1', { type: 'idem.invalid' }));
    expectEnvelope(corrected, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await jobsOfType('idem.invalid')).toBe(0);
  });

  it('replays custom methods per job: the key on another job id is a different request', async () => {
    const job = await e.call('POST', '/api/v1/jobs', { body: { type: 'idem.cancel' } });
    const other = await e.call('POST', '/api/v1/jobs', { body: { type: 'idem.cancel' } });
    const cancel = (id: string) =>
      e.call('POST', `/api/v1/jobs/${id}:cancel`, withKey('cancel-1', { reason: 'not needed' }));
    const first = await cancel(job.json.id);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    const again = await cancel(job.json.id);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expectEnvelope(await cancel(other.json.id), 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('keeps keys per tenant: the same key in two tenants runs twice without colliding', async () => {
    const body = { type: 'idem.tenants' };
    const a = await e.call('POST', '/api/v1/jobs', withKey('shared-key', body, TENANT));
    const b = await e.call('POST', '/api/v1/jobs', withKey('shared-key', body, OTHER));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.json.id).not.toBe(b.json.id);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(await jobsOfType('idem.tenants')).toBe(2);
  });

  it('keeps a key for IDEMPOTENCY_TTL_HOURS, then lets any request use it again', async () => {
    const first = await e.call('POST', '/api/v1/jobs', withKey('ttl-1', { type: 'idem.ttl' }));
    expect(first.status).toBe(201);
    const { rows } = await e.t.admin.query<{ hours: number }>(
      `SELECT extract(epoch FROM expires_at - created_at)::int / 3600 AS hours
         FROM idempotency_keys WHERE tenant_id = $1 AND key = 'ttl-1'`,
      [TENANT],
    );
    expect(rows).toEqual([{ hours: TTL_HOURS }]);
    await e.t.admin.query(
      `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND key = 'ttl-1'`,
      [TENANT],
    );
    const after = await e.call('POST', '/api/v1/jobs', withKey('ttl-1', { type: 'idem.ttl', priority: 1 }));
    expect(after.status).toBe(201);
    expect(after.headers.get('idempotent-replayed')).toBeNull();
    expect(after.json.id).not.toBe(first.json.id);
    expect(await jobsOfType('idem.ttl')).toBe(2);
  });

  it('refuses a malformed key with 400 and leaves requests without a key unchanged', async () => {
    const bad = await e.call('POST', '/api/v1/jobs', withKey('x'.repeat(256), { type: 'idem.none' }));
    expectEnvelope(bad, 400, 'VALIDATION_FAILED');
    const one = await e.call('POST', '/api/v1/jobs', { body: { type: 'idem.none' } });
    const two = await e.call('POST', '/api/v1/jobs', { body: { type: 'idem.none' } });
    expect([one.status, two.status]).toEqual([201, 201]);
    expect(one.json.id).toMatch(UUID);
    expect(one.json.id).not.toBe(two.json.id);
    expect(await jobsOfType('idem.none')).toBe(2);
  });

  it('replays a retried worker call: a repeated lease answers the same leases', async () => {
    const job = await e.call('POST', '/api/v1/jobs', { body: { type: 'idem.lease' } });
    const sdk = new JobEngineClient({
      baseUrl: e.runtime.url,
      token: await e.runtime.token({ tenants: [TENANT] }),
      tenant: TENANT,
    });
    const request = { workerId: 'w-idem', types: ['idem.lease'] };
    const first = await sdk.lease(request, { idempotencyKey: 'lease-1' });
    const retried = await sdk.lease(request, { idempotencyKey: 'lease-1' });
    expect(first.leases.map((l) => l.jobId)).toEqual([job.json.id]);
    expect(retried).toEqual(first);
  });
});
