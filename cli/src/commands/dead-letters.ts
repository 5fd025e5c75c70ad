import type { Command } from 'commander';
import type { DeadLetter } from '../api/types.ts';
import { positiveInt } from '../context.ts';
import { UsageError } from '../exit-codes.ts';
import type { Column } from '../output.ts';
import { action, type ListFlags, pageable, printList, printResource } from './shared.ts';

const COLUMNS: Column<DeadLetter>[] = [
  ['id', (d) => d.id],
  ['job type', (d) => d.jobType],
  ['error', (d) => d.errorCode],
  ['attempts', (d) => d.attempts],
  ['status', (d) => d.status],
  ['last failure', (d) => d.lastFailureAt],
  ['message', (d) => d.message ?? ''],
];

interface ReplayFlags {
  dryRun?: boolean;
  jobType?: string;
  errorCode?: string;
  source?: string;
  before?: string;
  limit?: number;
  priority?: number;
}

export function registerDeadLetters(program: Command): void {
  const dl = program
    .command('deadletters')
    .alias('dlq')
    .description('dead letters: list, stats, replay (one or by filter, with --dry-run), discard');

  pageable(dl.command('list').description('list dead letters (creation order)'))
    .option('--status <status>', 'open | replayed | discarded')
    .option('--job-type <type>')
    .option('--error-code <code>')
    .option('--source <id>')
    .action(
      action(
        async (
          ctx,
          flags: ListFlags & { status?: string; jobType?: string; errorCode?: string; source?: string },
        ) => {
          const query = {
            status: flags.status,
            job_type: flags.jobType,
            error_code: flags.errorCode,
            source_id: flags.source,
          };
          await printList(ctx, ctx.api.listDeadLetters, query, flags, COLUMNS);
        },
      ),
    );

  dl.command('get')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.getDeadLetter(id))));

  dl.command('stats')
    .description('counts by status, the oldest open one, the top error codes')
    .action(action(async (ctx) => printResource(ctx, await ctx.api.deadLetterStats())));

  dl.command('replay')
    .description('replay one dead letter by id, or every open one matching the filters (a new job each)')
    .argument('[id]')
    .option('--dry-run', 'with filters: only show what would be replayed')
    .option('--job-type <type>')
    .option('--error-code <code>')
    .option('--source <id>')
    .option('--before <timestamp>', 'created before (ISO-8601)')
    .option('--limit <n>', 'at most this many (1..1000, default 100)', positiveInt)
    .option('--priority <n>', 'priority of the new jobs', Number)
    .action(
      action(async (ctx, id: string | undefined, flags: ReplayFlags) => {
        const filtered = flags.jobType || flags.errorCode || flags.source || flags.before;
        if (id) {
          if (filtered || flags.dryRun) throw new UsageError('replay <id> takes no filters and no --dry-run');
          printResource(ctx, await ctx.api.replayDeadLetter(id, ctx.note));
          return;
        }
        if (!filtered && !flags.dryRun) {
          throw new UsageError(
            'replay needs an <id>, filters (--job-type, --error-code, --source, --before) or --dry-run',
          );
        }
        const filter = {
          ...(flags.jobType ? { jobType: flags.jobType } : {}),
          ...(flags.errorCode ? { errorCode: flags.errorCode } : {}),
          ...(flags.source ? { sourceId: flags.source } : {}),
          ...(flags.before ? { createdBefore: flags.before } : {}),
        };
        const result = await ctx.api.replayDeadLetters(
          {
            filter,
            dryRun: flags.dryRun === true,
            ...(flags.limit ? { limit: flags.limit } : {}),
            ...(flags.priority !== undefined ? { priority: flags.priority } : {}),
          },
          ctx.note,
        );
        printResource(ctx, result);
      }),
    );

  dl.command('discard')
    .argument('<id>')
    .action(
      action(async (ctx, id: string) => printResource(ctx, await ctx.api.discardDeadLetter(id, ctx.note))),
    );
}
