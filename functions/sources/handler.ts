import {
  AppError,
  CreateSourceBody,
  callContext,
  ListSourcesQuery,
  operation,
  operatorCall,
  type TenantContext,
  tenantApi,
  UpdateSourceBody,
} from '@jobengine/core';

/**
 * Sources API (DESIGN §2, §8): parse and validate, call the service, map the result. Changes record
 * X-Stella-Operator-Reason / -Ticket on their `source.*` events.
 */
const call = callContext;

const etag = (version: number) => ({ ETag: `"${version}"` });

/** `If-Match: "3"` → 3; absent → null; a malformed value is a 400, not a silent unconditional write. */
function ifMatchVersion(ctx: TenantContext): number | null {
  const header = ctx.headers['if-match'];
  if (header === undefined) return null;
  const match = /^(?:W\/)?"(\d{1,9})"$/.exec(header.trim());
  if (!match) throw new AppError('VALIDATION_FAILED', 'If-Match must be an ETag such as "3"');
  return Number(match[1]);
}

export const handler = tenantApi({
  'POST /api/v1/sources': operation<TenantContext, typeof CreateSourceBody>({
    scope: 'orch:operate',
    body: CreateSourceBody,
    handle: async ({ ctx, body }) => {
      const source = await ctx.runtime.sources.create(operatorCall(ctx), body);
      return {
        status: 201,
        body: source,
        headers: { Location: `/api/v1/sources/${source.id}`, ...etag(source.version) },
      };
    },
  }),
  'GET /api/v1/sources': operation<TenantContext, never, typeof ListSourcesQuery>({
    scope: 'orch:read',
    query: ListSourcesQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.sources.list(call(ctx), query),
    }),
  }),
  'GET /api/v1/sources/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => {
      const source = await ctx.runtime.sources.get(call(ctx), params.id!);
      return { status: 200, body: source, headers: etag(source.version) };
    },
  }),
  'GET /api/v1/sources/{id}/watermarks': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.schedules.watermarks(call(ctx), params.id!),
    }),
  }),
  'PATCH /api/v1/sources/{id}': operation<TenantContext, typeof UpdateSourceBody>({
    scope: 'orch:operate',
    body: UpdateSourceBody,
    handle: async ({ ctx, body, params }) => {
      const source = await ctx.runtime.sources.update(
        operatorCall(ctx),
        params.id!,
        body,
        ifMatchVersion(ctx),
      );
      return { status: 200, body: source, headers: etag(source.version) };
    },
  }),
  'POST /api/v1/sources/{id}:pause': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => {
      const source = await ctx.runtime.flowControl.pauseSource(operatorCall(ctx), params.id!);
      return { status: 200, body: source, headers: etag(source.version) };
    },
  }),
  'POST /api/v1/sources/{id}:resume': operation<TenantContext>({
    scope: 'orch:operate',
    handle: async ({ ctx, params }) => {
      const source = await ctx.runtime.flowControl.resumeSource(operatorCall(ctx), params.id!);
      return { status: 200, body: source, headers: etag(source.version) };
    },
  }),
});
