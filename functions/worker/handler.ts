import {
  AppError,
  CompleteBatchBody,
  CompleteOneBody,
  callContext,
  grantsTenant,
  HeartbeatBody,
  LeaseRequestBody,
  operation,
  ProgressBody,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/** The worker bridge: lease, heartbeat, progress, complete (one job or a batch). Scope: orch:operate. */
export const handler = tenantApi({
  'POST /api/v1/worker/leases': operation<TenantContext, typeof LeaseRequestBody>({
    scope: 'orch:operate',
    body: LeaseRequestBody,
    handle: async ({ ctx, body }) => {
      const denied = (body.tenants ?? []).filter((tenant) => !grantsTenant(ctx.principal, tenant));
      if (denied.length > 0) {
        throw new AppError('FORBIDDEN', `the token does not grant tenant '${denied[0]}'`);
      }
      return { status: 200, body: { leases: await ctx.runtime.leasing.lease(callContext(ctx), body) } };
    },
  }),
  'POST /api/v1/worker/leases/{leaseId}:heartbeat': operation<TenantContext, typeof HeartbeatBody>({
    scope: 'orch:operate',
    body: HeartbeatBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      body: await ctx.runtime.leasing.heartbeat(callContext(ctx), params.leaseId!, body.leaseSeconds ?? 60),
    }),
  }),
  'POST /api/v1/worker/jobs/{jobId}:progress': operation<TenantContext, typeof ProgressBody>({
    scope: 'orch:operate',
    // Pack-run log lines ride on progress; Lambda's synchronous payload limit is the real cap.
    maxBodyBytes: 6_000_000,
    body: ProgressBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      body: await ctx.runtime.leasing.progress(callContext(ctx), params.jobId!, body),
    }),
  }),
  'POST /api/v1/worker/jobs/{jobId}:complete': operation<TenantContext, typeof CompleteOneBody>({
    scope: 'orch:operate',
    body: CompleteOneBody,
    handle: async ({ ctx, body, params }) => {
      const [result] = await ctx.runtime.leasing.complete(callContext(ctx), [
        { ...body, jobId: params.jobId! },
      ]);
      return { status: 200, body: result };
    },
  }),
  'POST /api/v1/worker/completions': operation<TenantContext, typeof CompleteBatchBody>({
    scope: 'orch:operate',
    body: CompleteBatchBody,
    handle: async ({ ctx, body }) => ({
      status: 200,
      body: { results: await ctx.runtime.leasing.complete(callContext(ctx), body.completions) },
    }),
  }),
});
