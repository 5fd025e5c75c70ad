import {
  callContext,
  DiscardBody,
  ListDeadLettersQuery,
  operation,
  operatorCall,
  ReplayFilterBody,
  ReplayOneBody,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/**
 * Dead letters: list, inspect, stats, replay (one or by filter, with dry run), discard. Replays and discards
 * record X-Stella-Operator-Reason / -Ticket on their events; discard also takes the reason in its body.
 */
export const handler = tenantApi({
  'GET /api/v1/deadletter': operation<TenantContext, never, typeof ListDeadLettersQuery>({
    scope: 'orch:read',
    query: ListDeadLettersQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.deadLetters.list(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/deadletter/stats': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx }) => ({ status: 200, body: await ctx.runtime.deadLetters.stats(callContext(ctx)) }),
  }),
  'GET /api/v1/deadletter/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.deadLetters.get(callContext(ctx), params.id!),
    }),
  }),
  'POST /api/v1/deadletter/{id}:replay': operation<TenantContext, typeof ReplayOneBody>({
    scope: 'orch:operate',
    body: ReplayOneBody,
    handle: async ({ ctx, body, params }) => ({
      status: 201,
      body: await ctx.runtime.deadLetters.replay(operatorCall(ctx), params.id!, body.priority),
    }),
  }),
  'POST /api/v1/deadletter:replay': operation<TenantContext, typeof ReplayFilterBody>({
    scope: 'orch:operate',
    body: ReplayFilterBody,
    handle: async ({ ctx, body }) => ({
      status: 200,
      body: await ctx.runtime.deadLetters.replayMatching(operatorCall(ctx), body),
    }),
  }),
  'POST /api/v1/deadletter/{id}:discard': operation<TenantContext, typeof DiscardBody>({
    scope: 'orch:operate',
    body: DiscardBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      body: await ctx.runtime.deadLetters.discard(operatorCall(ctx, { bodyReason: body.reason }), params.id!),
    }),
  }),
});
