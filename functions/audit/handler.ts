import {
  AppError,
  BundleFileName,
  CreateAuditExportBody,
  callContext,
  ListAuditQuery,
  ListRunArtifactsQuery,
  operation,
  operatorCall,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/**
 * Audit and provenance API (DESIGN §8, §10; docs/adr/0012-audit-and-provenance.md): the audit log, export
 * bundles and their files, artifacts. Export creation is itself audited, with the operator's reason/ticket.
 */
const call = callContext;

export const handler = tenantApi({
  'GET /api/v1/audit': operation<TenantContext, never, typeof ListAuditQuery>({
    scope: 'orch:read',
    query: ListAuditQuery,
    handle: async ({ ctx, query }) => ({
      status: 200,
      body: await ctx.runtime.auditLog.list(call(ctx), query),
    }),
  }),
  'POST /api/v1/audit/exports': operation<TenantContext, typeof CreateAuditExportBody>({
    scope: 'orch:operate',
    body: CreateAuditExportBody,
    handle: async ({ ctx, body }) => {
      const created = await ctx.runtime.auditExports.create(operatorCall(ctx), body);
      return { status: 201, body: created, headers: { Location: `/api/v1/audit/exports/${created.id}` } };
    },
  }),
  'GET /api/v1/audit/exports/{id}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.auditExports.get(call(ctx), params.id!),
    }),
  }),
  'GET /api/v1/audit/exports/{id}/files/{name}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => {
      const name = BundleFileName.safeParse(params.name);
      if (!name.success) throw new AppError('NOT_FOUND', `export file ${params.name} not found`);
      const file = await ctx.runtime.auditExports.file(call(ctx), params.id!, name.data);
      return {
        status: 200,
        text: file.content.toString('utf8'),
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Disposition': `attachment; filename="${name.data}"`,
          ETag: `"${file.digest}"`,
        },
      };
    },
  }),
  'GET /api/v1/runs/{id}/artifacts': operation<TenantContext, never, typeof ListRunArtifactsQuery>({
    scope: 'orch:read',
    query: ListRunArtifactsQuery,
    handle: async ({ ctx, params, query }) => ({
      status: 200,
      body: await ctx.runtime.artifacts.listForRun(call(ctx), params.id!, query),
    }),
  }),
  'GET /api/v1/artifacts/{digest}': operation<TenantContext>({
    scope: 'orch:read',
    handle: async ({ ctx, params }) => ({
      status: 200,
      body: await ctx.runtime.artifacts.byDigest(call(ctx), params.digest!),
    }),
  }),
});
