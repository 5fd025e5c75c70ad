import { PermanentError, RetryableError, UpstreamThrottledError } from './errors.ts';
import type { Artifact, Completion } from './types.ts';

/** What a handler may return on success. */
export interface HandlerOutput {
  result?: Record<string, unknown>;
  artifacts?: Artifact[];
}

/** A completion before it is addressed to a job and lease. */
export type CompletionBody = Omit<Completion, 'jobId' | 'leaseId'>;

const MAX_MESSAGE = 4096;

export function succeeded(output: HandlerOutput | undefined): CompletionBody {
  const body: CompletionBody = { outcome: 'succeeded' };
  if (output?.result !== undefined) body.result = output.result;
  if (output?.artifacts !== undefined) body.artifacts = output.artifacts;
  return body;
}

export function failed(
  retryable: boolean,
  errorCode: string,
  message: string,
  errorClass?: string,
): CompletionBody {
  return {
    outcome: 'failed',
    error: {
      retryable,
      errorCode,
      ...(errorClass === undefined ? {} : { errorClass }),
      message: message.slice(0, MAX_MESSAGE),
    },
  };
}

/**
 * `PermanentError` fails for good, `RetryableError` and anything else thrown fail this attempt only;
 * `UpstreamThrottledError` also reports the upstream's Retry-After and host.
 */
export function failedWith(thrown: unknown): CompletionBody {
  if (thrown instanceof UpstreamThrottledError) {
    const body = failed(true, thrown.code, thrown.message, thrown.errorClass);
    if (thrown.retryAfterSeconds !== undefined) body.error!.retryAfterSeconds = thrown.retryAfterSeconds;
    if (thrown.upstreamHost !== undefined) body.error!.upstreamHost = thrown.upstreamHost;
    return body;
  }
  if (thrown instanceof RetryableError || thrown instanceof PermanentError) {
    return failed(thrown.retryable, thrown.code, thrown.message, thrown.errorClass);
  }
  return failed(
    true,
    'HANDLER_ERROR',
    thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown),
  );
}
