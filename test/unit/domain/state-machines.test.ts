import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../../layers/core/src/domain/errors.ts';
import {
  deriveRunState,
  JOB_STATES,
  JOB_TRANSITIONS,
  type JobState,
  type JobTransition,
  nextJobState,
  nextRunState,
  RUN_STATES,
  RUN_TRANSITIONS,
  type RunState,
  type RunTransition,
} from '../../../layers/core/src/domain/state-machines.ts';

/**
 * Every (state, event) pair of DESIGN §6, written out independently of the implementation's table:
 * the allowed ones with their target, everything else must be refused.
 */
const ALLOWED_JOB: Record<string, JobState> = {
  'pending release_dependencies': 'queued',
  'pending cancel': 'canceled',
  'pending upstream_failed': 'canceled',
  'queued throttle': 'throttled',
  'queued lease': 'leased',
  'queued cancel': 'canceled',
  'queued upstream_failed': 'canceled',
  'throttled unthrottle': 'queued',
  'throttled cancel': 'canceled',
  'throttled upstream_failed': 'canceled',
  'leased start': 'running',
  'leased succeed': 'succeeded',
  'leased retry': 'queued',
  'leased fail': 'failed',
  'leased dead_letter': 'dead_lettered',
  'leased expire_lease': 'queued',
  'leased expire_lease_exhausted': 'dead_lettered',
  'leased cancel': 'canceled',
  'running succeed': 'succeeded',
  'running retry': 'queued',
  'running fail': 'failed',
  'running dead_letter': 'dead_lettered',
  'running expire_lease': 'queued',
  'running expire_lease_exhausted': 'dead_lettered',
  'running cancel': 'canceled',
};

const ALLOWED_RUN: Record<string, RunState> = {
  'planning planned': 'running',
  'planning plan_failed': 'failed',
  'planning cancel': 'canceled',
  'running all_succeeded': 'succeeded',
  'running job_failed': 'failed',
  'running cancel': 'canceled',
};

const jobEvents = Object.keys(JOB_TRANSITIONS) as JobTransition[];
const runEvents = Object.keys(RUN_TRANSITIONS) as RunTransition[];

describe('job state machine', () => {
  const cases = JOB_STATES.flatMap((from) =>
    jobEvents.map((event) => ({ from, event, to: ALLOWED_JOB[`${from} ${event}`] })),
  );

  it('covers every state × event pair (9 states × 13 events)', () => {
    expect(cases).toHaveLength(JOB_STATES.length * jobEvents.length);
    expect(jobEvents).toHaveLength(13);
  });

  it.each(cases.filter((c) => c.to))('$from --$event--> $to', ({ from, event, to }) => {
    expect(nextJobState(from, event)).toBe(to);
  });

  it.each(cases.filter((c) => !c.to))('$from refuses $event', ({ from, event }) => {
    expect(() => nextJobState(from, event)).toThrow(IllegalTransitionError);
  });

  it('terminal states have no way out', () => {
    for (const from of ['succeeded', 'failed', 'canceled', 'dead_lettered'] as const) {
      for (const event of jobEvents) expect(() => nextJobState(from, event)).toThrow(IllegalTransitionError);
    }
  });

  it('refuses an unknown event with a stable code', () => {
    try {
      nextJobState('queued', 'teleport' as JobTransition);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect((error as IllegalTransitionError).code).toBe('ILLEGAL_TRANSITION');
      expect((error as IllegalTransitionError).status).toBe(409);
    }
  });
});

describe('run state machine', () => {
  const cases = RUN_STATES.flatMap((from) =>
    runEvents.map((event) => ({ from, event, to: ALLOWED_RUN[`${from} ${event}`] })),
  );

  it.each(cases.filter((c) => c.to))('$from --$event--> $to', ({ from, event, to }) => {
    expect(nextRunState(from, event)).toBe(to);
  });

  it.each(cases.filter((c) => !c.to))('$from refuses $event', ({ from, event }) => {
    expect(() => nextRunState(from, event)).toThrow(IllegalTransitionError);
  });
});

describe('run state derived from jobs', () => {
  it.each([
    { counts: { queued: 2, succeeded: 1 }, expected: 'running' },
    { counts: { succeeded: 3 }, expected: 'succeeded' },
    { counts: { succeeded: 2, failed: 1 }, expected: 'failed' },
    { counts: { running: 1, dead_lettered: 1 }, expected: 'failed' },
    { counts: { succeeded: 1, canceled: 2 }, expected: 'canceled' },
    { counts: {}, expected: 'running' },
  ] as const)('$counts → $expected', ({ counts, expected }) => {
    expect(deriveRunState('running', counts)).toBe(expected);
  });

  it('keeps planning and terminal runs as they are', () => {
    expect(deriveRunState('planning', { succeeded: 1 })).toBe('planning');
    expect(deriveRunState('canceled', { succeeded: 1 })).toBe('canceled');
    expect(deriveRunState('succeeded', { failed: 1 })).toBe('succeeded');
  });
});
