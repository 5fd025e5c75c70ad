import {
  CreateScheduleBody,
  callContext,
  ListSchedulesQuery,
  NextFiresQuery,
  operation,
  operatorCall,
  type TenantContext,
  tenantApi,
  UpdateScheduleBody,
} from '@jobengine/core';

/**
 * Schedules API: cron + IANA time zone → a run template, with catch-up policy and watermark windows.
 * Changes record X-Stella-Operator-Reason / -Ticket in the audit log and on their `schedule.*` events.
 */
export const handler = tenantApi({
  'POST /api/v1/schedules': operation<TenantContext, typeof CreateScheduleBody>({
    scope: 'orch:operate',
    body: CreateScheduleBody,
    handle: async ({ ctx, body }) => {
      const schedule = await ctx.runtime.schedules.create(operatorCall(ctx), body);
      return { status: 201, body: schedule, headers: { Location: `/api/v1/schedules/${schedule.id}` } };
    },
  }),
  'GET /api/v1/schedules': operation<TenantContext, never, typeof ListSchedulesQuery>({
    scope: 'orch:read',
    query: ListSchedulesQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.schedules.list(callContext(ctx), query),
    }),
  }),
  'GET /api/v1/schedules/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.schedules.get(callContext(ctx), params.id!),
    }),
  }),
  'PATCH /api/v1/schedules/{id}': operation<TenantContext, typeof UpdateScheduleBody>({
    scope: 'orch:operate',
    body: UpdateScheduleBody,
    handle: async ({ ctx, body, params }) => ({
      status: 200,
      body: await ctx.runtime.schedules.update(operatorCall(ctx), params.id!, body),
    }),
  }),
  'DELETE /api/v1/schedules/{id}': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.schedules.remove(operatorCall(ctx), params.id!),
    }),
  }),
  'POST /api/v1/schedules/{id}:pause': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.schedules.setPaused(operatorCall(ctx), params.id!, true),
    }),
  }),
  'POST /api/v1/schedules/{id}:resume': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.schedules.setPaused(operatorCall(ctx), params.id!, false),
    }),
  }),
  'GET /api/v1/schedules/{id}/next': operation<TenantContext, never, typeof NextFiresQuery>({
    scope: 'orch:read',
    query: NextFiresQuery,
    handle: async ({ ctx, params, query }) => ({
      status: 200,
      body: await ctx.runtime.schedules.next(callContext(ctx), params.id!, query.count),
    }),
  }),
});
