import { setTimeout as delay } from 'node:timers/promises';
import type { JobEngineClient } from './client.ts';
import {
  LeaseLostError,
  RateLimitedError,
  UnavailableError,
  ValidationError,
  WorkerStoppedError,
} from './errors.ts';
import { type Logger, silentLogger, withAttributes } from './logger.ts';
import { type CompletionBody, failed, failedWith, type HandlerOutput, succeeded } from './outcome.ts';
import type { Artifact, Completion, CompletionResult, Lease, LogLine, ProgressUpdate } from './types.ts';

/** A job as its handler sees it: the lease, payload included. */
export type LeasedJob = Lease;

export interface JobContext {
  /** Aborts when the lease is lost (reason: `LeaseLostError`) or the worker stops (`WorkerStoppedError`). */
  readonly signal: AbortSignal;
  readonly attempt: number;
  /** Stable per attempt: pass it to upstream systems so a repeated attempt does not repeat a side effect. */
  readonly idempotencyKey: string;
  /** The worker's logger, with jobId, leaseId, type and attempt on every entry. */
  readonly logger: Logger;
  /**
   * Reports progress (with artifacts, and log lines for pack runs); rejects with `LeaseLostError` (and
   * aborts `signal`) when the lease is gone.
   */
  progress(update: ProgressUpdate, artifacts?: Artifact[], logs?: LogLine[]): Promise<void>;
}

// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing is declared `Promise<void>`.
export type JobHandler = (job: LeasedJob, ctx: JobContext) => Promise<HandlerOutput | void>;

/** The calls a worker makes; a `JobEngineClient` has them. */
export type WorkerClient = Pick<
  JobEngineClient,
  'lease' | 'heartbeat' | 'progress' | 'complete' | 'completeOne'
>;

export interface WorkerOptions {
  client: WorkerClient;
  workerId: string;
  /** One handler per job type; the worker leases exactly these types. */
  handlers: Record<string, JobHandler>;
  /** Handlers running at once. Default 4. */
  concurrency?: number;
  /** Most jobs claimed per lease call (1..500), and the completion count that triggers a flush. Default: concurrency. */
  batchSize?: number;
  /** 5..3600. Default 60. */
  leaseSeconds?: number;
  /** Default leaseSeconds / 3. */
  heartbeatIntervalMs?: number;
  /** Wait after an empty lease call; doubles while the queue stays empty. Default 500. */
  pollIntervalMs?: number;
  /** Ceiling of that wait. Default 5000. */
  maxPollIntervalMs?: number;
  /** How long a completion waits for others to share its call. Default 5. */
  completionBatchMs?: number;
  logger?: Logger;
}

export interface StopOptions {
  /** false: abort running handlers now. Default true. */
  graceful?: boolean;
  /** How long a graceful stop waits for running handlers before aborting them. Default 30 000. */
  timeoutMs?: number;
}

export interface WorkerStats {
  /** Jobs received from lease calls. */
  leased: number;
  /** Completions the server accepted, by outcome. */
  succeeded: number;
  failed: number;
  /** Jobs whose lease was lost (heartbeat, progress or completion answered LEASE_LOST). */
  leaseLost: number;
  /** Completions that could not be delivered; those jobs come back when their lease expires. */
  completionErrors: number;
  /** Handlers running now. */
  inFlight: number;
}

/** A job this worker holds a lease on. */
interface HeldJob {
  readonly lease: Lease;
  /** Behind `ctx.signal`. */
  readonly abort: AbortController;
  /** Ends the heartbeat chain, and a heartbeat call in progress. */
  readonly heartbeats: AbortController;
  heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  /** running: the handler decides the outcome; completing: a completion is queued or on its way; finished. */
  phase: 'running' | 'completing' | 'finished';
  lost: boolean;
  /** Settles when the handler settles (whatever the phase by then). */
  handled: Promise<void>;
}

interface PendingCompletion {
  readonly job: HeldJob;
  readonly completion: Completion;
}

/** The server's limit on items per completion call. */
const MAX_COMPLETIONS_PER_CALL = 500;

/**
 * Leases jobs of its handlers' types, runs at most `concurrency` handlers at once, keeps their leases alive
 * with heartbeats, and reports outcomes in batched completion calls. Delivery is at-least-once per attempt:
 * see sdk/worker/README.md.
 */
