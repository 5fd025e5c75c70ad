import { describe, expect, it } from 'vitest';
import { runChaos } from '../chaos/driver.ts';

/**
 * The Orchestration acceptance scenario at CI size (`npm run chaos` runs it with 20,000 jobs): 8 SDK
 * worker processes with random failures, one SIGKILLed mid-lease, the control plane SIGKILLed and
 * restarted, PostgreSQL restarted - and every invariant checked from the database afterwards. It always
 * runs on its own embedded PostgreSQL, because it restarts the server.
 */
describe('chaos: workers, control plane and database killed mid-run', () => {
  it('ends every job in exactly one terminal state, none twice, none lost, children after parents', async () => {
    const report = await runChaos({
      jobs: 1000,
      workers: 8,
      runSize: 20,
      retryableRate: 0.05,
      permanentRate: 0.002,
      timeoutMs: 150_000,
      log: () => undefined,
    });
    expect(report.violations).toEqual({
      lostJobs: 0,
      nonTerminalJobs: 0,
      jobsWithoutExactlyOneTerminalTransition: 0,
      jobsSucceededTwice: 0,
      terminalStatusDisagreesWithHistory: 0,
      childLeasedBeforeParentSucceeded: 0,
      childSucceededWithFailedParent: 0,
      runCountersWrong: 0,
      runStatusWrong: 0,
      deadLettersWithoutJob: 0,
      leaseEventsMissing: 0,
    });
    expect(report.unavailableAnswer).toEqual({ status: 503, code: 'DATABASE_UNAVAILABLE' });
    expect(report.faults).toHaveLength(5);
    expect(report.outcomes.succeeded).toBeGreaterThan(900);
  }, 240_000);
});
