import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  JobEngineClient,
  type JobHandler,
  type Lease,
  LeaseLostError,
  type Logger,
  PermanentError,
  RetryableError,
  UpstreamThrottledError,
  Worker,
  type WorkerClient,
  type WorkerOptions,
  WorkerStoppedError,
} from '../../../sdk/worker/src/index.ts';
import {
  activeHandles,
  type ControlPlane,
  errorReply,
  FakeBridge,
  leakedSince,
  makeLease,
  startControlPlane,
} from './support/control-plane.ts';

interface LogEntry {
  level: keyof Logger;
  message: string;
  attributes: Record<string, unknown> | undefined;
}

let plane: ControlPlane | undefined;
let worker: Worker | undefined;
let baseline: Record<string, number>;

beforeEach(() => {
  baseline = activeHandles();
});

afterEach(async () => {
  await worker?.stop({ graceful: false });
  // A stopped worker holds no timer: checked before the server goes, so its sockets cannot hide one.
  expect(leakedSince(baseline), 'a timer outlived stop()').not.toContain('Timeout');
  await plane?.close();
  worker = undefined;
  plane = undefined;
});

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  );
}

/** A worker against a fresh FakeBridge over real HTTP, with fast polling and a recording logger. */
async function setup(leases: Lease[], options: Partial<WorkerOptions> & Pick<WorkerOptions, 'handlers'>) {
  const bridge = new FakeBridge(leases);
  plane = await startControlPlane(bridge.route);
  const client = new JobEngineClient({
    baseUrl: plane.url,
    token: 'tok',
    tenant: 'acme',
    retry: { maxAttempts: 3, baseMs: 5, capMs: 20 },
  });
  const log: LogEntry[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      log.push({ level, message, attributes });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  worker = new Worker({
    client,
    workerId: 'w-test',
    pollIntervalMs: 10,
    maxPollIntervalMs: 20,
    logger,
    ...options,
  });
  return { bridge, worker, log };
}

describe('Worker', () => {
  it('runs every job once, never more than `concurrency` at once, claiming only free capacity', async () => {
    const leases = Array.from({ length: 20 }, (_, n) => makeLease('work', { payload: { n } }));
    let active = 0;
    let maxActive = 0;
    const { bridge, worker } = await setup(leases, {
      concurrency: 3,
      batchSize: 10,
      handlers: {
        work: async (job) => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          await sleep(5 + (Number(job.payload.n) % 4) * 5);
          active -= 1;
          return { result: { doubled: Number(job.payload.n) * 2 } };
        },
      },
    });

    worker.start();
    await waitFor(() => worker.stats().succeeded === 20, '20 successes');
    await worker.stop();

    expect(maxActive).toBe(3);
    expect(bridge.leaseCalls[0]).toEqual({ workerId: 'w-test', types: ['work'], max: 3, leaseSeconds: 60 });
    expect(bridge.leaseCalls.every((call) => call.max >= 1 && call.max <= 3)).toBe(true);
    const completions = bridge.completions();
    expect(completions).toHaveLength(20);
    expect(new Set(completions.map((c) => c.jobId))).toEqual(new Set(leases.map((l) => l.jobId)));
    for (const lease of leases) {
      expect(completions.find((c) => c.jobId === lease.jobId)).toEqual({
        jobId: lease.jobId,
        leaseId: lease.leaseId,
        outcome: 'succeeded',
        result: { doubled: Number(lease.payload.n) * 2 },
      });
    }
    expect(worker.stats()).toEqual({
      leased: 20,
      succeeded: 20,
      failed: 0,
      leaseLost: 0,
      completionErrors: 0,
      inFlight: 0,
    });
  });

  it('sends the completions of handlers that finish together in one call', async () => {
    const gate = deferred();
    let started = 0;
    const { bridge, worker } = await setup(
      Array.from({ length: 5 }, () => makeLease('work')),
      {
        concurrency: 5,
        handlers: {
          work: async () => {
            started += 1;
            await gate.promise;
          },
        },
      },
    );

    worker.start();
    await waitFor(() => started === 5, 'five running handlers');
    gate.resolve();
    await waitFor(() => worker.stats().succeeded === 5, 'five successes');

    expect(bridge.completionCalls.map((batch) => batch.length)).toEqual([5]);
  });

  it('flushes as soon as batchSize completions are waiting, without waiting for the tick', async () => {
    const gate = deferred();
    let started = 0;
    const { bridge, worker } = await setup(
      Array.from({ length: 4 }, () => makeLease('work')),
      {
        concurrency: 4,
        batchSize: 2,
        completionBatchMs: 60_000,
        handlers: {
          work: async () => {
            started += 1;
            await gate.promise;
          },
        },
      },
    );

    worker.start();
    await waitFor(() => started === 4, 'four running handlers');
    gate.resolve();
    await waitFor(() => worker.stats().succeeded === 4, 'four successes', 1000);

    expect(bridge.completionCalls.map((batch) => batch.length)).toEqual([2, 2]);
  });

  it('heartbeats each lease every heartbeatIntervalMs while its job runs, and stops once it completes', async () => {
    const lease = makeLease('work');
    const { bridge, worker } = await setup([lease], {
      leaseSeconds: 5,
      heartbeatIntervalMs: 40,
      // Runs until three heartbeats went out: no dependence on how punctual timers are on a busy machine.
      handlers: { work: () => waitFor(() => bridge.heartbeats.length >= 3, 'three heartbeats', 5000) },
    });

    const started = Date.now();
    worker.start();
    await waitFor(() => worker.stats().succeeded === 1, 'the success', 6000);
    const elapsed = Date.now() - started;
    const sent = bridge.heartbeats.length;
    await sleep(100);

    expect(sent).toBeGreaterThanOrEqual(3);
    // paced by the interval, not sent in a burst: three heartbeats take at least ~three intervals
    expect(elapsed).toBeGreaterThanOrEqual(3 * 40 - 10);
    expect(bridge.heartbeats.every((h) => h.leaseId === lease.leaseId && h.leaseSeconds === 5)).toBe(true);
    expect(bridge.heartbeats).toHaveLength(sent);
  });

  it('defaults the heartbeat interval to a third of the lease', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const gate = deferred();
      const lease = makeLease('work');
      let leased = false;
      const client: WorkerClient = {
        lease: async () => {
          const leases = leased ? [] : [lease];
          leased = true;
          return { leases };
        },
        heartbeat: vi.fn(async () => ({ leaseId: lease.leaseId, jobId: lease.jobId, leaseUntil: '' })),
        progress: vi.fn(),
        complete: vi.fn(async () => ({ results: [] })),
        completeOne: vi.fn(),
      };
      worker = new Worker({ client, workerId: 'w', leaseSeconds: 6, handlers: { work: () => gate.promise } });

      worker.start();
      await waitFor(() => worker?.stats().inFlight === 1, 'a running job');
      await vi.advanceTimersByTimeAsync(1999);
      expect(client.heartbeat).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(client.heartbeat).toHaveBeenCalledWith(lease.leaseId, { leaseSeconds: 6 }, expect.anything());
      await vi.advanceTimersByTimeAsync(2000);
      expect(client.heartbeat).toHaveBeenCalledTimes(2);

      gate.resolve();
      const stopped = worker.stop();
      await vi.runAllTimersAsync();
      await stopped;
    } finally {
      vi.useRealTimers();
    }
  });

  it('aborts a job whose lease is lost and never reports its outcome', async () => {
    const [doomed, fine] = [makeLease('work', { payload: { doomed: true } }), makeLease('work')];
    let reason: unknown;
    const { bridge, worker, log } = await setup([doomed!, fine!], {
      heartbeatIntervalMs: 20,
      handlers: {
        work: async (job, ctx) => {
          if (!job.payload.doomed) return void (await sleep(60));
          reason = await aborted(ctx.signal);
          return { result: { tooLate: true } };
        },
      },
    });
    bridge.lost.add(doomed!.leaseId);

    worker.start();
    await waitFor(() => worker.stats().leaseLost === 1 && worker.stats().succeeded === 1, 'loss and success');
    await worker.stop();

    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(bridge.completions().map((c) => c.jobId)).toEqual([fine!.jobId]);
    expect(bridge.heartbeats.filter((h) => h.leaseId === doomed!.leaseId)).toHaveLength(1);
    expect(log).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/lease lost/) }),
    );
  });

  it('reports progress with the job’s lease and correlation id; LEASE_LOST there aborts the job too', async () => {
    const [kept, lost] = [makeLease('work'), makeLease('work')];
    const outcomes: Record<string, unknown> = {};
    const { bridge, worker } = await setup([kept!, lost!], {
      handlers: {
        work: async (job, ctx) => {
          try {
            await ctx.progress({ percent: 50, message: 'half way' });
            outcomes[job.jobId] = 'reported';
          } catch (error) {
            outcomes[job.jobId] = { error, aborted: ctx.signal.aborted };
            throw error;
          }
        },
      },
    });
    bridge.lost.add(lost!.leaseId);

    worker.start();
    await waitFor(() => worker.stats().succeeded === 1 && worker.stats().leaseLost === 1, 'both jobs');

    expect(bridge.progress).toContainEqual({
      jobId: kept!.jobId,
      body: { leaseId: kept!.leaseId, progress: { percent: 50, message: 'half way' } },
    });
    const call = plane!.calls.find((c) => c.path.endsWith(`${kept!.jobId}:progress`));
    expect(call?.headers['x-correlation-id']).toBe(kept!.provenance.correlationId);
    expect(outcomes[kept!.jobId]).toBe('reported');
    expect(outcomes[lost!.jobId]).toEqual({ error: expect.any(LeaseLostError), aborted: true });
    expect(bridge.completions().map((c) => c.jobId)).toEqual([kept!.jobId]);
  });

  it('maps what handlers throw to failed completions, retryable or not', async () => {
    const leases = ['permanent', 'retryable', 'crash', 'mystery', 'throttled'].map((type) => makeLease(type));
    const { bridge, worker } = await setup(leases, {
      handlers: {
        permanent: async () => {
          throw new PermanentError('BAD_INPUT', 'payload has no url', { errorClass: 'validation' });
        },
        retryable: async () => {
          throw new RetryableError('UPSTREAM_TIMEOUT', 'feed took too long', { errorClass: 'upstream' });
        },
        crash: async () => {
          throw new TypeError('x is undefined');
        },
        throttled: async () => {
          throw new UpstreamThrottledError('feed answered 429', {
            retryAfterSeconds: 30,
            upstreamHost: 'api.example',
          });
        },
      },
    });

    worker.start();
    await waitFor(() => worker.stats().failed === 5, 'five failures');

    const errorOf = (type: string) =>
      bridge.completions().find((c) => c.jobId === leases.find((l) => l.type === type)?.jobId);
    expect(errorOf('permanent')).toMatchObject({
      outcome: 'failed',
      error: {
        retryable: false,
        errorCode: 'BAD_INPUT',
        errorClass: 'validation',
        message: 'payload has no url',
      },
    });
    expect(errorOf('retryable')).toMatchObject({
      outcome: 'failed',
      error: {
        retryable: true,
        errorCode: 'UPSTREAM_TIMEOUT',
        errorClass: 'upstream',
        message: 'feed took too long',
      },
    });
    expect(errorOf('throttled')).toMatchObject({
      outcome: 'failed',
      error: {
        retryable: true,
        errorCode: 'UPSTREAM_THROTTLED',
        errorClass: 'upstream',
        retryAfterSeconds: 30,
        upstreamHost: 'api.example',
      },
    });
    expect(() => new UpstreamThrottledError('x', { retryAfterSeconds: 1.5 })).toThrow(TypeError);
    expect(errorOf('crash')).toMatchObject({
      outcome: 'failed',
      error: { retryable: true, errorCode: 'HANDLER_ERROR', message: 'TypeError: x is undefined' },
    });
    expect(errorOf('mystery')).toMatchObject({
      outcome: 'failed',
      error: { retryable: false, errorCode: 'UNKNOWN_JOB_TYPE' },
    });
    expect(bridge.leaseCalls[0]?.types).toEqual(['permanent', 'retryable', 'crash', 'throttled']);
  });

  it('logs a completion the server did not accept, and does not retry it', async () => {
    const [accepted, refused] = [makeLease('work'), makeLease('work')];
    const gate = deferred();
    const { bridge, worker, log } = await setup([accepted!, refused!], {
      handlers: { work: () => gate.promise },
    });
    bridge.lost.add(refused!.leaseId);

    worker.start();
    await waitFor(() => worker.stats().inFlight === 2, 'both running');
    gate.resolve();
    await waitFor(() => worker.stats().succeeded + worker.stats().leaseLost === 2, 'both answered');
    await sleep(30);

    expect(bridge.completionCalls).toHaveLength(1);
    expect(worker.stats()).toMatchObject({ succeeded: 1, leaseLost: 1 });
    expect(log).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/not accepted/),
        attributes: expect.objectContaining({ jobId: refused!.jobId, code: 'LEASE_LOST' }),
      }),
    );
  });

  it('completes one by one when a batch is invalid, replacing an invalid outcome by INVALID_COMPLETION', async () => {
    const [good, bad] = [makeLease('work'), makeLease('work', { payload: { bad: true } })];
    const gate = deferred();
    let started = 0;
    const { bridge, worker } = await setup([good!, bad!], {
      handlers: {
        work: async (job) => {
          started += 1;
          await gate.promise;
          const digest = job.payload.bad ? 'md5:abc' : `sha256:${'a'.repeat(64)}`;
          return {
            artifacts: [{ uri: 's3://b/k', digest, sizeBytes: 1, mediaType: 'text/plain', kind: 'report' }],
          };
        },
      },
    });

    worker.start();
    await waitFor(() => started === 2, 'both running');
    gate.resolve();
    await waitFor(() => worker.stats().succeeded === 1 && worker.stats().failed === 1, 'both completed');

    expect(bridge.completionCalls).toHaveLength(1);
    expect(bridge.completeOneCalls.map((c) => [c.jobId, c.outcome, c.error?.errorCode])).toEqual(
      expect.arrayContaining([
        [good!.jobId, 'succeeded', undefined],
        [bad!.jobId, 'succeeded', undefined],
        [bad!.jobId, 'failed', 'INVALID_COMPLETION'],
      ]),
    );
    expect(bridge.completeOneCalls.at(-1)?.error).toMatchObject({
      retryable: false,
      errorClass: 'validation',
    });
  });

  it('logs a completion that could not be delivered after retries; the lease expiry requeues it', async () => {
    const { bridge, worker, log } = await setup([makeLease('work')], { handlers: { work: async () => {} } });
    bridge.onCompletions = () => errorReply(503, 'DATABASE_UNAVAILABLE');

    worker.start();
    await waitFor(() => worker.stats().completionErrors === 1, 'the undelivered completion');

    expect(bridge.completionCalls).toHaveLength(3);
    expect(log).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(/lease will expire/) }),
    );
  });

  it('keeps leasing after a failed lease call, logging a non-transient failure as an error', async () => {
    const { bridge, worker, log } = await setup([makeLease('work')], { handlers: { work: async () => {} } });
    let refused = false;
    plane!.script = (call) => {
      if (refused || call.path !== '/api/v1/worker/leases') return bridge.route(call);
      refused = true;
      return errorReply(403, 'TENANT_FORBIDDEN');
    };

    worker.start();
    await waitFor(() => worker.stats().succeeded === 1, 'the success');

    expect(log).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringMatching(/lease call failed/),
        attributes: expect.objectContaining({ error: expect.objectContaining({ code: 'TENANT_FORBIDDEN' }) }),
      }),
    );
  });

  it('backs off while the queue is empty, up to maxPollIntervalMs', async () => {
    const { bridge, worker } = await setup([], {
      pollIntervalMs: 10,
      maxPollIntervalMs: 40,
      handlers: { work: async () => {} },
    });

    worker.start();
    await sleep(300);
    await worker.stop();

    // Fixed 10 ms polling would make ~30 calls; 10, 20, 40, 40, ... makes about 9.
    expect(bridge.leaseCalls.length).toBeGreaterThanOrEqual(5);
    expect(bridge.leaseCalls.length).toBeLessThanOrEqual(12);
  });

  it('stops gracefully: no more leasing, waits for running jobs, flushes their completions', async () => {
    const gate = deferred();
    const lease = makeLease('work');
    const { bridge, worker } = await setup([lease, makeLease('work')], {
      concurrency: 1,
      handlers: { work: () => gate.promise },
    });

    worker.start();
    await waitFor(() => worker.stats().inFlight === 1, 'a running job');
    let stopped = false;
    const stopping = worker.stop({ timeoutMs: 5000 }).then(() => {
      stopped = true;
    });
    const leaseCalls = bridge.leaseCalls.length;
    await sleep(50);
    expect(stopped).toBe(false);

    gate.resolve();
    await stopping;

    expect(bridge.leaseCalls).toHaveLength(leaseCalls);
    expect(bridge.completions()).toEqual([
      { jobId: lease.jobId, leaseId: lease.leaseId, outcome: 'succeeded' },
    ]);
    expect(worker.stats()).toMatchObject({ leased: 1, succeeded: 1, inFlight: 0 });
    expect(() => worker.start()).toThrow(/stopped/);
  });

  it('at the stop deadline aborts running handlers and reports them failed WORKER_SHUTDOWN (retryable)', async () => {
    const lease = makeLease('work');
    const stubborn = deferred();
    let reason: unknown;
    const { bridge, worker } = await setup([lease], {
      handlers: {
        work: async (_job, ctx) => {
          void aborted(ctx.signal).then((r) => {
            reason = r;
          });
          await stubborn.promise;
          return { result: { ignored: true } };
        },
      },
    });

    worker.start();
    await waitFor(() => worker.stats().inFlight === 1, 'a running job');
    const started = performance.now();
    await worker.stop({ timeoutMs: 80 });

    expect(performance.now() - started).toBeLessThan(1000);
    expect(reason).toBeInstanceOf(WorkerStoppedError);
    expect(bridge.completions()).toEqual([
      {
        jobId: lease.jobId,
        leaseId: lease.leaseId,
        outcome: 'failed',
        error: {
          retryable: true,
          errorCode: 'WORKER_SHUTDOWN',
          errorClass: 'shutdown',
          message: expect.any(String),
        },
      },
    ]);

    stubborn.resolve();
    await sleep(20);
    expect(bridge.completions()).toHaveLength(1);
  });

  it('maps SIGTERM to a graceful stop and removes its signal handlers once stopped', async () => {
    const gate = deferred();
    const { bridge, worker } = await setup([makeLease('work')], { handlers: { work: () => gate.promise } });
    const listeners = () => [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
    const before = listeners();

    worker.installSignalHandlers({ timeoutMs: 5000 });
    expect(listeners()).toEqual(before.map((n) => n + 1));
    worker.start();
    await waitFor(() => worker.stats().inFlight === 1, 'a running job');
    process.emit('SIGTERM', 'SIGTERM');
    gate.resolve();
    await worker.stop();

    expect(bridge.completions()).toHaveLength(1);
    expect(listeners()).toEqual(before);
  });

  it('leaves no timer, socket or server behind once stopped and the server is closed', async () => {
    // Earlier tests' client sockets close lazily; start from none.
    await waitFor(
      () => !Object.keys(activeHandles()).some((name) => name.startsWith('TCP')),
      'a quiet start',
    );
    const before = activeHandles();
    const { worker } = await setup(
      Array.from({ length: 6 }, () => makeLease('work')),
      { concurrency: 3, heartbeatIntervalMs: 15, handlers: { work: () => sleep(40) } },
    );

    worker.start();
    await waitFor(() => worker.stats().inFlight === 3, 'three running jobs');
    expect(activeHandles().Timeout ?? 0, 'the probe sees running timers').toBeGreaterThan(
      before.Timeout ?? 0,
    );
    await waitFor(() => worker.stats().succeeded === 6, 'six successes');
    await worker.stop();

    expect(leakedSince(before), 'a timer outlived stop()').not.toContain('Timeout');
    await plane!.close();
    plane = undefined;
    // The client's keep-alive sockets close when the server's side does, a moment later.
    await waitFor(() => leakedSince(before).length === 0, 'sockets to close', 1000).catch(() => undefined);
    expect(leakedSince(before)).toEqual([]);
  });

  it('rejects options the server would refuse', () => {
    const client = {} as WorkerClient;
    const handlers: Record<string, JobHandler> = { work: async () => {} };
    expect(() => new Worker({ client, workerId: 'w', handlers: {} })).toThrow(RangeError);
    expect(() => new Worker({ client, workerId: 'w', handlers, leaseSeconds: 4 })).toThrow(/leaseSeconds/);
    expect(() => new Worker({ client, workerId: 'w', handlers, batchSize: 501 })).toThrow(/batchSize/);
    expect(() => new Worker({ client, workerId: 'w', handlers, concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new Worker({ client, workerId: 'w', handlers, heartbeatIntervalMs: 60_000 })).toThrow(
      /heartbeat/,
    );
  });
});