export class Worker {
  readonly #client: WorkerClient;
  readonly #workerId: string;
  readonly #handlers: Record<string, JobHandler>;
  readonly #types: string[];
  readonly #concurrency: number;
  readonly #batchSize: number;
  readonly #leaseSeconds: number;
  readonly #heartbeatIntervalMs: number;
  readonly #pollIntervalMs: number;
  readonly #maxPollIntervalMs: number;
  readonly #completionBatchMs: number;
  readonly #logger: Logger;

  readonly #stats = { leased: 0, succeeded: 0, failed: 0, leaseLost: 0, completionErrors: 0 };
  /** Jobs whose handler has not returned. */
  readonly #inFlight = new Set<HeldJob>();
  /** Jobs whose lease this worker still heartbeats, by leaseId. */
  readonly #held = new Map<string, HeldJob>();
  readonly #heartbeatCalls = new Set<Promise<void>>();
  readonly #buffer: PendingCompletion[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #flushes = new Set<Promise<void>>();

  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #loop: Promise<void> = Promise.resolve();
  #stopped: Promise<void> | undefined;
  /** Resolves the lease loop's wait for a free slot. */
  #wake: (() => void) | undefined;
  /** Aborted when stop begins: no new lease calls, idle waits end. */
  readonly #stopping = new AbortController();
  /** Aborted by stop({ graceful: false }): a graceful stop in progress stops waiting. */
  readonly #cutShort = new AbortController();
  /** Aborted when the stop deadline passes: a lease call in progress is abandoned, running handlers are aborted. */
  readonly #hardStop = new AbortController();
  readonly #signalHandlers = new Set<() => void>();

  constructor(options: WorkerOptions) {
    this.#client = options.client;
    this.#workerId = options.workerId;
    this.#handlers = options.handlers;
    this.#types = Object.keys(options.handlers);
    this.#concurrency = options.concurrency ?? 4;
    this.#batchSize = options.batchSize ?? Math.min(this.#concurrency, MAX_COMPLETIONS_PER_CALL);
    this.#leaseSeconds = options.leaseSeconds ?? 60;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs ?? (this.#leaseSeconds * 1000) / 3;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    this.#maxPollIntervalMs = Math.max(options.maxPollIntervalMs ?? 5000, this.#pollIntervalMs);
    this.#completionBatchMs = options.completionBatchMs ?? 5;
    this.#logger = options.logger ?? silentLogger;
    this.#validate();
  }

