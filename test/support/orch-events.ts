import type { PublishableEvent } from '../../layers/core/src/ports/event-publisher.ts';

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

/**
 * A well-formed `source.updated` event number `n` (ids derived from n, so distinct and stable), as the
 * outbox hands it to a publisher. `config` pads the subject data when a test needs a large event.
 */
export function sourceUpdatedEvent(n: number, config: Record<string, unknown> = {}): PublishableEvent {
  const sourceId = `0190a6b2-6c3e-7d4f-8a1b-${hex(n, 12)}`;
  return {
    schema: 'orch.event.v1',
    eventId: `0190a6b2-6c3f-7000-8000-${hex(n, 12)}`,
    eventType: 'source.updated',
    occurredAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5) + n).toISOString(),
    seq: n + 1,
    idempotencyKey: `orch-source.updated-${sourceId}-2`,
    correlationId: `corr-${n}`,
    tenantId: 'acme',
    projectId: null,
    actor: { subject: 'operator-1', scopes: ['orch:operate', 'orch:read'] },
    subject: {
      kind: 'source',
      id: sourceId,
      data: {
        id: sourceId,
        name: `feed-${n}`,
        type: 'advisory',
        upstreamHost: 'nvd.example.org',
        projectId: null,
        config,
        enabled: true,
        paused: false,
        pauseReason: null,
        circuit: { state: 'closed', failures: 0, openedAt: null },
        version: 2,
        createdAt: '2025-01-01T00:00:00.000Z',
        updatedAt: '2025-01-02T03:04:05.000Z',
        reason: null,
        ticket: null,
      },
    },
  };
}
