import type { EventType } from './event-types.ts';

/**
 * The `orch.event.v1` envelope (DESIGN §9). `seq` is assigned by the event log when the row is written,
 * so it is absent here and merged in when events are read back.
 */
export interface Actor {
  subject: string;
  scopes: readonly string[];
}

export interface EventSubject {
  kind:
    | 'job'
    | 'run'
    | 'source'
    | 'quota'
    | 'bucket'
    | 'throttle'
    | 'schedule'
    | 'backfill'
    | 'watermark'
    | 'dead_letter'
    | 'incident'
    | 'pack_run';
  id: string;
  /** The subject object carried by the event (e.g. `source {id, name, ...}`). */
  data: Record<string, unknown>;
}

export interface OrchEvent {
  schema: 'orch.event.v1';
  eventId: string;
  eventType: string;
  occurredAt: string;
  idempotencyKey: string;
  correlationId: string | null;
  tenantId: string;
  projectId: string | null;
  actor: Actor;
  subject: EventSubject;
}

export interface NewEvent {
  eventType: EventType;
  tenantId: string;
  projectId: string | null;
  correlationId: string | null;
  actor: Actor;
  subject: EventSubject;
  /** Stable per transition: `orch-{eventType}-{subjectId}-{version or attempt}`, so republishing dedupes. */
  idempotencyKey: string;
}

export function buildEvent(event: NewEvent, eventId: string, occurredAt: Date): OrchEvent {
  return {
    schema: 'orch.event.v1',
    eventId,
    eventType: event.eventType,
    occurredAt: occurredAt.toISOString(),
    idempotencyKey: event.idempotencyKey,
    correlationId: event.correlationId,
    tenantId: event.tenantId,
    projectId: event.projectId,
    actor: { subject: event.actor.subject, scopes: [...event.actor.scopes].sort() },
    subject: event.subject,
  };
}
