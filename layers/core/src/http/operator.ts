import { ValidationError } from '../domain/errors.ts';
import type { CallContext, OperatorNote } from '../services/context.ts';
import { callContext, type RequestContext, type TenantContext } from './api.ts';

/**
 * Operator notes (DESIGN §8): mutations by operators carry `X-Stella-Operator-Reason` (≤256 characters)
 * and optionally `X-Stella-Operator-Ticket` (≤128). Some operations require them: quota changes need a
 * reason, backfills a reason and a ticket. Every violation is a 400 VALIDATION_FAILED whose detail names
 * the header, so a CLI can prompt for exactly what is missing (docs/adr/0007-pack-runs-and-operator-notes.md).
 */
export const OPERATOR_REASON_HEADER = 'X-Stella-Operator-Reason';
export const OPERATOR_TICKET_HEADER = 'X-Stella-Operator-Ticket';
export const MAX_OPERATOR_REASON_CHARS = 256;
export const MAX_OPERATOR_TICKET_CHARS = 128;

export interface OperatorNoteRules {
  reasonRequired?: boolean;
  ticketRequired?: boolean;
  /**
   * A reason the operation also accepts in its body (cancel, discard: `{"reason": …}`, kept for existing
   * clients). Either place satisfies `reasonRequired`; both at once must agree, or the request is a 400
   * rather than one of them being silently dropped.
   */
  bodyReason?: string | undefined;
}

/** The rule sets of DESIGN §8, by kind of operation. */
export const OPERATOR_NOTE_RULES = {
  /** cancel, retry, prioritize, replay, discard, source changes: reason and ticket optional. */
  control: {},
  /** quota changes: a reason is required. */
  quota: { reasonRequired: true },
  /** backfills: a reason and a ticket are required. */
  backfill: { reasonRequired: true, ticketRequired: true },
} as const satisfies Record<string, OperatorNoteRules>;

/** Reads and validates the operator headers; throws 400 VALIDATION_FAILED naming the offending header. */
export function operatorNote(
  ctx: Pick<RequestContext, 'headers'>,
  rules: OperatorNoteRules = OPERATOR_NOTE_RULES.control,
): OperatorNote {
  const headerReason = headerValue(ctx, OPERATOR_REASON_HEADER, MAX_OPERATOR_REASON_CHARS);
  const ticket = headerValue(ctx, OPERATOR_TICKET_HEADER, MAX_OPERATOR_TICKET_CHARS);
  const bodyReason = rules.bodyReason ?? null;
  if (headerReason !== null && bodyReason !== null && headerReason !== bodyReason) {
    throw invalid(
      OPERATOR_REASON_HEADER,
      `the reason is given both as ${OPERATOR_REASON_HEADER} and in the body, with different values; send one`,
    );
  }
  const reason = headerReason ?? bodyReason;
  if (rules.reasonRequired && reason === null) {
    throw invalid(OPERATOR_REASON_HEADER, `${OPERATOR_REASON_HEADER} is required for this operation`);
  }
  if (rules.ticketRequired && ticket === null) {
    throw invalid(OPERATOR_TICKET_HEADER, `${OPERATOR_TICKET_HEADER} is required for this operation`);
  }
  return { reason, ticket };
}

/** The service-facing view of an operator mutation: the call context carrying the validated note. */
export function operatorCall(ctx: TenantContext, rules?: OperatorNoteRules): CallContext {
  return { ...callContext(ctx), note: operatorNote(ctx, rules) };
}

/** The header's value (null when absent); blank, too long or containing control characters is a 400. */
function headerValue(ctx: Pick<RequestContext, 'headers'>, name: string, maxChars: number): string | null {
  const raw = ctx.headers[name.toLowerCase()];
  if (raw === undefined) return null;
  const value = raw.trim();
  // Counted in characters (code points), as the limits are stated; a header is rarely beyond ASCII anyway.
  const chars = [...value].length;
  if (chars === 0 || chars > maxChars) {
    throw invalid(name, `${name} must be 1 to ${maxChars} characters, not ${chars}`);
  }
  if (/\p{Cc}/u.test(value)) throw invalid(name, `${name} must not contain control characters`);
  return value;
}

function invalid(header: string, message: string): ValidationError {
  return new ValidationError(message, [{ path: `headers.${header}`, message }]);
}
