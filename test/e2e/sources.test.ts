import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type RunningRuntime, startLocalRuntime } from '../support/local-runtime.ts';

/** The sources slice end to end: real HTTP against `local/main.ts`, real PostgreSQL underneath. */
describe('sources API over HTTP', () => {
  let t: TestDatabase;
  let runtime: RunningRuntime;
  let tokenA: string;
  let tokenB: string;

  const call = async (
    method: string,
    path: string,
    options: {
      token?: string | null;
      tenant?: string | null;
      body?: unknown;
      raw?: string;
      headers?: Record<string, string>;
    } = {},
  ) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== null) headers.Authorization = `Bearer ${options.token ?? tokenA}`;
    if (options.tenant !== null) headers['X-Stella-Tenant'] = options.tenant ?? 'tenant-a';
    let body: string | undefined = options.raw;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['Content-Type'] ??= 'application/json';
    const response = await fetch(`${runtime.url}${path}`, { method, headers, body });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
  };

  const expectEnvelope = (result: { status: number; json: unknown }, status: number, code: string) => {
    expect(result.status, JSON.stringify(result.json)).toBe(status);
    expect(result.json).toMatchObject({
      error: { code, message: expect.any(String), trace_id: expect.any(String) },
    });
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    runtime = await startLocalRuntime(t.url);
    tokenA = await runtime.token({ tenants: ['tenant-a'] });
    tokenB = await runtime.token({ tenants: ['tenant-b'] });
  });
  afterAll(async () => {
    await runtime?.stop();
    await t?.drop();
  });

  it('answers the probes', async () => {
    expect((await call('GET', '/healthz', { token: null, tenant: null })).json).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz', { token: null, tenant: null })).json).toEqual({ status: 'ready' });
  });

  it('creates, reads, lists and patches a source', async () => {
    const created = await call('POST', '/api/v1/sources', {
      body: {
        name: 'nvd',
        type: 'advisory_feed',
        upstreamHost: 'NVD.example.org',
        config: { format: 'json' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      name: 'nvd',
      upstreamHost: 'nvd.example.org',
      version: 1,
      circuit: { state: 'closed' },
    });
    expect(created.headers.get('location')).toBe(`/api/v1/sources/${created.json.id}`);
    const id = created.json.id as string;

    const read = await call('GET', `/api/v1/sources/${id}`);
    expect(read.json).toEqual(created.json);
    expect(read.headers.get('etag')).toBe('"1"');

    const patched = await call('PATCH', `/api/v1/sources/${id}`, {
      body: { enabled: false },
      headers: { 'If-Match': '"1"' },
    });
    expect(patched.json).toMatchObject({ enabled: false, version: 2, config: { format: 'json' } });
    expectEnvelope(
      await call('PATCH', `/api/v1/sources/${id}`, {
        body: { enabled: true },
        headers: { 'If-Match': '"1"' },
      }),
      412,
      'PRECONDITION_FAILED',
    );

    const events = await t.admin.query(`SELECT event_type FROM events WHERE subject_id = $1 ORDER BY seq`, [
      id,
    ]);
    expect(events.rows.map((r) => r.event_type)).toEqual(['source.created', 'source.updated']);
  });

  it('pages through a filtered list with opaque tokens, in (createdAt, id) order', async () => {
    for (let i = 0; i < 7; i++) {
      expect(
        (
          await call('POST', '/api/v1/sources', {
            body: { name: `vex-${i}`, type: 'vex', upstreamHost: 'vex.example' },
          })
        ).status,
      ).toBe(201);
    }
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const page = await call(
        'GET',
        `/api/v1/sources?type=vex&page_size=3${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
      );
      expect(page.status).toBe(200);
      seen.push(...page.json.items.map((s: { name: string }) => s.name));
      token = page.json.next_page_token;
    } while (token);
    expect(seen).toEqual(['vex-0', 'vex-1', 'vex-2', 'vex-3', 'vex-4', 'vex-5', 'vex-6']);
  });

  it('isolates tenants: another tenant gets 404 and an empty list', async () => {
    const created = await call('POST', '/api/v1/sources', {
      body: { name: 'private', type: 'sbom', upstreamHost: 'sbom.example' },
    });
    const id = created.json.id;
    expectEnvelope(
      await call('GET', `/api/v1/sources/${id}`, { token: tokenB, tenant: 'tenant-b' }),
      404,
      'NOT_FOUND',
    );
    expectEnvelope(
      await call('PATCH', `/api/v1/sources/${id}`, {
        token: tokenB,
        tenant: 'tenant-b',
        body: { enabled: false },
      }),
      404,
      'NOT_FOUND',
    );
    const list = await call('GET', '/api/v1/sources', { token: tokenB, tenant: 'tenant-b' });
    expect(list.json).toEqual({ items: [], next_page_token: null });
    expectEnvelope(
      await call('GET', `/api/v1/sources/${id}`, { token: tokenB, tenant: 'tenant-a' }),
      403,
      'FORBIDDEN',
    );
    expect((await call('GET', `/api/v1/sources/${id}`)).json.enabled).toBe(true);
  });

  describe('bad input gets a 4xx with the envelope, never a 5xx, and changes nothing', () => {
    const cases: [string, () => Promise<{ status: number; json: unknown }>, number, string][] = [
      [
        'wrong types',
        () => call('POST', '/api/v1/sources', { body: { name: 42, type: ['x'], upstreamHost: true } }),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'unknown fields',
        () =>
          call('POST', '/api/v1/sources', {
            body: { name: 'x', type: 'vex', upstreamHost: 'h.example', admin: true },
          }),
        400,
        'VALIDATION_FAILED',
      ],
      ['missing fields', () => call('POST', '/api/v1/sources', { body: {} }), 400, 'VALIDATION_FAILED'],
      [
        'a 2 MB body',
        () => call('POST', '/api/v1/sources', { raw: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }) }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      ['malformed JSON', () => call('POST', '/api/v1/sources', { raw: '{"name": ' }), 400, 'INVALID_JSON'],
      [
        'a non-JSON content type',
        () =>
          call('POST', '/api/v1/sources', {
            raw: 'name=x',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a forged cursor',
        () => call('GET', '/api/v1/sources?page_token=eyJ2IjoxfQ.forged'),
        400,
        'INVALID_PAGE_TOKEN',
      ],
      [
        'a cursor from another filter',
        async () => {
          const first = await call('GET', '/api/v1/sources?type=vex&page_size=1');
          return call(
            'GET',
            `/api/v1/sources?type=sbom&page_token=${encodeURIComponent(first.json.next_page_token)}`,
          );
        },
        400,
        'INVALID_PAGE_TOKEN',
      ],
      [
        'an out-of-range page size',
        () => call('GET', '/api/v1/sources?page_size=501'),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'an unknown query parameter',
        () => call('GET', '/api/v1/sources?colour=red'),
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a repeated query parameter',
        () => call('GET', '/api/v1/sources?type=vex&type=sbom'),
        400,
        'VALIDATION_FAILED',
      ],
      ['a missing tenant', () => call('GET', '/api/v1/sources', { tenant: null }), 403, 'TENANT_REQUIRED'],
      [
        'a malformed tenant',
        () => call('GET', '/api/v1/sources', { tenant: "a'; DROP TABLE sources;--" }),
        400,
        'VALIDATION_FAILED',
      ],
      ['no token', () => call('GET', '/api/v1/sources', { token: null }), 401, 'UNAUTHENTICATED'],
      [
        'a garbage token',
        () => call('GET', '/api/v1/sources', { token: 'not.a.jwt' }),
        401,
        'UNAUTHENTICATED',
      ],
      [
        'an expired token',
        async () => call('GET', '/api/v1/sources', { token: await runtime.token({ expiresIn: '-5m' }) }),
        401,
        'UNAUTHENTICATED',
      ],
      [
        'a token signed by another key',
        async () => {
          const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
          return call('GET', '/api/v1/sources', {
            token: await runtime.token({
              key: { ...(await exportJWK(privateKey)), alg: 'EdDSA', kid: 'e2e' },
            }),
          });
        },
        401,
        'UNAUTHENTICATED',
      ],
      [
        'a token without the write scope',
        async () =>
          call('POST', '/api/v1/sources', {
            token: await runtime.token({ scopes: ['orch:read'] }),
            body: { name: 'ro', type: 'vex', upstreamHost: 'h.example' },
          }),
        403,
        'FORBIDDEN',
      ],
      ['a non-uuid id', () => call('GET', '/api/v1/sources/not-a-uuid'), 404, 'NOT_FOUND'],
      [
        'an empty patch',
        async () => {
          const created = await call('POST', '/api/v1/sources', {
            body: { name: 'patch-me', type: 'vex', upstreamHost: 'h.example' },
          });
          return call('PATCH', `/api/v1/sources/${created.json.id}`, { body: {} });
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a malformed If-Match',
        async () => {
          const list = await call('GET', '/api/v1/sources?page_size=1');
          return call('PATCH', `/api/v1/sources/${list.json.items[0].id}`, {
            body: { enabled: true },
            headers: { 'If-Match': 'banana' },
          });
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        'a duplicate name',
        () =>
          call('POST', '/api/v1/sources', {
            body: { name: 'nvd', type: 'advisory_feed', upstreamHost: 'h.example' },
          }),
        409,
        'ALREADY_EXISTS',
      ],
      ['an unknown route', () => call('GET', '/api/v1/nope'), 404, 'NOT_FOUND'],
      ['an unsupported method', () => call('DELETE', '/api/v1/sources'), 405, 'METHOD_NOT_ALLOWED'],
    ];

    it.each(cases)('%s', async (_name, run, status, code) => {
      const before = await t.admin.query('SELECT count(*)::int AS n, max(updated_at) AS at FROM sources');
      const result = await run();
      expectEnvelope(result, status, code);
      const after = await t.admin.query('SELECT count(*)::int AS n, max(updated_at) AS at FROM sources');
      if (_name !== 'an empty patch') expect(after.rows[0]).toEqual(before.rows[0]);
    });
  });

  it('shuts down gracefully on SIGTERM', async () => {
    const code = await runtime.stop('SIGTERM');
    expect(code).toBe(0);
    expect(runtime.output.some((line) => line.includes('"message":"stopped"'))).toBe(true);
  });
});
