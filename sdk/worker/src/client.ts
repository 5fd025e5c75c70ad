import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_RETRY_POLICY, parseRetryAfter, type RetryPolicy, retryDelayMs } from './backoff.ts';
import {
  JobEngineError,
  LeaseLostError,
  type RateLimit,
  RateLimitedError,
  UnavailableError,
  ValidationError,
} from './errors.ts';
import { type Logger, silentLogger } from './logger.ts';
import type {
  CompleteOneResponse,
  CompleteResponse,
  Completion,
  ErrorDetail,
  HeartbeatRequest,
  HeartbeatResponse,
  LeaseRequest,
  LeaseResponse,
  ProgressRequest,
  ProgressResponse,
} from './types.ts';

/** A bearer token, or a function asked before every request (so rotated tokens are picked up). */
export type TokenSource = string | (() => string | Promise<string>);

export interface JobEngineClientOptions {
  /** Where the control plane listens, without `/api/v1` (e.g. `https://jobs.example.com`). */
  baseUrl: string;
  token: TokenSource;
  tenant: string;
  project?: string;
  /** Defaults to the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  retry?: Partial<RetryPolicy>;
  /** Per try, response body included. Default 30 s. */
  timeoutMs?: number;
  logger?: Logger;
  /** Waits between retries; injectable for tests. Must reject promptly when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1); injectable for tests. */
  random?: () => number;
}

export interface RequestOptions {
  /** Aborting it cancels the call, retries included; the call then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Sent as `X-Correlation-Id`. */
  correlationId?: string;
  /** Sent as `Idempotency-Key`, the same on every retry of the call; a fresh UUID when omitted. */
  idempotencyKey?: string;
}

const UNAVAILABLE = new Set([502, 503, 504]);

/**
 * Typed client of the worker bridge. Every call is retried, with exponential backoff and full jitter, on
 * network failures, timeouts, 429, 502/503/504 and a 409 `CONFLICT` with `Retry-After` (an earlier try with
 * the same key still in progress) - never earlier than a `Retry-After` - and on nothing else.
 * A retry repeats the call's `Idempotency-Key`, so the server can answer a retried call as it answered the
 * first one.
 */
export class JobEngineClient {
  readonly #apiBase: string;
  readonly #options: JobEngineClientOptions;
  readonly #retry: RetryPolicy;
  readonly #fetch: typeof globalThis.fetch;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;