  #validate(): void {
    const check = (ok: boolean, message: string) => {
      if (!ok) throw new RangeError(message);
    };
    check(this.#types.length > 0, 'handlers must name at least one job type');
    check(
      Number.isInteger(this.#concurrency) && this.#concurrency >= 1,
      'concurrency must be an integer ≥ 1',
    );
    check(
      Number.isInteger(this.#batchSize) && this.#batchSize >= 1 && this.#batchSize <= 500,
      'batchSize: 1..500',
    );
    check(
      Number.isInteger(this.#leaseSeconds) && this.#leaseSeconds >= 5 && this.#leaseSeconds <= 3600,
      'leaseSeconds: 5..3600',
    );
    check(
      this.#heartbeatIntervalMs > 0 && this.#heartbeatIntervalMs < this.#leaseSeconds * 1000,
      'heartbeatIntervalMs must be positive and shorter than the lease',
    );
    check(this.#pollIntervalMs >= 0 && this.#completionBatchMs >= 0, 'intervals must not be negative');
  }

  /** Starts leasing. A worker runs once: after stop() make a new one. */
  start(): this {
    if (this.#state !== 'idle') throw new Error(`worker is ${this.#state}; a worker starts once`);
    this.#state = 'running';
    this.#logger.info('worker started', { workerId: this.#workerId, types: this.#types });
    this.#loop = this.#leaseLoop();
    return this;
  }

  /**
   * Stops leasing at once, waits up to `timeoutMs` for running handlers, then aborts the rest and reports them
   * failed (retryable, `WORKER_SHUTDOWN`), flushes completions and ends heartbeats. Resolves when the worker
   * holds no timer and no request. Calling it again returns the same promise; `{ graceful: false }` also
   * cuts a graceful stop in progress short.
   */
  stop(options: StopOptions = {}): Promise<void> {
    const graceful = options.graceful ?? true;
    if (!graceful) this.#cutShort.abort();
    this.#stopped ??= this.#shutdown(graceful ? (options.timeoutMs ?? 30_000) : 0);
    return this.#stopped;
  }

  stats(): WorkerStats {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  /**
   * Maps SIGINT/SIGTERM to a graceful stop, and a second signal to an immediate one. The handlers are removed
   * when the worker has stopped, or by calling the returned function.
   */
  installSignalHandlers(options: { timeoutMs?: number; signals?: NodeJS.Signals[] } = {}): () => void {
    if (this.#state === 'stopped') return () => {};
    const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
    let received = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      received += 1;
      this.#logger.info('stop signal received', { signal, graceful: received === 1 });
      void this.stop(received === 1 ? { graceful: true, timeoutMs: options.timeoutMs } : { graceful: false });
    };
    for (const signal of signals) process.on(signal, onSignal);
    const uninstall = () => {
      for (const signal of signals) process.off(signal, onSignal);
      this.#signalHandlers.delete(uninstall);
    };
    this.#signalHandlers.add(uninstall);
    return uninstall;
  }

  async #leaseLoop(): Promise<void> {
    let idleMs = this.#pollIntervalMs;
    while (!this.#stopping.signal.aborted) {
      const free = this.#concurrency - this.#inFlight.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        continue;
      }
      let leases: Lease[];
      try {
        // Not aborted by a graceful stop: jobs the server grants meanwhile are run, not orphaned until expiry.
        ({ leases } = await this.#client.lease(
          {
            workerId: this.#workerId,
            types: this.#types,
            max: Math.min(this.#batchSize, free),
            leaseSeconds: this.#leaseSeconds,
          },
          { signal: this.#hardStop.signal },
        ));
      } catch (error) {
        if (this.#hardStop.signal.aborted) return;
        // The client already retried transient failures; anything else (401, 403, 400) needs a human.
        const transient = error instanceof RateLimitedError || error instanceof UnavailableError;
        const waitMs = Math.max(idleMs, transient ? (error.retryAfterMs ?? 0) : 0);
        this.#logger[transient ? 'warn' : 'error']('lease call failed; backing off', { error, waitMs });
        await this.#idle(waitMs);
        idleMs = Math.min(idleMs * 2, this.#maxPollIntervalMs);
        continue;
      }
      this.#stats.leased += leases.length;
      for (const lease of leases) this.#run(lease);
      if (leases.length > 0) {
        idleMs = this.#pollIntervalMs;
        continue;
      }
      await this.#idle(idleMs);
      idleMs = Math.min(idleMs * 2, this.#maxPollIntervalMs);
    }
  }

  async #idle(ms: number): Promise<void> {
    try {
      await delay(ms, undefined, { signal: this.#stopping.signal });
    } catch {
      // stop() began: the loop condition ends the loop.
    }
  }

  #notifySlotFreed(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #run(lease: Lease): void {
    const job: HeldJob = {
      lease,
      abort: new AbortController(),
      heartbeats: new AbortController(),
      heartbeatTimer: undefined,
      phase: 'running',
      lost: false,
      handled: Promise.resolve(),
    };
    this.#held.set(lease.leaseId, job);
    this.#inFlight.add(job);
    this.#scheduleHeartbeat(job);
    job.handled = this.#execute(job).then((body) => {
      this.#inFlight.delete(job);
      this.#notifySlotFreed();
      // Lost, or abandoned by stop(): the outcome was decided without this handler.
      if (job.phase === 'running') this.#enqueue(job, body);
    });
  }

  /** Runs the handler; never rejects. */
  async #execute(job: HeldJob): Promise<CompletionBody> {
    const { type } = job.lease;
    const handler = Object.hasOwn(this.#handlers, type) ? this.#handlers[type] : undefined;
    if (handler === undefined) {
      return failed(
        false,
        'UNKNOWN_JOB_TYPE',
        `worker ${this.#workerId} has no handler for job type '${type}'`,
      );
    }
    try {
      return succeeded((await handler(job.lease, this.#context(job))) ?? undefined);
    } catch (error) {
      return failedWith(error);
    }
  }

  #context(job: HeldJob): JobContext {
    const { lease } = job;
    return {
      signal: job.abort.signal,
      attempt: lease.attempt,
      idempotencyKey: lease.idempotencyKey,
      logger: withAttributes(this.#logger, {
        jobId: lease.jobId,
        leaseId: lease.leaseId,
        type: lease.type,
        attempt: lease.attempt,
      }),
      progress: async (update, artifacts, logs) => {
        job.abort.signal.throwIfAborted();
        try {
          await this.#client.progress(
            lease.jobId,
            {
              leaseId: lease.leaseId,
              progress: update,
              ...(artifacts === undefined ? {} : { artifacts }),
              ...(logs === undefined ? {} : { logs }),
            },
            { signal: job.abort.signal, correlationId: lease.provenance.correlationId },
          );
        } catch (error) {
          if (error instanceof LeaseLostError) this.#loseLease(job, error);
          throw error;
        }
      },
    };
  }

  #scheduleHeartbeat(job: HeldJob): void {
    job.heartbeatTimer = setTimeout(() => {
      job.heartbeatTimer = undefined;
      const call = this.#heartbeat(job).finally(() => this.#heartbeatCalls.delete(call));
      this.#heartbeatCalls.add(call);
    }, this.#heartbeatIntervalMs);
  }

  /** One heartbeat, then the next one is scheduled; never rejects. */
  async #heartbeat(job: HeldJob): Promise<void> {
    try {
      await this.#client.heartbeat(
        job.lease.leaseId,
        { leaseSeconds: this.#leaseSeconds },
        { signal: job.heartbeats.signal, correlationId: job.lease.provenance.correlationId },
      );
    } catch (error) {
      if (job.heartbeats.signal.aborted) return;
      if (error instanceof LeaseLostError) {
        this.#loseLease(job, error);
        return;
      }
      this.#logger.warn('heartbeat failed; the next one may still keep the lease', {
        jobId: job.lease.jobId,
        leaseId: job.lease.leaseId,
        error,
      });
    }
    if (!job.heartbeats.signal.aborted) this.#scheduleHeartbeat(job);
  }

  /** The server no longer counts this lease: abort the handler and never report an outcome for it. */
  #loseLease(job: HeldJob, error: LeaseLostError): void {
    if (job.lost || job.phase === 'finished') return;
    job.lost = true;
    job.phase = 'finished';
    this.#stats.leaseLost += 1;
    const queued = this.#buffer.findIndex((pending) => pending.job === job);
    if (queued >= 0) this.#buffer.splice(queued, 1);
    job.abort.abort(error);
    this.#release(job);
    this.#logger.warn('lease lost; the job was aborted and its outcome is discarded', {
      jobId: job.lease.jobId,
      leaseId: job.lease.leaseId,
      traceId: error.traceId,
    });
  }

