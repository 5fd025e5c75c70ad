import type { Command } from 'commander';
import { positiveInt } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import { action, printResource } from './shared.ts';

export function registerQueues(program: Command): void {
  const queues = program.command('queues').description('the plan and fanout queues');
  queues
    .command('redrive')
    .description("move messages from a queue's dead-letter queue back to it")
    .argument('<queue>', 'plan | fanout')
    .option('--max <n>', 'at most this many messages', positiveInt)
    .option('--dry-run', 'only count what would move')
    .action(
      action(async (ctx, queue: string, flags: { max?: number; dryRun?: boolean }) => {
        if (queue !== 'plan' && queue !== 'fanout')
          throw new UsageError(`unknown queue '${queue}' (plan or fanout)`);
        const body = { ...(flags.max ? { maxMessages: flags.max } : {}), dryRun: flags.dryRun === true };
        printResource(ctx, await ctx.api.redrive(queue, body, ctx.note));
      }),
    );
}
