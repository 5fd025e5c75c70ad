/** Retry policy with defaults applied (DESIGN §6: exponential, capped, jittered backoff). */
export interface ResolvedRetryPolicy {
  maxAttempts: number;
  baseMs: number;
  capMs: number;
  jitter: number;
  deadLetter: boolean;
}

export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  maxAttempts: 5,
  baseMs: 1_000,
  capMs: 300_000,
  jitter: 0.5,
  deadLetter: true,
};

/** Job-type defaults, overridden per job by the submission. */
export const RETRY_POLICY_BY_TYPE: Record<string, Partial<ResolvedRetryPolicy>> = {
  'pack-run': { maxAttempts: 1, deadLetter: true },
};

export function resolveRetryPolicy(
  type: string,
  override: Partial<ResolvedRetryPolicy> | undefined,
): ResolvedRetryPolicy {
  const policy = {
    ...DEFAULT_RETRY_POLICY,
    ...RETRY_POLICY_BY_TYPE[type],
    ...stripUndefined(override ?? {}),
  };
  return { ...policy, capMs: Math.max(policy.capMs, policy.baseMs) };
}

/**
 * Backoff before attempt `attempt + 1` after attempt `attempt` failed: base · 2^(attempt−1), capped, with
 * up to `jitter` of it randomized away. `random` is injected for determinism; SQL applies the same
 * formula with random() (adapters/postgres/sql/worker/complete-jobs.ts).
 */
export function backoffMs(policy: ResolvedRetryPolicy, attempt: number, random: number): number {
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential * (1 - policy.jitter * random));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
