import {
  CancelBody,
  CreateJobBody,
  callContext,
  JobHistoryQuery,
  ListJobsQuery,
  operation,
  operatorCall,
  PrioritizeBody,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/**
 * Jobs API: one-job submissions, reads, history, and cancel / retry / prioritize. The operator controls
 * record X-Stella-Operator-Reason / -Ticket on their events; cancel also takes the reason in its body.
 */
export const handler = tenantApi({
  'POST /api/v1/jobs': operation<TenantContext, typeof CreateJobBody>({
    scope: 'orch:operate',
    body: CreateJobBody,
    handle: async ({ ctx, body }) => {
      const job = await ctx.runtime.jobs.submit(callContext(ctx), body);
      return { status: 201, body: job, headers: { Location: `/api/v1/jobs/${job.id}` } };
    },
  }),
  'GET /api/v1/jobs': operation<TenantContext, never, typeof ListJobsQuery>({
    scope: 'orch:read',
    query: ListJobsQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.jobs.list(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/jobs/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.jobs.get(callContext(ctx), params.id!),
    }),
  }),
  'GET /api/v1/jobs/{id}/history': operation<TenantContext, never, typeof JobHistoryQuery>({
    scope: 'orch:read',
    query: JobHistoryQuery,
    handle: async ({ ctx, params, query }) => ({
      status: 200,
      body: await ctx.runtime.jobs.history(callContext(ctx), params.id!, query),
    }),
  }),
  'GET /api/v1/jobs/{id}/explain': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.explain(callContext(ctx), params.id!),
    }),
  }),
  'POST /api/v1/jobs/{id}:cancel': operation<TenantContext, typeof CancelBody>({
    scope: 'orch:operate',
    body: CancelBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      body: await ctx.runtime.jobs.cancel(operatorCall(ctx, { bodyReason: body.reason }), params.id!),
    }),
  }),
  'POST /api/v1/jobs/{id}:retry': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.jobs.retry(operatorCall(ctx), params.id!),
    }),
  }),
  'POST /api/v1/jobs/{id}:prioritize': operation<TenantContext, typeof PrioritizeBody>({
    scope: 'orch:operate',
    body: PrioritizeBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      body: await ctx.runtime.jobs.prioritize(operatorCall(ctx), params.id!, body.priority),
    }),
  }),
});
