import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, retryDelayMs } from '../../../sdk/worker/src/backoff.ts';
import { PermanentError, RetryableError } from '../../../sdk/worker/src/index.ts';

describe('retryDelayMs', () => {
  it('stays within [Retry-After, max(Retry-After, min(cap, base·2^(retry−1)))]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined }),
        (baseMs, capMs, retry, random, retryAfterMs) => {
          const delay = retryDelayMs({ maxAttempts: 5, baseMs, capMs }, retry, () => random, retryAfterMs);
          const ceiling = Math.min(capMs, baseMs * 2 ** (retry - 1));
          expect(delay).toBeGreaterThanOrEqual(retryAfterMs ?? 0);
          expect(delay).toBeLessThanOrEqual(Math.max(retryAfterMs ?? 0, ceiling));
        },
      ),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta-seconds and HTTP dates, and ignores anything else', () => {
    expect(parseRetryAfter('5', now)).toBe(5000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('handler errors', () => {
  it('carry retryability, code and class', () => {
    expect(new RetryableError('UPSTREAM_TIMEOUT', 'slow', { errorClass: 'upstream' })).toMatchObject({
      retryable: true,
      code: 'UPSTREAM_TIMEOUT',
      errorClass: 'upstream',
      message: 'slow',
    });
    expect(new PermanentError('BAD_INPUT', 'no')).toMatchObject({ retryable: false, code: 'BAD_INPUT' });
  });

  it('reject codes and classes the server would refuse, so one bad code cannot sink a completion batch', () => {
    expect(() => new RetryableError('timeout', 'x')).toThrow(TypeError);
    expect(() => new PermanentError('BAD', 'x', { errorClass: 'Upstream' })).toThrow(TypeError);
  });
});
