import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../layers/core/src/auth/tokens.ts';
import { AppError } from '../../../layers/core/src/domain/errors.ts';
import type { TenantContext } from '../../../layers/core/src/http/api.ts';
import { OPERATOR_NOTE_RULES, operatorCall, operatorNote } from '../../../layers/core/src/http/operator.ts';

const REASON = 'x-stella-operator-reason';
const TICKET = 'x-stella-operator-ticket';
const note = (headers: Record<string, string>, rules?: Parameters<typeof operatorNote>[1]) =>
  operatorNote({ headers }, rules);

/** Asserts a 400 VALIDATION_FAILED whose detail names the header. */
function expectRefused(run: () => unknown, header: 'X-Stella-Operator-Reason' | 'X-Stella-Operator-Ticket') {
  let error: unknown;
  try {
    run();
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
  expect((error as AppError).details).toEqual([{ path: `headers.${header}`, message: expect.any(String) }]);
  expect((error as AppError).message).toContain(header);
}

/** Characters an operator may type: printable, no control characters, any plane. */
const textChar = fc
  .oneof(
    fc.integer({ min: 0x21, max: 0x7e }),
    fc.integer({ min: 0xa1, max: 0xd7ff }),
    fc.integer({ min: 0x1f600, max: 0x1f64f }),
  )
  .map((code) => String.fromCodePoint(code))
  // Unicode spaces (U+3000, U+2003, ...) would be trimmed away at the ends.
  .filter((char) => char.trim() === char);

describe('operator notes (X-Stella-Operator-Reason / -Ticket)', () => {
  it('are optional by default: no headers is no reason and no ticket', () => {
    expect(note({})).toEqual({ reason: null, ticket: null });
    expect(note({ 'content-type': 'application/json' }, OPERATOR_NOTE_RULES.control)).toEqual({
      reason: null,
      ticket: null,
    });
  });

  it('returns both values, trimmed', () => {
    expect(note({ [REASON]: '  upstream sent garbage ', [TICKET]: 'OPS-1234' })).toEqual({
      reason: 'upstream sent garbage',
      ticket: 'OPS-1234',
    });
  });

  it('accepts any reason of 1 to 256 characters and any ticket of 1 to 128, counted in characters', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: textChar, minLength: 1, maxLength: 256 }),
        fc.string({ unit: textChar, minLength: 1, maxLength: 128 }),
        (reason, ticket) => {
          expect(note({ [REASON]: reason, [TICKET]: ticket })).toEqual({ reason, ticket });
        },
      ),
    );
    // 256 astral characters are 512 UTF-16 units: still 256 characters
    expect(note({ [REASON]: '😀'.repeat(256) }).reason).toHaveLength(512);
  });

  it('refuses a reason over 256 characters and a ticket over 128', () => {
    fc.assert(
      fc.property(fc.string({ unit: textChar, minLength: 257, maxLength: 400 }), (reason) => {
        expectRefused(() => note({ [REASON]: reason }), 'X-Stella-Operator-Reason');
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: textChar, minLength: 129, maxLength: 200 }), (ticket) => {
        expectRefused(() => note({ [REASON]: 'fine', [TICKET]: ticket }), 'X-Stella-Operator-Ticket');
      }),
    );
  });

  it('refuses blank values and control characters', () => {
    for (const blank of ['', '   ']) {
      expectRefused(() => note({ [REASON]: blank }), 'X-Stella-Operator-Reason');
      expectRefused(() => note({ [TICKET]: blank }), 'X-Stella-Operator-Ticket');
    }
    for (const control of ['a\u0000b', 'a\tb', 'a\u001bb', 'a\u007fb', 'a\u0085b']) {
      expectRefused(() => note({ [REASON]: control }), 'X-Stella-Operator-Reason');
      expectRefused(() => note({ [TICKET]: control }), 'X-Stella-Operator-Ticket');
    }
  });

  it('quota changes require a reason; the ticket stays optional', () => {
    expectRefused(() => note({}, OPERATOR_NOTE_RULES.quota), 'X-Stella-Operator-Reason');
    expectRefused(() => note({ [TICKET]: 'OPS-1' }, OPERATOR_NOTE_RULES.quota), 'X-Stella-Operator-Reason');
    expect(note({ [REASON]: 'raise for the migration' }, OPERATOR_NOTE_RULES.quota)).toEqual({
      reason: 'raise for the migration',
      ticket: null,
    });
  });

  it('backfills require a reason and a ticket', () => {
    expectRefused(() => note({}, OPERATOR_NOTE_RULES.backfill), 'X-Stella-Operator-Reason');
    expectRefused(
      () => note({ [TICKET]: 'OPS-9' }, OPERATOR_NOTE_RULES.backfill),
      'X-Stella-Operator-Reason',
    );
    expectRefused(() => note({ [REASON]: 'gap' }, OPERATOR_NOTE_RULES.backfill), 'X-Stella-Operator-Ticket');
    expect(note({ [REASON]: 'gap in March', [TICKET]: 'OPS-9' }, OPERATOR_NOTE_RULES.backfill)).toEqual({
      reason: 'gap in March',
      ticket: 'OPS-9',
    });
  });

  it('a validation failure of a present header wins over a missing required one', () => {
    expectRefused(
      () => note({ [TICKET]: 'x'.repeat(129) }, OPERATOR_NOTE_RULES.backfill),
      'X-Stella-Operator-Ticket',
    );
  });

  it('takes the reason from the body when the header is absent; both must agree', () => {
    expect(note({}, { bodyReason: 'duplicate' })).toEqual({ reason: 'duplicate', ticket: null });
    expect(note({ [REASON]: 'duplicate' }, { bodyReason: 'duplicate' })).toEqual({
      reason: 'duplicate',
      ticket: null,
    });
    expect(note({ [REASON]: 'header' }, { bodyReason: undefined })).toEqual({
      reason: 'header',
      ticket: null,
    });
    expectRefused(() => note({ [REASON]: 'header' }, { bodyReason: 'body' }), 'X-Stella-Operator-Reason');
    // a body reason satisfies a required reason
    expect(note({}, { ...OPERATOR_NOTE_RULES.quota, bodyReason: 'from body' }).reason).toBe('from body');
  });

  it('operatorCall carries the note on the service call context', () => {
    const principal: Principal = {
      subject: 'ops@example.com',
      scopes: new Set(['orch:read', 'orch:operate']),
      tenants: ['acme'],
    } as unknown as Principal;
    const ctx = {
      requestId: 'req-1',
      correlationId: 'corr-1',
      headers: { [REASON]: 'bad snapshot', [TICKET]: 'INC-7' },
      principal,
      tenantId: 'acme',
      projectId: 'proj-1',
    } as unknown as TenantContext;
    expect(operatorCall(ctx)).toEqual({
      tenantId: 'acme',
      projectId: 'proj-1',
      correlationId: 'corr-1',
      requestId: 'req-1',
      actor: { subject: 'ops@example.com', scopes: ['orch:operate', 'orch:read'] },
      note: { reason: 'bad snapshot', ticket: 'INC-7' },
    });
    const withoutTicket = { ...ctx, headers: { [REASON]: 'bad snapshot' } } as TenantContext;
    expectRefused(
      () => operatorCall(withoutTicket, OPERATOR_NOTE_RULES.backfill),
      'X-Stella-Operator-Ticket',
    );
  });
});
