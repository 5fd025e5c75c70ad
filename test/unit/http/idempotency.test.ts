import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../layers/core/src/domain/errors.ts';
import { jsonResponse } from '../../../layers/core/src/http/envelope.ts';
import {
  type IdempotencyOptions,
  idempotencyKeyOf,
  idempotent,
  type KeyScope,
  type RequestIdentity,
  requestHash,
} from '../../../layers/core/src/http/idempotency.ts';
import { MemoryIdempotencyStore } from './support/memory-idempotency-store.ts';

const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));

describe('Idempotency-Key header', () => {
  it('is absent without the header', () => {
    expect(idempotencyKeyOf({ 'content-type': 'application/json' })).toBeUndefined();
  });

  it('accepts 1 to 255 printable ASCII characters as they are', () => {
    fc.assert(
      fc.property(fc.string({ unit: printable, minLength: 1, maxLength: 255 }), (key) => {
        expect(idempotencyKeyOf({ 'idempotency-key': key })).toBe(key);
      }),
    );
  });

  it('refuses empty, over-long, control and non-ASCII keys with 400 VALIDATION_FAILED', () => {
    const outside = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }),
      fc.constant(0x7f),
      fc.integer({ min: 0x80, max: 0xffff }),
    );
    const bad = fc.oneof(
      fc.constant(''),
      fc.string({ unit: printable, minLength: 256, maxLength: 300 }),
      fc
        .tuple(
          fc.string({ unit: printable, maxLength: 100 }),
          outside,
          fc.string({ unit: printable, maxLength: 100 }),
        )
        .map(([before, code, after]) => `${before}${String.fromCharCode(code)}${after}`),
    );
    fc.assert(
      fc.property(bad, (key) => {
        expect(() => idempotencyKeyOf({ 'idempotency-key': key })).toThrow(
          expect.objectContaining({ code: 'VALIDATION_FAILED', status: 400 }),
        );
      }),
    );
  });
});

