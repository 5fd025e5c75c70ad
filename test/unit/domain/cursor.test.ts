import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CursorCodec } from '../../../layers/core/src/domain/cursor.ts';
import { AppError } from '../../../layers/core/src/domain/errors.ts';

const codec = new CursorCodec('unit-test-cursor-secret');
const scope = { list: 'sources', filter: { type: 'advisory_feed' } };

function expectInvalid(run: () => unknown) {
  try {
    run();
    expect.unreachable('token was accepted');
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('INVALID_PAGE_TOKEN');
  }
}

describe('page tokens', () => {
  it('round-trip the sort key', () => {
    const token = codec.encode(scope, ['2026-01-01T00:00:00.000Z', 'f0e1d2c3-0000-7000-8000-000000000001']);
    expect(codec.decode(scope, token)).toEqual([
      '2026-01-01T00:00:00.000Z',
      'f0e1d2c3-0000-7000-8000-000000000001',
    ]);
  });

  it('reject a token used with other filters', () => {
    const token = codec.encode(scope, ['a', 'b']);
    expectInvalid(() => codec.decode({ list: 'sources', filter: { type: 'vex' } }, token));
  });

  it('reject an edited payload, a forged signature, and another secret', () => {
    const token = codec.encode(scope, ['a', 'b']);
    const [body, signature] = token.split('.') as [string, string];
    const forgedBody = Buffer.from(JSON.stringify({ v: 1, s: 'x', k: ['z', 'z'] })).toString('base64url');
    expectInvalid(() => codec.decode(scope, `${forgedBody}.${signature}`));
    expectInvalid(() => codec.decode(scope, `${body}.${'A'.repeat(signature.length)}`));
    expectInvalid(() => new CursorCodec('another-secret-value-123').decode(scope, token));
  });

  it('never accept arbitrary strings, and fail only with INVALID_PAGE_TOKEN', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 2000 }), (token) => {
        expectInvalid(() => codec.decode(scope, token));
      }),
    );
  });

  it('refuse short secrets', () => {
    expect(() => new CursorCodec('short')).toThrow(/at least 16/);
  });
});