  constructor(options: JobEngineClientOptions) {
    this.#options = options;
    this.#apiBase = `${options.baseUrl.replace(/\/+$/, '')}/api/v1`;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    if (!Number.isInteger(this.#retry.maxAttempts) || this.#retry.maxAttempts < 1) {
      throw new RangeError('retry.maxAttempts must be an integer ≥ 1');
    }
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#logger = options.logger ?? silentLogger;
    this.#sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
    this.#random = options.random ?? Math.random;
  }

  /** Claims up to `max` ready jobs of `types`; an empty list when there is nothing to do. */
  lease(request: LeaseRequest, options?: RequestOptions): Promise<LeaseResponse> {
    return this.#post('/worker/leases', request, options);
  }

  /** Extends a lease. Rejects with `LeaseLostError` when the lease is gone: stop working on the job. */
  heartbeat(
    leaseId: string,
    request: HeartbeatRequest = {},
    options?: RequestOptions,
  ): Promise<HeartbeatResponse> {
    return this.#post(`/worker/leases/${encodeURIComponent(leaseId)}:heartbeat`, request, options);
  }

  /** Reports progress (and early artifacts). Rejects with `LeaseLostError` when the lease is gone. */
  progress(jobId: string, request: ProgressRequest, options?: RequestOptions): Promise<ProgressResponse> {
    return this.#post(`/worker/jobs/${encodeURIComponent(jobId)}:progress`, request, options);
  }

  /**
   * Completes up to 500 jobs in one call. Items whose lease is gone come back `accepted: false`; when no item
   * is accepted the call rejects with `LeaseLostError` (its `details` name the jobs).
   */
  complete(completions: Completion[], options?: RequestOptions): Promise<CompleteResponse> {
    return this.#post('/worker/completions', { completions }, options);
  }

  /** Completes one job. Rejects with `LeaseLostError` when the lease is gone. */
  completeOne(
    jobId: string,
    completion: Omit<Completion, 'jobId'>,
    options?: RequestOptions,
  ): Promise<CompleteOneResponse> {
    return this.#post(`/worker/jobs/${encodeURIComponent(jobId)}:complete`, completion, options);
  }

  async #post<T>(path: string, body: unknown, options: RequestOptions = {}): Promise<T> {
    const idempotencyKey = options.idempotencyKey ?? globalThis.crypto.randomUUID();
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      options.signal?.throwIfAborted();
      let error: RateLimitedError | UnavailableError;
      try {
        return (await this.#send(path, payload, idempotencyKey, options)) as T;
      } catch (thrown) {
        if (!(thrown instanceof RateLimitedError || thrown instanceof UnavailableError)) throw thrown;
        error = thrown;
      }
      if (attempt >= this.#retry.maxAttempts) throw error;
      const waitMs = retryDelayMs(this.#retry, attempt, this.#random, error.retryAfterMs);
      this.#logger.debug('jobengine call failed transiently; retrying', {
        path,
        attempt,
        code: error.code,
        status: error.status,
        waitMs,
      });
      try {
        await this.#sleep(waitMs, options.signal);
      } catch (sleepError) {
        throw options.signal?.aborted ? options.signal.reason : sleepError;
      }
    }
  }

  /** One try: resolves with the parsed 2xx body, rejects with a typed error. */
  async #send(
    path: string,
    payload: string,
    idempotencyKey: string,
    options: RequestOptions,
  ): Promise<unknown> {
    const headers = await this.#headers(idempotencyKey, options.correlationId);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(`${this.#apiBase}${path}`, {
        method: 'POST',
        headers,
        body: payload,
        signal,
      });
      text = await response.text();
    } catch (cause) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.signal.aborted) {
        throw new UnavailableError(`no response within ${this.#timeoutMs} ms`, {
          code: 'REQUEST_TIMEOUT',
          cause,
        });
      }
      throw new UnavailableError(`network failure: ${describe(cause)}`, { code: 'NETWORK_ERROR', cause });
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw errorFromResponse(response, text);
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new JobEngineError('response body is not JSON', {
        code: 'INVALID_RESPONSE',
        status: response.status,
        cause,
      });
    }
  }

  async #headers(idempotencyKey: string, correlationId: string | undefined): Promise<Record<string, string>> {
    const { token, tenant, project } = this.#options;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${typeof token === 'function' ? await token() : token}`,
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'X-Stella-Tenant': tenant,
      'Idempotency-Key': idempotencyKey,
    };
    if (project !== undefined) headers['X-Stella-Project'] = project;
    if (correlationId !== undefined) headers['X-Correlation-Id'] = correlationId;
    return headers;
  }
}

interface Envelope {
  code?: string;
  message?: string;
  trace_id?: string;
  details?: ErrorDetail[];
}

function parseEnvelope(text: string): Envelope {
  try {
    const parsed: unknown = JSON.parse(text);
    const error = (parsed as { error?: unknown } | null)?.error;
    return typeof error === 'object' && error !== null ? (error as Envelope) : {};
  } catch {
    return {};
  }
}

function errorFromResponse(response: Response, text: string): JobEngineError {
  const { status, headers } = response;
  const envelope = parseEnvelope(text);
  const message = envelope.message ?? `HTTP ${status}`;
  const init = {
    code: envelope.code ?? `HTTP_${status}`,
    status,
    traceId: envelope.trace_id,
    details: Array.isArray(envelope.details) ? envelope.details : [],
  };
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), Date.now());
  if (status === 409 && init.code === 'LEASE_LOST') return new LeaseLostError(message, init);
  // The same Idempotency-Key is still being processed by an earlier try: retry after the hint, same key.
  if (status === 409 && init.code === 'CONFLICT' && retryAfterMs !== undefined) {
    return new UnavailableError(message, { ...init, retryAfterMs });
  }
  if (status === 400 || status === 422) return new ValidationError(message, init);
  if (status === 429)
    return new RateLimitedError(message, { ...init, retryAfterMs, rateLimit: rateLimit(headers) });
  if (UNAVAILABLE.has(status)) return new UnavailableError(message, { ...init, retryAfterMs });
  return new JobEngineError(message, init);
}

function rateLimit(headers: Headers): RateLimit {
  const read = (name: string) => {
    const raw = headers.get(name);
    const value = raw === null ? Number.NaN : Number(raw);
    return Number.isFinite(value) ? value : undefined;
  };
  return {
    limit: read('x-ratelimit-limit'),
    remaining: read('x-ratelimit-remaining'),
    reset: read('x-ratelimit-reset'),
  };
}

/** fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED, ...) in its cause. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}
