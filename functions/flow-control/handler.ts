import {
  CreateBucketBody,
  CreateQuotaBody,
  CreateThrottleBody,
  callContext,
  ListBucketsQuery,
  ListCircuitsQuery,
  ListIncidentsQuery,
  ListQuotasQuery,
  ListThrottlesQuery,
  OPERATOR_NOTE_RULES,
  operation,
  operatorCall,
  type TenantContext,
  tenantApi,
  UpdateBucketBody,
  UpdateQuotaBody,
} from '@jobengine/core';

/**
 * Flow control API (DESIGN §2, §8; docs/adr/0010-flow-control.md): quotas and upstream buckets (scope
 * orch:quota, a reason required), quota pause/resume and throttles (orch:operate), circuits and incidents
 * (orch:read). Reasons and tickets land on the events and in the audit log.
 */

export const handler = tenantApi({
  'POST /api/v1/quotas': operation<TenantContext, typeof CreateQuotaBody>({
    scope: 'orch:quota',
    body: CreateQuotaBody,
    handle: async ({ ctx, body }) => {
      const quota = await ctx.runtime.flowControl.createQuota(
        operatorCall(ctx, OPERATOR_NOTE_RULES.quota),
        body,
      );
      return { status: 201, body: quota, headers: { Location: `/api/v1/quotas/${quota.id}` } };
    },
  }),
  'GET /api/v1/quotas': operation<TenantContext, never, typeof ListQuotasQuery>({
    scope: 'orch:read',
    query: ListQuotasQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.listQuotas(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/quotas/summary': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.quotaSummary(callContext(ctx)),
    }),
  }),
  'GET /api/v1/quotas/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.getQuota(callContext(ctx), params.id!),
    }),
  }),
  'PATCH /api/v1/quotas/{id}': operation<TenantContext, typeof UpdateQuotaBody>({
    scope: 'orch:quota',
    body: UpdateQuotaBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      // A reason is required, checked after the lookup so an unknown id answers 404 first.
      body: await ctx.runtime.flowControl.updateQuota(operatorCall(ctx), params.id!, body),
    }),
  }),
  'DELETE /api/v1/quotas/{id}': operation<TenantContext>({
    scope: 'orch:quota',
    handle: async ({ ctx, params }) => ({
      status: 200,
      // A reason is required, but an unknown id answers 404 first: the service checks it after the lookup.
      body: await ctx.runtime.flowControl.deleteQuota(operatorCall(ctx), params.id!),
    }),
  }),
  'POST /api/v1/quotas/{id}:pause': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.pauseQuota(operatorCall(ctx), params.id!),
    }),
  }),
  'POST /api/v1/quotas/{id}:resume': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.resumeQuota(operatorCall(ctx), params.id!),
    }),
  }),
  'POST /api/v1/buckets': operation<TenantContext, typeof CreateBucketBody>({
    scope: 'orch:quota',
    body: CreateBucketBody,
    handle: async ({ ctx, body }) => {
      const bucket = await ctx.runtime.flowControl.createBucket(
        operatorCall(ctx, OPERATOR_NOTE_RULES.quota),
        body,
      );
      return { status: 201, body: bucket, headers: { Location: `/api/v1/buckets/${bucket.id}` } };
    },
  }),
  'GET /api/v1/buckets': operation<TenantContext, never, typeof ListBucketsQuery>({
    scope: 'orch:read',
    query: ListBucketsQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.listBuckets(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/buckets/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.getBucket(callContext(ctx), params.id!),
    }),
  }),
  'PATCH /api/v1/buckets/{id}': operation<TenantContext, typeof UpdateBucketBody>({
    scope: 'orch:quota',
    body: UpdateBucketBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      // A reason is required, checked after the lookup so an unknown id answers 404 first.
      body: await ctx.runtime.flowControl.updateBucket(operatorCall(ctx), params.id!, body),
    }),
  }),
  'DELETE /api/v1/buckets/{id}': operation<TenantContext>({
    scope: 'orch:quota',
    handle: async ({ ctx, params }) => ({
      status: 200,
      // A reason is required, but an unknown id answers 404 first: the service checks it after the lookup.
      body: await ctx.runtime.flowControl.deleteBucket(operatorCall(ctx), params.id!),
    }),
  }),
  'POST /api/v1/throttles': operation<TenantContext, typeof CreateThrottleBody>({
    scope: 'orch:operate',
    body: CreateThrottleBody,
    handle: async ({ ctx, body }) => {
      const throttle = await ctx.runtime.flowControl.createThrottle(
        operatorCall(ctx, OPERATOR_NOTE_RULES.quota),
        body,
      );
      return { status: 201, body: throttle, headers: { Location: `/api/v1/throttles/${throttle.id}` } };
    },
  }),
  'GET /api/v1/throttles': operation<TenantContext, never, typeof ListThrottlesQuery>({
    scope: 'orch:read',
    query: ListThrottlesQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.listThrottles(callContext(ctx), query),
    }),
  }),
  'POST /api/v1/throttles/{id}:lift': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.liftThrottle(operatorCall(ctx), params.id!),
    }),
  }),
  'GET /api/v1/circuits': operation<TenantContext, never, typeof ListCircuitsQuery>({
    scope: 'orch:read',
    query: ListCircuitsQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.listCircuits(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/incidents': operation<TenantContext, never, typeof ListIncidentsQuery>({
    scope: 'orch:read',
    query: ListIncidentsQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.flowControl.listIncidents(callContext(ctx), query),
    }),
  }),
});
