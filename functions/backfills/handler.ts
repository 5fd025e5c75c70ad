import {
  CreateBackfillBody,
  callContext,
  ListBackfillsQuery,
  OPERATOR_NOTE_RULES,
  operation,
  operatorCall,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/**
 * Backfills API: plan (dry run) or start a chunked historical window of a source, watch its progress,
 * pause, resume, cancel. Every mutation needs `orch:backfill` and both X-Stella-Operator-Reason and
 * X-Stella-Operator-Ticket (DESIGN §8), which land in the audit log and on the `backfill.*` events.
 */
export const handler = tenantApi({
  'POST /api/v1/backfills': operation<TenantContext, typeof CreateBackfillBody>({
    scope: 'orch:backfill',
    body: CreateBackfillBody,
    handle: async ({ ctx, body }) => {
      const call = operatorCall(ctx, OPERATOR_NOTE_RULES.backfill);
      if (body.dryRun) return { status: 200, body: await ctx.runtime.backfills.plan(call, body) };
      const backfill = await ctx.runtime.backfills.start(call, body);
      return { status: 201, body: backfill, headers: { Location: `/api/v1/backfills/${backfill.id}` } };
    },
  }),
  'GET /api/v1/backfills': operation<TenantContext, never, typeof ListBackfillsQuery>({
    scope: 'orch:read',
    query: ListBackfillsQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.backfills.list(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/backfills/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.backfills.get(callContext(ctx), params.id!),
    }),
  }),
  'POST /api/v1/backfills/{id}:pause': operation<TenantContext>({
    scope: 'orch:backfill',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.backfills.pause(operatorCall(ctx, OPERATOR_NOTE_RULES.backfill), params.id!),
    }),
  }),
  'POST /api/v1/backfills/{id}:resume': operation<TenantContext>({
    scope: 'orch:backfill',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.backfills.resume(operatorCall(ctx, OPERATOR_NOTE_RULES.backfill), params.id!),
    }),
  }),
  'POST /api/v1/backfills/{id}:cancel': operation<TenantContext>({
    scope: 'orch:backfill',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.backfills.cancel(operatorCall(ctx, OPERATOR_NOTE_RULES.backfill), params.id!),
    }),
  }),
});
