import {
  CreatePackRunBody,
  callContext,
  ListPackRunLogsQuery,
  operation,
  operatorCall,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/**
 * Pack runs API (DESIGN §2, §8): schedule a pack in a project, read it, page through its logs. Scheduling
 * records X-Stella-Operator-Reason / -Ticket on its `pack_run.created` event.
 */
export const handler = tenantApi({
  'POST /api/v1/pack-runs': operation<TenantContext, typeof CreatePackRunBody>({
    scope: 'orch:operate',
    body: CreatePackRunBody,
    handle: async ({ ctx, body }) => {
      const packRun = await ctx.runtime.packRuns.create(operatorCall(ctx), body);
      return { status: 201, body: packRun, headers: { Location: `/api/v1/pack-runs/${packRun.id}` } };
    },
  }),
  'GET /api/v1/pack-runs/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.packRuns.get(callContext(ctx), params.id!),
    }),
  }),
  'GET /api/v1/pack-runs/{id}/logs': operation<TenantContext, never, typeof ListPackRunLogsQuery>({
    scope: 'orch:read',
    query: ListPackRunLogsQuery,
    handle: async ({ ctx, params, query }) => ({
      status: 200,
      body: await ctx.runtime.packRuns.logs(callContext(ctx), params.id!, query),
    }),
  }),
});
