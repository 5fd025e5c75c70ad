import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../../layers/core/src/domain/errors.ts';
import { operation, type TenantContext, tenantApi } from '../../../layers/core/src/http/api.ts';
import { MemoryIdempotencyStore } from './support/memory-idempotency-store.ts';

/**
 * Where Idempotency-Key sits in tenantApi's stack: after authentication, tenant and scope (credential
 * failures are never kept), before validation and the operation (a replay does not re-validate; an invalid
 * body is kept as its 4xx). The runtime and the key store are fakes: no database.
 */
const fakes = vi.hoisted(() => ({ store: undefined as unknown, runtime: undefined as unknown }));

vi.mock('../../../layers/core/src/runtime.ts', () => ({ getRuntime: async () => fakes.runtime }));
vi.mock('../../../layers/core/src/http/idempotency.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../../layers/core/src/http/idempotency.ts')>()),
  idempotencyStore: () => fakes.store,
}));

/** Tokens: 'good' may operate and read, 'reader' only read; both grant tenants acme and other. */
fakes.runtime = {
  config: { MAX_BODY_BYTES: 6_000_000, IDEMPOTENCY_TTL_HOURS: 24 },
  clock: { now: () => new Date() },
  db: {},
  verifyToken: async (token: string) => {
    if (token !== 'good' && token !== 'reader') throw new AppError('UNAUTHENTICATED', 'bad token');
    return {
      subject: token,
      scopes: new Set(token === 'good' ? ['orch:operate', 'orch:read'] : ['orch:read']),
      tenants: ['acme', 'other'],
    };
  },
};

describe('tenantApi and Idempotency-Key', () => {
  let created: number;
  let store: MemoryIdempotencyStore;
  const handler = tenantApi({
    'POST /api/v1/jobs': operation<TenantContext, z.ZodObject<{ type: z.ZodString }>>({
      scope: 'orch:operate',
      body: z.strictObject({ type: z.string() }),
      handle: async ({ body }) => ({ status: 201, body: { id: `job-${++created}`, type: body.type } }),
    }),
    'GET /api/v1/jobs': operation<TenantContext>({
      scope: 'orch:read',
      handle: async () => ({ status: 200, body: { items: [] } }),
    }),
    'POST /api/v1/jobs/{id}:cancel': operation<TenantContext>({
      scope: 'orch:operate',
      handle: async ({ params }) => ({ status: 200, body: { id: params.id, canceled: ++created } }),
    }),
  });

  const call = (
    options: {
      method?: string;
      resource?: string;
      id?: string;
      body?: unknown;
      raw?: string;
      key?: string;
      token?: string;
      tenant?: string;
    } = {},
  ): Promise<APIGatewayProxyResult> => {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${options.token ?? 'good'}`,
      'X-Stella-Tenant': options.tenant ?? 'acme',
      'Content-Type': 'application/json',
    };
    if (options.key !== undefined) headers['Idempotency-Key'] = options.key;
    const event = {
      httpMethod: options.method ?? 'POST',
      resource: options.resource ?? '/api/v1/jobs',
      path: '/api/v1/jobs',
      headers,
      pathParameters: options.id ? { id: options.id } : null,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      body: options.raw ?? (options.body === undefined ? null : JSON.stringify(options.body)),
      isBase64Encoded: false,
      requestContext: { requestId: `req-${Math.random()}` },
    } as unknown as APIGatewayProxyEvent;
    return (handler as (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>)(event, {
      awsRequestId: 'aws-req',
    } as Context);
  };
  const json = (response: APIGatewayProxyResult) => JSON.parse(response.body);

  beforeEach(() => {
    created = 0;
    store = new MemoryIdempotencyStore();
    fakes.store = store;
  });

  it('touches the key store not at all without the header', async () => {
    const response = await call({ body: { type: 'a' } });
    expect(response.statusCode).toBe(201);
    expect(store.calls).toEqual([]);
  });

  it('replays the first response for a retry with the same key and request', async () => {
    const first = await call({ body: { type: 'a' }, key: 'k1' });
    const second = await call({ raw: '{ "type" : "a" }', key: 'k1' });
    expect(created).toBe(1);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers).toMatchObject({ 'Idempotent-Replayed': 'true' });
    expect(first.headers?.['Idempotent-Replayed']).toBeUndefined();
  });

  it('answers 422 IDEMPOTENCY_KEY_REUSED for the key on another body', async () => {
    await call({ body: { type: 'a' }, key: 'k1' });
    const reused = await call({ body: { type: 'b' }, key: 'k1' });
    expect(reused.statusCode).toBe(422);
    expect(json(reused).error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(created).toBe(1);
  });

  it('refuses a malformed key with 400 before anything is claimed', async () => {
    for (const key of ['', 'x'.repeat(256), 'caf\u00e9', 'tab\tkey']) {
      const response = await call({ body: { type: 'a' }, key });
      expect(response.statusCode, JSON.stringify(key)).toBe(400);
      expect(json(response).error.code).toBe('VALIDATION_FAILED');
    }
    expect(store.calls).toEqual([]);
    expect(created).toBe(0);
  });

  it('keeps nothing for credential, tenant or scope failures', async () => {
    expect((await call({ body: { type: 'a' }, key: 'k1', token: 'bad' })).statusCode).toBe(401);
    expect((await call({ body: { type: 'a' }, key: 'k1', tenant: 'nope' })).statusCode).toBe(403);
    expect((await call({ body: { type: 'a' }, key: 'k1', token: 'reader' })).statusCode).toBe(403);
    expect(store.calls).toEqual([]);
    expect((await call({ body: { type: 'a' }, key: 'k1' })).statusCode).toBe(201);
  });

  it('keeps an invalid body as its 400 and replays it without validating again', async () => {
    const first = await call({ body: { type: 1 }, key: 'k1' });
    expect(first.statusCode).toBe(400);
    const replay = await call({ body: { type: 1 }, key: 'k1' });
    expect(replay).toMatchObject({ statusCode: 400, body: first.body });
    expect(replay.headers).toMatchObject({ 'Idempotent-Replayed': 'true' });
    const syntax = await call({ raw: '{oops', key: 'k2' });
    expect(syntax.statusCode).toBe(400);
    expect((await call({ raw: '{oops', key: 'k2' })).body).toBe(syntax.body);
  });

  it('ignores the header on methods other than POST', async () => {
    const response = await call({ method: 'GET', key: 'k1' });
    expect(response.statusCode).toBe(200);
    expect(store.calls).toEqual([]);
  });

  it('scopes a key by tenant, and hashes path parameters of custom methods', async () => {
    await call({ body: { type: 'a' }, key: 'k1' });
    expect((await call({ body: { type: 'b' }, key: 'k1', tenant: 'other' })).statusCode).toBe(201);
    const cancel = { resource: '/api/v1/jobs/{id}', key: 'c1' };
    expect((await call({ ...cancel, id: 'j1:cancel' })).statusCode).toBe(200);
    expect((await call({ ...cancel, id: 'j1:cancel' })).headers).toMatchObject({
      'Idempotent-Replayed': 'true',
    });
    expect((await call({ ...cancel, id: 'j2:cancel' })).statusCode).toBe(422);
    expect(created).toBe(3);
  });
});
