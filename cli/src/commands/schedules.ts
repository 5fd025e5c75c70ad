import type { Command } from 'commander';
import { bodyFrom, positiveInt } from '../context.ts';
import {
  action,
  type BodyFlags,
  bodyCommand,
  type ListFlags,
  pageable,
  printList,
  printResource,
} from './shared.ts';

export function registerSchedules(program: Command): void {
  const schedules = program
    .command('schedules')
    .description('cron schedules: list, create, update, pause, resume, next');
  pageable(schedules.command('list')).action(
    action(async (ctx, flags: ListFlags) => printList(ctx, ctx.api.listSchedules, {}, flags)),
  );
  schedules
    .command('get')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.getSchedule(id))));
  bodyCommand(
    schedules.command('create').description('create a schedule (cron, timezone, run template)'),
    'schedule',
  ).action(
    action(async (ctx, flags: BodyFlags) =>
      printResource(ctx, await ctx.api.createSchedule(await bodyFrom(flags, 'schedule'), ctx.note)),
    ),
  );
  bodyCommand(schedules.command('update').argument('<id>'), 'change').action(
    action(async (ctx, id: string, flags: BodyFlags) =>
      printResource(ctx, await ctx.api.updateSchedule(id, await bodyFrom(flags, 'change'), ctx.note)),
    ),
  );
  schedules
    .command('delete')
    .argument('<id>')
    .action(
      action(async (ctx, id: string) => printResource(ctx, await ctx.api.deleteSchedule(id, ctx.note))),
    );
  schedules
    .command('pause')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.pauseSchedule(id, ctx.note))));
  schedules
    .command('resume')
    .argument('<id>')
    .action(
      action(async (ctx, id: string) => printResource(ctx, await ctx.api.resumeSchedule(id, ctx.note))),
    );
  schedules
    .command('next')
    .description('the next fire times')
    .argument('<id>')
    .option('--count <n>', 'how many', positiveInt, 5)
    .action(
      action(async (ctx, id: string, flags: { count: number }) =>
        printResource(ctx, await ctx.api.nextFires(id, flags.count)),
      ),
    );
}
