import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonResponse } from '../../layers/core/src/http/envelope.ts';
import {
  idempotent,
  type KeyScope,
  PostgresIdempotencyStore,
} from '../../layers/core/src/http/idempotency.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { callAs, testServices } from '../support/services.ts';

/**
 * The Idempotency-Key statements (ADR 0006) on real PostgreSQL, under the tenant role: claim (insert,
 * takeover of expired and abandoned claims), find, complete and release, each fenced by the claim's
 * created_at; and the whole protocol yielding one effect under concurrency.
 */
describe('idempotency keys', () => {
  let t: TestDatabase;
  let store: PostgresIdempotencyStore;
  const HASH_A = `sha256:${'a'.repeat(64)}`;
  const HASH_B = `sha256:${'b'.repeat(64)}`;
  const HOUR = 3_600_000;
  let n = 0;
  const scope = (tenantId = 'acme'): KeyScope => ({
    tenantId,
    route: 'POST /api/v1/jobs',
    key: `key-${++n}`,
  });
  const at = (base: Date, ms: number) => new Date(base.getTime() + ms);
  const claimAt = (s: KeyScope, now: Date, requestHash = HASH_A) =>
    store.claim(s, { requestHash, now, expiresAt: at(now, HOUR), abandonedBefore: at(now, -60_000) });
  const response = { status: 201, headers: { Location: '/api/v1/jobs/x' }, body: '{"id":"x"}' };

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new PostgresIdempotencyStore(t.db);
  });
  afterAll(async () => t.drop());

  it('claims a new key in_progress and answers the claim created_at', async () => {
    const s = scope();
    const now = new Date();
    const claimedAt = await claimAt(s, now);
    expect(claimedAt?.getTime()).toBe(now.getTime());
    expect(await store.find(s)).toEqual({
      requestHash: HASH_A,
      state: 'in_progress',
      response: null,
      createdAt: now,
      expiresAt: at(now, HOUR),
    });
  });

  it('gives a key to exactly one of 10 concurrent claimants', async () => {
    const s = scope();
    const now = new Date();
    const claims = await Promise.all(Array.from({ length: 10 }, () => claimAt(s, now)));
    expect(claims.filter((c) => c !== null)).toHaveLength(1);
    const { rows } = await t.admin.query('SELECT count(*)::int AS n FROM idempotency_keys WHERE key = $1', [
      s.key,
    ]);
    expect(rows[0].n).toBe(1);
  });

  it('refuses a live key to a second claimant, same request or not', async () => {
    const s = scope();
    const now = new Date();
    expect(await claimAt(s, now)).not.toBeNull();
    expect(await claimAt(s, at(now, 1_000))).toBeNull();
    expect(await claimAt(s, at(now, 1_000), HASH_B)).toBeNull();
    expect((await store.find(s))?.requestHash).toBe(HASH_A);
  });

  it('completes only with the claim token, and keeps status, headers and body', async () => {
    const s = scope();
    const claimedAt = (await claimAt(s, new Date()))!;
    expect(await store.complete(s, at(claimedAt, 1), response)).toBe(false);
    expect(await store.complete(s, claimedAt, response)).toBe(true);
    expect(await store.complete(s, claimedAt, response)).toBe(false);
    const record = await store.find(s);
    expect(record).toMatchObject({ state: 'completed', response });
    expect(await claimAt(s, at(claimedAt, 1_000))).toBeNull();
  });

  it('releases an in_progress claim so the key can be claimed again, but never a completed one', async () => {
    const s = scope();
    const now = new Date();
    const claimedAt = (await claimAt(s, now))!;
    expect(await store.release(s, claimedAt)).toBe(true);
    expect(await store.find(s)).toBeNull();
    const again = (await claimAt(s, at(now, 10)))!;
    expect(again).not.toBeNull();
    await store.complete(s, again, response);
    expect(await store.release(s, again)).toBe(false);
    expect((await store.find(s))?.state).toBe('completed');
  });

  it('takes over an abandoned claim of the same request once, fencing out its old claimant', async () => {
    const s = scope();
    const t0 = new Date();
    const old = (await claimAt(s, t0))!;
    expect(await claimAt(s, at(t0, 59_000))).toBeNull();
    const later = at(t0, 61_000);
    const claims = await Promise.all(Array.from({ length: 10 }, () => claimAt(s, later)));
    const winners = claims.filter((c) => c !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]?.getTime()).toBe(later.getTime());
    expect(await store.complete(s, old, response)).toBe(false);
    expect(await store.release(s, old)).toBe(false);
    expect(await store.complete(s, winners[0]!, response)).toBe(true);
  });

  it('does not hand an abandoned claim to a different request', async () => {
    const s = scope();
    const t0 = new Date();
    await claimAt(s, t0);
    expect(await claimAt(s, at(t0, 61_000), HASH_B)).toBeNull();
    expect((await store.find(s))?.requestHash).toBe(HASH_A);
  });

  it('lets any request reuse an expired key', async () => {
    const s = scope();
    const t0 = new Date();
    await store.complete(s, (await claimAt(s, t0))!, response);
    expect(await claimAt(s, at(t0, HOUR - 1), HASH_B)).toBeNull();
    const reclaimed = await claimAt(s, at(t0, HOUR), HASH_B);
    expect(reclaimed).not.toBeNull();
    expect(await store.find(s)).toMatchObject({ requestHash: HASH_B, state: 'in_progress', response: null });
  });

  it('scopes keys by tenant and route, under row-level security', async () => {
    const a = scope('tenant-a');
    const b: KeyScope = { ...a, tenantId: 'tenant-b' };
    const otherRoute: KeyScope = { ...a, route: 'POST /api/v1/runs' };
    const now = new Date();
    for (const s of [a, b, otherRoute]) expect(await claimAt(s, now)).not.toBeNull();
    await store.complete(a, now, response);
    expect((await store.find(b))?.state).toBe('in_progress');
    const leaked = await t.db.tenant('tenant-b', (db) =>
      db.query('SELECT tenant_id FROM idempotency_keys WHERE key = $1', [a.key]),
    );
    expect(leaked.rows).toEqual([{ tenant_id: 'tenant-b' }]);
  });

  it('yields one effect for 10 concurrent identical requests', async () => {
    const s = testServices(t.db);
    const tenant = 'effects';
    const key: KeyScope = { tenantId: tenant, route: 'POST /api/v1/jobs', key: 'one-job' };
    const options = { store, clock: s.clock, ttlHours: 24 };
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        idempotent(options, key, HASH_A, 'trace', async () => {
          const job = await s.jobs.submit(callAs(tenant), {
            type: 'idem.t',
            payload: {},
            priority: 0,
            key: 'job',
          });
          return jsonResponse(201, job);
        }),
      ),
    );
    s.planQueue.close();
    const { rows } = await t.admin.query(`SELECT id FROM jobs WHERE tenant_id = $1`, [tenant]);
    expect(rows).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'fulfilled') {
        expect(result.value.response.statusCode).toBe(201);
        expect(JSON.parse(result.value.response.body).id).toBe(rows[0].id);
      } else {
        expect(result.reason).toMatchObject({ code: 'CONFLICT', status: 409 });
      }
    }
    expect(results.filter((r) => r.status === 'fulfilled' && !r.value.replayed)).toHaveLength(1);
  });

  it('is pruned by the minute tick once expired', async () => {
    const s = scope();
    const long = new Date(Date.now() - 2 * HOUR);
    await claimAt(s, long);
    const services = testServices(t.db);
    const { idempotencyKeysPruned } = await services.maintenance.tick();
    services.planQueue.close();
    expect(idempotencyKeysPruned).toBeGreaterThanOrEqual(1);
    expect(await store.find(s)).toBeNull();
  });
});
