import { operation, publicApi, type RequestContext } from '@jobengine/core';

/**
 * Probes. Liveness answers without touching dependencies; readiness proves a database round trip and
 * answers 503 DATABASE_UNAVAILABLE (with the error envelope) while PostgreSQL is unreachable.
 */
export const handler = publicApi({
  'GET /healthz': operation<RequestContext>({
    handle: async () => ({ status: 200, body: { status: 'ok' } }),
  }),
  'GET /readyz': operation<RequestContext>({
    handle: async ({ ctx }) => {
      await ctx.runtime.db.ping();
      return { status: 200, body: { status: 'ready' } };
    },
  }),
});
