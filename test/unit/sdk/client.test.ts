import { afterEach, describe, expect, it } from 'vitest';
import {
  JobEngineClient,
  type JobEngineClientOptions,
  JobEngineError,
  LeaseLostError,
  RateLimitedError,
  UnavailableError,
  ValidationError,
} from '../../../sdk/worker/src/index.ts';
import {
  type ControlPlane,
  errorReply,
  makeLease,
  type Script,
  startControlPlane,
} from './support/control-plane.ts';

let plane: ControlPlane | undefined;

afterEach(async () => {
  await plane?.close();
  plane = undefined;
});

/** A client against a fresh scripted server; `sleeps` records the waits between retries instead of waiting. */
async function setup(script: Script, options: Partial<JobEngineClientOptions> = {}) {
  plane = await startControlPlane(script);
  const sleeps: number[] = [];
  const client = new JobEngineClient({
    baseUrl: `${plane.url}/`,
    token: 'tok',
    tenant: 'acme',
    retry: { maxAttempts: 4, baseMs: 10, capMs: 40 },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
  return { client, sleeps, calls: plane.calls };
}

/** Answers `replies` in order, then `last` forever. */
function sequence(replies: ReturnType<Script>[], last: ReturnType<Script>): Script {
  let index = 0;
  return () => replies[index++] ?? last;
}

const leaseRequest = { workerId: 'w-1', types: ['echo'], max: 2, leaseSeconds: 30 };

describe('JobEngineClient', () => {
  it('sends the contract headers and body, and returns the parsed answer', async () => {
    const lease = makeLease('echo');
    const { client, calls } = await setup(() => ({ body: { leases: [lease] } }), {
      token: async () => 'rotated-token',
      project: 'proj-1',
    });

    const answer = await client.lease(leaseRequest, { correlationId: 'corr-1' });

    expect(answer).toEqual({ leases: [lease] });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/api/v1/worker/leases', body: leaseRequest });
    expect(calls[0]?.headers).toMatchObject({
      authorization: 'Bearer rotated-token',
      'x-stella-tenant': 'acme',
      'x-stella-project': 'proj-1',
      'content-type': 'application/json',
      'x-correlation-id': 'corr-1',
      'idempotency-key': expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('addresses heartbeat, progress and single completion by id', async () => {
    const { client, calls } = await setup(() => ({ body: {} }));

    await client.heartbeat('lease-1', { leaseSeconds: 10 });
    await client.progress('job-1', { leaseId: 'lease-1', progress: { percent: 50 } });
    await client.completeOne('job-1', { leaseId: 'lease-1', outcome: 'succeeded' });
    await client.complete([{ jobId: 'job-1', leaseId: 'lease-1', outcome: 'succeeded' }]);

    expect(calls.map((c) => c.path)).toEqual([
      '/api/v1/worker/leases/lease-1:heartbeat',
      '/api/v1/worker/jobs/job-1:progress',
      '/api/v1/worker/jobs/job-1:complete',
      '/api/v1/worker/completions',
    ]);
    expect(calls[3]?.body).toEqual({
      completions: [{ jobId: 'job-1', leaseId: 'lease-1', outcome: 'succeeded' }],
    });
  });

  it('retries 503 no sooner than Retry-After, with the same Idempotency-Key, then succeeds', async () => {
    const unavailable = errorReply(503, 'DATABASE_UNAVAILABLE', { 'Retry-After': '1' });
    const { client, sleeps, calls } = await setup(
      sequence([unavailable, unavailable], { body: { leases: [] } }),
    );

    await expect(client.lease(leaseRequest)).resolves.toEqual({ leases: [] });

    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([1000, 1000]);
    expect(new Set(calls.map((c) => c.headers['idempotency-key'])).size).toBe(1);
  });

  it('really waits out Retry-After with the default sleep', async () => {
    const unavailable = errorReply(503, 'DATABASE_UNAVAILABLE', { 'Retry-After': '1' });
    plane = await startControlPlane(sequence([unavailable], { body: { leases: [] } }));
    const client = new JobEngineClient({ baseUrl: plane.url, token: 't', tenant: 'acme' });

    const started = performance.now();
    await client.lease(leaseRequest);

    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(plane.calls).toHaveLength(2);
  });

  it('honours 429 Retry-After and, once retries are used up, throws RateLimitedError with the limits', async () => {
    const limited = errorReply(429, 'RATE_LIMITED', {
      'Retry-After': '2',
      'X-RateLimit-Limit': '100',
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': '1700000000',
    });
    const { client, sleeps, calls } = await setup(() => limited);

    const error = await client.lease(leaseRequest).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({
      code: 'RATE_LIMITED',
      status: 429,
      traceId: 'trace-test',
      retryAfterMs: 2000,
      rateLimit: { limit: 100, remaining: 0, reset: 1_700_000_000 },
    });
    expect(calls).toHaveLength(4);
    expect(sleeps).toEqual([2000, 2000, 2000]);
  });

  it('backs off exponentially with full jitter, capped, when no Retry-After is given', async () => {
    const { client, sleeps } = await setup(() => errorReply(502, 'BAD_GATEWAY'), {
      random: () => 0.5,
      retry: { maxAttempts: 5, baseMs: 100, capMs: 300 },
    });

    await expect(client.lease(leaseRequest)).rejects.toBeInstanceOf(UnavailableError);

    expect(sleeps).toEqual([50, 100, 150, 150]);
  });

  it.each([
    [400, 'VALIDATION_FAILED'],
    [422, 'IDEMPOTENCY_KEY_REUSED'],
  ])('never retries %i and throws ValidationError with the details', async (status, code) => {
    const details = [{ path: 'types.0', message: 'a job type' }];
    const { client, calls } = await setup(() => errorReply(status, code, {}, details));

    const error = await client.lease(leaseRequest).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code, status, details, traceId: 'trace-test' });
    expect(calls).toHaveLength(1);
  });

  it('never retries other errors (403, 500), which keep their code', async () => {
    const { client, calls } = await setup(
      sequence([errorReply(403, 'TENANT_FORBIDDEN')], errorReply(500, 'INTERNAL')),
    );

    await expect(client.lease(leaseRequest)).rejects.toMatchObject({
      name: 'JobEngineError',
      code: 'TENANT_FORBIDDEN',
    });
    const error = await client.lease(leaseRequest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobEngineError);
    expect(error).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(calls).toHaveLength(2);
  });

  it('maps 409 LEASE_LOST to LeaseLostError, for one call and for a batch with nothing accepted', async () => {
    const { client, calls } = await setup(() => errorReply(409, 'LEASE_LOST'));

    await expect(client.heartbeat('lease-1')).rejects.toBeInstanceOf(LeaseLostError);
    await expect(client.complete([{ jobId: 'j', leaseId: 'l', outcome: 'succeeded' }])).rejects.toMatchObject(
      { name: 'LeaseLostError', code: 'LEASE_LOST', status: 409 },
    );
    expect(calls).toHaveLength(2);
  });

  it('retries a dropped connection and a request timeout', async () => {
    const { client, calls } = await setup(sequence(['reset', 'hang'], { body: { leases: [] } }), {
      timeoutMs: 100,
    });

    await expect(client.lease(leaseRequest)).resolves.toEqual({ leases: [] });
    expect(calls).toHaveLength(3);
  });

  it('reports NETWORK_ERROR / REQUEST_TIMEOUT once retries are used up', async () => {
    const { client } = await setup(() => 'hang', { timeoutMs: 50, retry: { maxAttempts: 2 } });
    await expect(client.lease(leaseRequest)).rejects.toMatchObject({
      name: 'UnavailableError',
      code: 'REQUEST_TIMEOUT',
      status: undefined,
    });

    const closed = new JobEngineClient({
      baseUrl: 'http://127.0.0.1:9',
      token: 't',
      tenant: 'a',
      retry: { maxAttempts: 1 },
    });
    await expect(closed.lease(leaseRequest)).rejects.toMatchObject({
      name: 'UnavailableError',
      code: 'NETWORK_ERROR',
    });
  });

  it("stops at once when the caller's signal aborts, with the signal's reason, even between retries", async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const { client, calls } = await setup(() => errorReply(503, 'DATABASE_UNAVAILABLE'), {
      sleep: async () => controller.abort(reason),
    });

    await expect(client.lease(leaseRequest, { signal: controller.signal })).rejects.toBe(reason);
    expect(calls).toHaveLength(1);
  });
});
