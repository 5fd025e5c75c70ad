import type { ErrorDetail } from './types.ts';

/**
 * Two families live here:
 * - `JobEngineError` and its subclasses: what the control plane answered (or failed to answer) to a call.
 * - `RetryableError` / `PermanentError`: what a job handler throws to choose how its attempt fails.
 */

export interface JobEngineErrorInit {
  code: string;
  /** HTTP status; undefined when no response arrived (network failure, timeout). */
  status?: number;
  traceId?: string;
  details?: ErrorDetail[];
  cause?: unknown;
}

/** An error the control plane reported, or a failure to reach it. `code` is stable UPPER_SNAKE. */
export class JobEngineError extends Error {
  override name = 'JobEngineError';
  readonly code: string;
  readonly status: number | undefined;
  readonly traceId: string | undefined;
  readonly details: ErrorDetail[];

  constructor(message: string, init: JobEngineErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.traceId = init.traceId;
    this.details = init.details ?? [];
  }
}

/** 409 `LEASE_LOST`: the lease expired, was taken over, or its job was canceled. Stop working on it. */
export class LeaseLostError extends JobEngineError {
  override name = 'LeaseLostError';
}

/** 400 / 422: the request was rejected as invalid; repeating it cannot succeed. */
export class ValidationError extends JobEngineError {
  override name = 'ValidationError';
}

export interface RateLimit {
  limit?: number;
  remaining?: number;
  /** `X-RateLimit-Reset` as sent by the server. */
  reset?: number;
}

/** 429: backpressure. Thrown only once the client's retries are used up. */
export class RateLimitedError extends JobEngineError {
  override name = 'RateLimitedError';
  readonly retryAfterMs: number | undefined;
  readonly rateLimit: RateLimit;

  constructor(message: string, init: JobEngineErrorInit & { retryAfterMs?: number; rateLimit?: RateLimit }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
    this.rateLimit = init.rateLimit ?? {};
  }
}

/**
 * 502 / 503 / 504, a network failure (`NETWORK_ERROR`) or a request timeout (`REQUEST_TIMEOUT`). Thrown only
 * once the client's retries are used up.
 */
export class UnavailableError extends JobEngineError {
  override name = 'UnavailableError';
  readonly retryAfterMs: number | undefined;

  constructor(message: string, init: JobEngineErrorInit & { retryAfterMs?: number }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }
}

const UPPER_SNAKE = /^[A-Z][A-Z0-9_]{0,63}$/;
const LOWER_SNAKE = /^[a-z][a-z0-9_]{0,63}$/;

function checkedCode(code: string): string {
  if (!UPPER_SNAKE.test(code)) throw new TypeError(`error code must be UPPER_SNAKE (≤64), got '${code}'`);
  return code;
}

function checkedClass(errorClass: string | undefined): string | undefined {
  if (errorClass !== undefined && !LOWER_SNAKE.test(errorClass)) {
    throw new TypeError(`errorClass must be lower_snake (≤64), got '${errorClass}'`);
  }
  return errorClass;
}

export interface JobFailureOptions {
  /** lower_snake group for dead-letter clustering, e.g. `upstream`, `validation`. */
  errorClass?: string;
  cause?: unknown;
}

/**
 * Thrown by a handler: this attempt failed, another may succeed (the server requeues it with backoff while
 * attempts remain). Any other thrown error is treated the same way, with code `HANDLER_ERROR`.
 * Codes are checked here, not by the server, so that a bad code cannot get a whole completion batch rejected.
 */
export class RetryableError extends Error {
  override name = 'RetryableError';
  readonly retryable = true;
  readonly code: string;
  readonly errorClass: string | undefined;

  constructor(code: string, message: string, options: JobFailureOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = checkedCode(code);
    this.errorClass = checkedClass(options.errorClass);
  }
}

/** Thrown by a handler: retrying cannot help (bad input, policy violation); the job fails for good. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  readonly retryable = false;
  readonly code: string;
  readonly errorClass: string | undefined;

  constructor(code: string, message: string, options: JobFailureOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = checkedCode(code);
    this.errorClass = checkedClass(options.errorClass);
  }
}

export interface UpstreamThrottledOptions {
  /** The upstream's `Retry-After`, in seconds (0-86400); the job is not retried sooner. */
  retryAfterSeconds?: number;
  /** The host that answered 429, when it is not the job's source host. */
  upstreamHost?: string;
  cause?: unknown;
}

/**
 * Thrown by a handler when the upstream answered 429 (or otherwise asked to slow down). The attempt fails
 * retryably with code `UPSTREAM_THROTTLED`; the control plane backs the host's token bucket off until
 * Retry-After and halves its rate (docs/adr/0010-flow-control.md). It does not count against the source's
 * circuit breaker.
 */
export class UpstreamThrottledError extends RetryableError {
  override name = 'UpstreamThrottledError';
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamHost: string | undefined;

  constructor(message: string, options: UpstreamThrottledOptions = {}) {
    super('UPSTREAM_THROTTLED', message, { errorClass: 'upstream', cause: options.cause });
    const seconds = options.retryAfterSeconds;
    if (seconds !== undefined && !(Number.isInteger(seconds) && seconds >= 0 && seconds <= 86_400)) {
      throw new TypeError(`retryAfterSeconds must be an integer 0-86400, got ${seconds}`);
    }
    this.retryAfterSeconds = seconds;
    this.upstreamHost = options.upstreamHost;
  }
}

/** The reason a job's `ctx.signal` aborts when the worker stops before the handler finished. */
export class WorkerStoppedError extends Error {
  override name = 'WorkerStoppedError';
  readonly code = 'WORKER_SHUTDOWN';
}
