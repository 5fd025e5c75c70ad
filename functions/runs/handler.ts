import {
  CancelBody,
  CreateRunBody,
  callContext,
  ListRunsQuery,
  operation,
  operatorCall,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/** Runs API: submit a DAG (planned asynchronously), read, view the DAG, cancel. */
export const handler = tenantApi({
  'POST /api/v1/runs': operation<TenantContext, typeof CreateRunBody>({
    scope: 'orch:operate',
    // A 10,000-job DAG is a few megabytes; Lambda's synchronous payload limit (6 MB) is the real cap.
    maxBodyBytes: 6_000_000,
    body: CreateRunBody,
    handle: async ({ ctx, body }) => {
      const run = await ctx.runtime.runs.submit(callContext(ctx), body);
      return { status: 202, body: run, headers: { Location: `/api/v1/runs/${run.id}` } };
    },
  }),
  'GET /api/v1/runs': operation<TenantContext, never, typeof ListRunsQuery>({
    scope: 'orch:read',
    query: ListRunsQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.runs.list(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/runs/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.runs.get(callContext(ctx), params.id!),
    }),
  }),
  'GET /api/v1/runs/{id}/dag': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.runs.dag(callContext(ctx), params.id!),
    }),
  }),
  // The reason comes from X-Stella-Operator-Reason or the body's `reason` (both: they must agree).
  'POST /api/v1/runs/{id}:cancel': operation<TenantContext, typeof CancelBody>({
    scope: 'orch:operate',
    body: CancelBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      body: await ctx.runtime.runs.cancel(operatorCall(ctx, { bodyReason: body.reason }), params.id!),
    }),
  }),
});