  /** Ends the heartbeats of a job whose lease this worker no longer needs. */
  #release(job: HeldJob): void {
    clearTimeout(job.heartbeatTimer);
    job.heartbeatTimer = undefined;
    job.heartbeats.abort();
    this.#held.delete(job.lease.leaseId);
  }

  #enqueue(job: HeldJob, body: CompletionBody): void {
    job.phase = 'completing';
    this.#buffer.push({ job, completion: { jobId: job.lease.jobId, leaseId: job.lease.leaseId, ...body } });
    if (this.#buffer.length >= this.#batchSize) this.#flush();
    else this.#flushTimer ??= setTimeout(() => this.#flush(), this.#completionBatchMs);
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    while (this.#buffer.length > 0) {
      const batch = this.#buffer.splice(0, MAX_COMPLETIONS_PER_CALL);
      const call = this.#deliver(batch).finally(() => this.#flushes.delete(call));
      this.#flushes.add(call);
    }
  }

  /** One completion call for the batch; never rejects. The client already retried transient failures. */
  async #deliver(batch: PendingCompletion[]): Promise<void> {
    try {
      const { results } = await this.#client.complete(batch.map((pending) => pending.completion));
      const byJob = new Map(results.map((result) => [result.jobId, result]));
      for (const pending of batch) {
        const result = byJob.get(pending.completion.jobId);
        if (result) this.#record(pending, result);
        else this.#undelivered(pending, new Error('the completion response has no result for this job'));
      }
    } catch (error) {
      if (error instanceof LeaseLostError) {
        for (const pending of batch) this.#record(pending, rejected(pending, error));
      } else if (error instanceof ValidationError) {
        // One bad item (say, an artifact with a malformed digest) must not sink the others.
        this.#logger.warn('completion batch rejected as invalid; completing its jobs one by one', {
          error,
          jobs: batch.length,
        });
        await Promise.all(batch.map((pending) => this.#deliverAlone(pending)));
      } else {
        for (const pending of batch) this.#undelivered(pending, error);
      }
    } finally {
      for (const pending of batch) this.#release(pending.job);
    }
  }

  async #deliverAlone(pending: PendingCompletion, isReplacement = false): Promise<void> {
    const { jobId, ...completion } = pending.completion;
    try {
      const answer = await this.#client.completeOne(jobId, completion);
      this.#record(pending, { jobId, accepted: true, status: answer.status });
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.#record(pending, rejected(pending, error));
      } else if (error instanceof ValidationError && !isReplacement) {
        const reason = [error.message, ...error.details.map((d) => `${d.path}: ${d.message}`)].join('; ');
        const replacement = failed(
          false,
          'INVALID_COMPLETION',
          `the server rejected the handler's outcome: ${reason}`,
          'validation',
        );
        await this.#deliverAlone(
          { job: pending.job, completion: { jobId, leaseId: completion.leaseId, ...replacement } },
          true,
        );
      } else {
        this.#undelivered(pending, error);
      }
    }
  }

  #record({ job, completion }: PendingCompletion, result: CompletionResult): void {
    job.phase = 'finished';
    if (result.accepted) {
      if (completion.outcome === 'succeeded') this.#stats.succeeded += 1;
      else this.#stats.failed += 1;
      return;
    }
    if (!job.lost) {
      job.lost = true;
      this.#stats.leaseLost += 1;
    }
    this.#logger.warn('completion not accepted; the server discarded this outcome', {
      jobId: completion.jobId,
      leaseId: completion.leaseId,
      code: result.error.code,
      reason: result.error.message,
    });
  }

  #undelivered({ job, completion }: PendingCompletion, error: unknown): void {
    job.phase = 'finished';
    this.#stats.completionErrors += 1;
    this.#logger.error(
      'completion not delivered; the lease will expire and the server will requeue the job',
      {
        jobId: completion.jobId,
        leaseId: completion.leaseId,
        outcome: completion.outcome,
        error,
      },
    );
  }

  async #shutdown(timeoutMs: number): Promise<void> {
    this.#state = 'stopping';
    this.#stopping.abort();
    this.#notifySlotFreed();

    const drained = (async () => {
      await this.#loop;
      await Promise.all([...this.#inFlight].map((job) => job.handled));
      return true;
    })();
    const deadlineTimer = new AbortController();
    const deadline = delay(timeoutMs, false, {
      signal: AbortSignal.any([deadlineTimer.signal, this.#cutShort.signal]),
    }).catch(() => false);
    const inTime = await Promise.race([drained, deadline]);
    deadlineTimer.abort();

    if (!inTime) {
      this.#hardStop.abort();
      await this.#loop;
      for (const job of this.#inFlight) if (job.phase === 'running') this.#abandon(job);
    }

    this.#flush();
    while (this.#flushes.size > 0) await Promise.all([...this.#flushes]);
    for (const job of this.#held.values()) this.#release(job);
    await Promise.all([...this.#heartbeatCalls]);
    for (const uninstall of [...this.#signalHandlers]) uninstall();
    this.#state = 'stopped';
    this.#logger.info('worker stopped', { workerId: this.#workerId, ...this.stats() });
  }

  /** Stop's deadline passed with the handler still running: abort it and report the attempt failed. */
  #abandon(job: HeldJob): void {
    job.abort.abort(new WorkerStoppedError('the worker stopped before the handler finished'));
    this.#logger.warn('handler still running at the stop deadline; aborted and reported failed', {
      jobId: job.lease.jobId,
      leaseId: job.lease.leaseId,
    });
    this.#enqueue(
      job,
      failed(true, 'WORKER_SHUTDOWN', 'the worker stopped before the handler finished', 'shutdown'),
    );
  }
}

function rejected(pending: PendingCompletion, error: LeaseLostError): CompletionResult {
  return {
    jobId: pending.completion.jobId,
    accepted: false,
    error: { code: error.code, message: error.message },
  };
}
