import { IllegalTransitionError } from './errors.ts';

/**
 * The job and run state machines of DESIGN §6. This table is the one place transitions are defined; each
 * SQL statement that makes a transition guards it with the same from-states (`WHERE status IN (...)`), so
 * a stale actor's write matches no row and changes nothing.
 */
export const JOB_STATES = [
  'pending',
  'queued',
  'throttled',
  'leased',
  'running',
  'succeeded',
  'failed',
  'canceled',
  'dead_lettered',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set([
  'succeeded',
  'failed',
  'canceled',
  'dead_lettered',
]);

/** Events that move a job, each named for what happened. */
export const JOB_TRANSITIONS = {
  /** every parent succeeded */
  release_dependencies: { from: ['pending'], to: 'queued' },
  /** a quota, bucket, pause, circuit or blackout holds it back */
  throttle: { from: ['queued'], to: 'throttled' },
  /** the hold expired or was lifted */
  unthrottle: { from: ['throttled'], to: 'queued' },
  lease: { from: ['queued'], to: 'leased' },
  /** first progress report from the lease holder */
  start: { from: ['leased'], to: 'running' },
  succeed: { from: ['leased', 'running'], to: 'succeeded' },
  /** retryable failure with attempts left: back to the queue after backoff */
  retry: { from: ['leased', 'running'], to: 'queued' },
  /** final failure of a job whose policy does not dead-letter */
  fail: { from: ['leased', 'running'], to: 'failed' },
  /** attempts exhausted or non-retryable failure */
  dead_letter: { from: ['leased', 'running'], to: 'dead_lettered' },
  /** the lease ran out with attempts left */
  expire_lease: { from: ['leased', 'running'], to: 'queued' },
  /** the lease ran out on the last attempt */
  expire_lease_exhausted: { from: ['leased', 'running'], to: 'dead_lettered' },
  /** operator or worker cancel */
  cancel: { from: ['pending', 'queued', 'throttled', 'leased', 'running'], to: 'canceled' },
  /** a parent ended badly; descendants that have not started are canceled with reason upstream_failed */
  upstream_failed: { from: ['pending', 'queued', 'throttled'], to: 'canceled' },
} as const satisfies Record<string, { from: readonly JobState[]; to: JobState }>;
export type JobTransition = keyof typeof JOB_TRANSITIONS;

export const RUN_STATES = ['planning', 'running', 'succeeded', 'failed', 'canceled'] as const;
export type RunState = (typeof RUN_STATES)[number];
export const TERMINAL_RUN_STATES: ReadonlySet<RunState> = new Set(['succeeded', 'failed', 'canceled']);

export const RUN_TRANSITIONS = {
  planned: { from: ['planning'], to: 'running' },
  plan_failed: { from: ['planning'], to: 'failed' },
  all_succeeded: { from: ['running'], to: 'succeeded' },
  job_failed: { from: ['running'], to: 'failed' },
  cancel: { from: ['planning', 'running'], to: 'canceled' },
} as const satisfies Record<string, { from: readonly RunState[]; to: RunState }>;
export type RunTransition = keyof typeof RUN_TRANSITIONS;

type Table<S extends string> = Record<string, { readonly from: readonly S[]; readonly to: S }>;

function apply<S extends string>(machine: string, table: Table<S>, from: S, event: string): S {
  const rule = Object.hasOwn(table, event) ? table[event] : undefined;
  if (!rule?.from.includes(from)) throw new IllegalTransitionError(machine, from, event);
  return rule.to;
}

/** The state a job moves to, or IllegalTransitionError. */
export function nextJobState(from: JobState, event: JobTransition): JobState {
  return apply('job', JOB_TRANSITIONS, from, event);
}

export function nextRunState(from: RunState, event: RunTransition): RunState {
  return apply('run', RUN_TRANSITIONS, from, event);
}

/**
 * A run's status derived from its jobs (DESIGN §6): failed as soon as any job failed or was dead-lettered;
 * once every job is terminal, succeeded if all succeeded and canceled otherwise; running until then.
 * Planning and terminal runs keep their state.
 */
export function deriveRunState(current: RunState, counts: Partial<Record<JobState, number>>): RunState {
  if (current !== 'running') return current;
  if ((counts.failed ?? 0) + (counts.dead_lettered ?? 0) > 0) return 'failed';
  const total = JOB_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
  const terminal = JOB_STATES.filter((state) => TERMINAL_JOB_STATES.has(state)).reduce(
    (sum, state) => sum + (counts[state] ?? 0),
    0,
  );
  if (total === 0 || terminal < total) return 'running';
  return (counts.succeeded ?? 0) === total ? 'succeeded' : 'canceled';
}