describe('request hash', () => {
  type Overrides = Partial<Omit<RequestIdentity, 'event'>> & {
    body?: string | null;
    event?: Partial<RequestIdentity['event']>;
  };
  const request = (overrides: Overrides = {}): RequestIdentity => {
    const { body, ...rest } = overrides;
    return {
      method: 'POST',
      route: 'POST /api/v1/jobs/{id}:cancel',
      params: { id: 'j1' },
      projectId: null,
      ...rest,
      event: {
        body: body === undefined ? '{"reason":"stale","force":true}' : body,
        isBase64Encoded: false,
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        ...rest.event,
      },
    };
  };

  it('compares JSON bodies by value: key order and whitespace do not matter', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const compact = JSON.stringify(value);
        const reordered = JSON.stringify(Object.fromEntries(Object.entries(value).reverse()), null, 2);
        expect(requestHash(request({ body: reordered }))).toBe(requestHash(request({ body: compact })));
      }),
    );
  });

  it('decodes base64 bodies before comparing', () => {
    const body = '{"reason":"stale","force":true}';
    const encoded = request({ event: { body: Buffer.from(body).toString('base64'), isBase64Encoded: true } });
    expect(requestHash(encoded)).toBe(requestHash(request({ body })));
  });

  it('tells apart method, route, path params, query, project and body', () => {
    const base = requestHash(request());
    const variants = [
      request({ method: 'PUT' }),
      request({ route: 'POST /api/v1/jobs/{id}:retry' }),
      request({ params: { id: 'j2' } }),
      request({ projectId: 'proj-1' }),
      request({ event: { queryStringParameters: { dry_run: 'true' } } }),
      request({ body: '{"reason":"other","force":true}' }),
      request({ body: null }),
      request({ body: '{}' }),
    ];
    const hashes = new Set([base, ...variants.map(requestHash)]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('treats an absent and an empty body alike, and hashes a non-JSON body as text', () => {
    expect(requestHash(request({ body: '' }))).toBe(requestHash(request({ body: null })));
    expect(requestHash(request({ body: 'not json' }))).not.toBe(requestHash(request({ body: 'not json!' })));
    expect(requestHash(request({ body: '{"n":1e999}' }))).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('compares query parameters by name and values, including repeats', () => {
    const query = (single: Record<string, string>, multi: Record<string, string[]>) =>
      requestHash(
        request({
          event: {
            queryStringParameters: single,
            multiValueQueryStringParameters: multi,
          },
        }),
      );
    expect(query({ a: '1', b: '2' }, { a: ['1'], b: ['2'] })).toBe(
      query({ b: '2', a: '1' }, { b: ['2'], a: ['1'] }),
    );
    expect(query({ a: '2' }, { a: ['1', '2'] })).not.toBe(query({ a: '2' }, { a: ['2'] }));
  });
});

describe('idempotent', () => {
  const HASH = `sha256:${'1'.repeat(64)}`;
  const OTHER = `sha256:${'2'.repeat(64)}`;
  const scope: KeyScope = { tenantId: 'acme', route: 'POST /api/v1/jobs', key: 'k-1' };

  /** A store, a clock that only moves when the code under test sleeps, and the sleeps it asked for. */
  function setup(onSleep?: (ms: number) => void) {
    const store = new MemoryIdempotencyStore();
    let now = Date.UTC(2026, 0, 1);
    const sleeps: number[] = [];
    const options: IdempotencyOptions = {
      store,
      ttlHours: 24,
      clock: { now: () => new Date(now) },
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
        onSleep?.(ms);
      },
    };
    return { store, options, sleeps, advance: (ms: number) => (now += ms), now: () => new Date(now) };
  }

  const created = (id: string) => async () => jsonResponse(201, { id }, { Location: `/api/v1/jobs/${id}` });

  it('runs the first request, keeps its response and replays it for the same request', async () => {
    const { store, options } = setup();
    const run = vi.fn(created('job-1'));
    const first = await idempotent(options, scope, HASH, 'trace-1', run);
    const second = await idempotent(options, scope, HASH, 'trace-2', run);
    expect(run).toHaveBeenCalledTimes(1);
    expect(first.replayed).toBe(false);
    expect(second.replayed).toBe(true);
    expect(second.response).toEqual({
      statusCode: 201,
      headers: { ...first.response.headers, 'Idempotent-Replayed': 'true' },
      body: first.response.body,
    });
    expect(store.calls).toEqual(['claim', 'complete', 'claim', 'find']);
  });

  it('refuses the key for a different request with 422 IDEMPOTENCY_KEY_REUSED, in progress or done', async () => {
    const { options } = setup();
    const run = vi.fn(created('job-1'));
    await idempotent(options, scope, HASH, 't', run);
    await expect(idempotent(options, scope, OTHER, 't', run)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      status: 422,
    });
    const other = { ...scope, key: 'k-2' };
    await options.store.claim(other, {
      requestHash: HASH,
      now: options.clock.now(),
      expiresAt: new Date(Date.UTC(2030, 0, 1)),
      abandonedBefore: new Date(0),
    });
    await expect(idempotent(options, other, OTHER, 't', run)).rejects.toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('keeps a 4xx thrown by the operation as its envelope, trace id of the first request included', async () => {
    const { options } = setup();
    const run = vi.fn(async () => {
      throw new AppError('VALIDATION_FAILED', 'invalid request body', [
        { path: 'type', message: 'Required' },
      ]);
    });
    const first = await idempotent(options, scope, HASH, 'trace-1', run);
    const again = await idempotent(options, scope, HASH, 'trace-2', run);
    expect(run).toHaveBeenCalledTimes(1);
    expect(first.response.statusCode).toBe(400);
    expect(JSON.parse(first.response.body)).toMatchObject({
      error: { code: 'VALIDATION_FAILED', trace_id: 'trace-1', details: [{ path: 'type' }] },
    });
    expect(again.response).toMatchObject({ statusCode: 400, body: first.response.body });
    expect(again.response.headers).toMatchObject({ 'Idempotent-Replayed': 'true' });
  });

  it.each([
    ['a 5xx', new AppError('DATABASE_UNAVAILABLE', 'down', [], { headers: { 'Retry-After': '5' } })],
    ['a bug', new TypeError('boom')],
    ['a 429', new AppError('RATE_LIMITED', 'slow down', [], { headers: { 'Retry-After': '2' } })],
  ])('releases the key after %s so a retry runs again', async (_what, error) => {
    const { store, options } = setup();
    const run = vi.fn().mockRejectedValueOnce(error).mockImplementation(created('job-1'));
    await expect(idempotent(options, scope, HASH, 't', run)).rejects.toBe(error);
    expect(store.records.size).toBe(0);
    const retry = await idempotent(options, scope, HASH, 't', run);
    expect(retry.replayed).toBe(false);
    expect(retry.response.statusCode).toBe(201);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('releases the key when the operation answers 5xx without throwing', async () => {
    const { store, options } = setup();
    const response = await idempotent(options, scope, HASH, 't', async () => jsonResponse(503, {}));
    expect(response.response.statusCode).toBe(503);
    expect(store.records.size).toBe(0);
  });

  it('waits for a duplicate in progress and replays its response when it finishes within the wait', async () => {
    let finish: (() => Promise<void>) | undefined;
    const { store, options, sleeps } = setup((ms) => {
      if (ms >= 100) void finish?.();
    });
    const holder = await store.claim(scope, {
      requestHash: HASH,
      now: options.clock.now(),
      expiresAt: new Date(Date.UTC(2030, 0, 1)),
      abandonedBefore: new Date(0),
    });
    finish = async () => {
      await store.complete(scope, holder!, { status: 201, headers: {}, body: '{"id":"job-1"}' });
    };
    const run = vi.fn(created('job-2'));
    const result = await idempotent(options, scope, HASH, 't', run);
    expect(run).not.toHaveBeenCalled();
    expect(result).toMatchObject({ replayed: true, response: { statusCode: 201, body: '{"id":"job-1"}' } });
    expect(sleeps).toEqual([50, 100]);
  });

  it('answers 409 CONFLICT with Retry-After: 1 when the duplicate is still in progress after ~2 s', async () => {
    const { store, options, sleeps } = setup();
    await store.claim(scope, {
      requestHash: HASH,
      now: options.clock.now(),
      expiresAt: new Date(Date.UTC(2030, 0, 1)),
      abandonedBefore: new Date(0),
    });
    const run = vi.fn(created('job-2'));
    const error = await idempotent(options, scope, HASH, 't', run).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFLICT', status: 409, headers: { 'Retry-After': '1' } });
    expect(run).not.toHaveBeenCalled();
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2_000);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThan(2_500);
    expect(Math.max(...sleeps)).toBe(400);
  });

  it('takes over a claim abandoned for over 60 s and fences out its claimant', async () => {
    const { store, options, advance } = setup();
    const dead = await store.claim(scope, {
      requestHash: HASH,
      now: options.clock.now(),
      expiresAt: new Date(Date.UTC(2030, 0, 1)),
      abandonedBefore: new Date(0),
    });
    advance(60_001);
    const run = vi.fn(created('job-2'));
    const result = await idempotent(options, scope, HASH, 't', run);
    expect(result.replayed).toBe(false);
    expect(run).toHaveBeenCalledTimes(1);
    expect(await store.complete(scope, dead!, { status: 201, headers: {}, body: '{}' })).toBe(false);
  });

  it('claims again when the holder releases the key while a duplicate waits', async () => {
    let holder: Date | null = null;
    const { store, options } = setup(() => {
      if (holder) void store.release(scope, holder);
    });
    holder = await store.claim(scope, {
      requestHash: HASH,
      now: options.clock.now(),
      expiresAt: new Date(Date.UTC(2030, 0, 1)),
      abandonedBefore: new Date(0),
    });
    const run = vi.fn(created('job-2'));
    expect((await idempotent(options, scope, HASH, 't', run)).replayed).toBe(false);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('ignores an expired key: any request runs and takes it', async () => {
    const { options, advance } = setup();
    await idempotent(options, scope, HASH, 't', created('job-1'));
    advance(24 * 3_600_000);
    const result = await idempotent(options, scope, OTHER, 't', created('job-2'));
    expect(result.replayed).toBe(false);
    expect(JSON.parse(result.response.body)).toEqual({ id: 'job-2' });
  });

  it('still answers when the response cannot be stored (the effect has happened)', async () => {
    const { store, options } = setup();
    store.complete = async () => {
      throw new Error('connection reset');
    };
    const result = await idempotent(options, scope, HASH, 't', created('job-1'));
    expect(result.response.statusCode).toBe(201);
  });

  it('runs once for concurrent duplicates; the others replay or are told it is in progress', async () => {
    const { options } = setup();
    let runs = 0;
    const run = async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return jsonResponse(201, { id: 'job-1' });
    };
    options.sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms / 50));
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () => idempotent(options, scope, HASH, 't', run)),
    );
    expect(runs).toBe(1);
    for (const result of results) {
      if (result.status === 'fulfilled')
        expect(JSON.parse(result.value.response.body)).toEqual({ id: 'job-1' });
      else expect(result.reason).toMatchObject({ code: 'CONFLICT' });
    }
    expect(results.filter((r) => r.status === 'fulfilled' && r.value.replayed)).toHaveLength(9);
  });
});
