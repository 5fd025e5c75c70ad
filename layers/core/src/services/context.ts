import type { Actor } from '../domain/events.ts';

/** Who asks a service to act, and on behalf of which tenant; built by the handler from the request. */
export interface CallContext {
  tenantId: string;
  projectId: string | null;
  correlationId: string;
  actor: Actor;
}
