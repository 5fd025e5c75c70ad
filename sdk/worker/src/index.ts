/** JobEngine worker SDK: a typed client of the worker bridge and a Worker that runs handlers under leases. */
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './backoff.ts';
export {
  JobEngineClient,
  type JobEngineClientOptions,
  type RequestOptions,
  type TokenSource,
} from './client.ts';
export {
  JobEngineError,
  type JobEngineErrorInit,
  type JobFailureOptions,
  LeaseLostError,
  PermanentError,
  type RateLimit,
  RateLimitedError,
  RetryableError,
  UnavailableError,
  UpstreamThrottledError,
  type UpstreamThrottledOptions,
  ValidationError,
  WorkerStoppedError,
} from './errors.ts';
export type { Logger } from './logger.ts';
export type { HandlerOutput } from './outcome.ts';
export type * from './types.ts';
export {
  type JobContext,
  type JobHandler,
  type LeasedJob,
  type StopOptions,
  Worker,
  type WorkerClient,
  type WorkerOptions,
  type WorkerStats,
} from './worker.ts';
