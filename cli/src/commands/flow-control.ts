import type { Command } from 'commander';
import { bodyFrom, collectRepeated } from '../context.ts';
import {
  action,
  type BodyFlags,
  bodyCommand,
  type ListFlags,
  pageable,
  printList,
  printResource,
} from './shared.ts';

/** Quotas, buckets, throttles, circuits and incidents (the flow-control API). */
export function registerFlowControl(program: Command): void {
  const quotas = program
    .command('quotas')
    .description('quotas per job type: list, create, update, pause, resume');
  pageable(quotas.command('list')).action(
    action(async (ctx, flags: ListFlags) => printList(ctx, ctx.api.listQuotas, {}, flags)),
  );
  quotas
    .command('summary')
    .description('usage against every quota')
    .action(action(async (ctx) => printResource(ctx, await ctx.api.quotaSummary())));
  quotas
    .command('get')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.getQuota(id))));
  bodyCommand(quotas.command('create').description('create a quota (--reason required)'), 'quota').action(
    action(async (ctx, flags: BodyFlags) =>
      printResource(ctx, await ctx.api.createQuota(await bodyFrom(flags, 'request body'), ctx.note)),
    ),
  );
  bodyCommand(
    quotas.command('update').argument('<id>').description('change a quota (--reason required)'),
    'change',
  ).action(
    action(async (ctx, id: string, flags: BodyFlags) =>
      printResource(ctx, await ctx.api.updateQuota(id, await bodyFrom(flags, 'request body'), ctx.note)),
    ),
  );
  quotas
    .command('delete')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.deleteQuota(id, ctx.note))));
  quotas
    .command('pause')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.pauseQuota(id, ctx.note))));
  quotas
    .command('resume')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.resumeQuota(id, ctx.note))));

  const buckets = program.command('buckets').description('token buckets per upstream host');
  pageable(buckets.command('list')).action(
    action(async (ctx, flags: ListFlags) => printList(ctx, ctx.api.listBuckets, {}, flags)),
  );
  bodyCommand(buckets.command('create'), 'bucket').action(
    action(async (ctx, flags: BodyFlags) =>
      printResource(ctx, await ctx.api.createBucket(await bodyFrom(flags, 'request body'), ctx.note)),
    ),
  );

  const throttles = program.command('throttles').description('temporary restrictions: list, create, lift');
  pageable(throttles.command('list')).action(
    action(async (ctx, flags: ListFlags) => printList(ctx, ctx.api.listThrottles, {}, flags)),
  );
  bodyCommand(throttles.command('create'), 'throttle').action(
    action(async (ctx, flags: BodyFlags) =>
      printResource(ctx, await ctx.api.createThrottle(await bodyFrom(flags, 'request body'), ctx.note)),
    ),
  );
  throttles
    .command('lift')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.liftThrottle(id, ctx.note))));

  pageable(program.command('circuits').description('circuit state per source')).action(
    action(async (ctx, flags: ListFlags) => printList(ctx, ctx.api.listCircuits, {}, flags)),
  );
  pageable(program.command('incidents').description('raised incidents'))
    .option('--filter <key=value>', 'a query parameter (repeatable)', collectRepeated, [])
    .action(
      action(async (ctx, flags: ListFlags & { filter: string[] }) =>
        printList(
          ctx,
          ctx.api.listIncidents,
          Object.fromEntries(flags.filter.map((f) => f.split('=', 2))),
          flags,
        ),
      ),
    );
}
