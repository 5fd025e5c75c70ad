/** How the client retries a call that failed transiently. */
export interface RetryPolicy {
  /** Tries in total, the first one included; 1 disables retries. */
  maxAttempts: number;
  /** Ceiling of the first retry's delay; it doubles per retry. */
  baseMs: number;
  /** Upper bound of the exponential ceiling. */
  capMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseMs: 200, capMs: 10_000 };

/**
 * Delay before retry number `retry` (1-based): "full jitter", uniform in [0, min(cap, base·2^(retry−1))),
 * so that many clients failing together do not retry together. A server's `Retry-After` is a floor: the
 * client never comes back earlier than asked.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (retry - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/** `Retry-After` is delta-seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Every HTTP-date form starts with a day name; this keeps Date.parse's leniency ("-1" is a year) out.
  const date = /^[A-Za-z]{3}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
