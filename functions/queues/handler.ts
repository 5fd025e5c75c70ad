import {
  AppError,
  NotFoundError,
  operation,
  operatorCall,
  REDRIVABLE_QUEUES,
  RedriveBody,
  type TenantContext,
  tenantApi,
} from '@jobengine/core';

/**
 * Infrastructure queues: `POST /api/v1/queues/{name}:redrive` moves the `plan` or `fanout` dead-letter
 * queue's messages back to the work queue (ADR 0013). The queues serve every tenant, so only a platform
 * operator (a token granting every tenant) may redrive them; the reason is required and, with the ticket,
 * lands in the audit log of the tenant the request names.
 */
export const handler = tenantApi({
  'POST /api/v1/queues/{name}:redrive': operation<TenantContext, typeof RedriveBody>({
    scope: 'orch:operate',
    body: RedriveBody,
    handle: async ({ ctx, body, params }) => {
      const name = params.name!;
      if (!(REDRIVABLE_QUEUES as readonly string[]).includes(name)) {
        throw new NotFoundError('queue', `'${name}' (redrivable: ${REDRIVABLE_QUEUES.join(', ')})`);
      }
      if (ctx.principal.tenants !== '*') {
        throw new AppError(
          'FORBIDDEN',
          'the infrastructure queues serve every tenant: redriving them needs a token that grants all tenants',
        );
      }
      const call = operatorCall(ctx, { reasonRequired: true });
      return { status: 200, body: await ctx.runtime.queues.redrive(call, name, body) };
    },
  }),
});
