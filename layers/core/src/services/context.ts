import type { Actor } from '../domain/events.ts';

/**
 * Why an operator made a change (DESIGN §8): `X-Stella-Operator-Reason` and `X-Stella-Operator-Ticket`,
 * validated by http/operator.ts and recorded in the data of the events the change writes.
 */
export interface OperatorNote {
  reason: string | null;
  ticket: string | null;
}

/** Who asks a service to act, and on behalf of which tenant; built by the handler from the request. */
export interface CallContext {
  tenantId: string;
  projectId: string | null;
  correlationId: string;
  /** The API request that made the call (audit entries record it); absent for background work. */
  requestId?: string;
  actor: Actor;
  /** Set on operator mutations; services that record notes treat its absence as no reason and no ticket. */
  note?: OperatorNote;
}

/** The call's operator note, or none. */
export function noteOf(call: CallContext): OperatorNote {
  return call.note ?? { reason: null, ticket: null };
}
