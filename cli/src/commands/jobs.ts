import type { Command } from 'commander';
import type { Job, JobHistoryEntry } from '../api/types.ts';
import type { Column } from '../output.ts';
import { action, type ListFlags, pageable, printList, printResource } from './shared.ts';

const COLUMNS: Column<Job>[] = [
  ['id', (j) => j.id],
  ['key', (j) => j.key],
  ['type', (j) => j.type],
  ['status', (j) => j.status],
  ['attempt', (j) => `${j.attempt}/${j.maxAttempts}`],
  ['run', (j) => j.runId],
  ['error', (j) => j.lastError?.errorCode ?? ''],
];

const HISTORY: Column<JobHistoryEntry>[] = [
  ['at', (h) => h.at],
  ['attempt', (h) => h.attempt],
  ['from', (h) => h.from],
  ['to', (h) => h.to],
  ['transition', (h) => h.transition],
  ['actor', (h) => h.actor],
  ['reason', (h) => h.reason ?? ''],
];

export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('jobs: list, get, history, explain, cancel, retry');

  pageable(jobs.command('list').description('list jobs (creation order)'))
    .option(
      '--status <status>',
      'pending | queued | throttled | leased | running | succeeded | failed | canceled | dead_lettered',
    )
    .option('--type <type>')
    .option('--run <id>')
    .option('--source <id>')
    .action(
      action(
        async (ctx, flags: ListFlags & { status?: string; type?: string; run?: string; source?: string }) => {
          const query = {
            status: flags.status,
            type: flags.type,
            run_id: flags.run,
            source_id: flags.source,
          };
          await printList(ctx, ctx.api.listJobs, query, flags, COLUMNS);
        },
      ),
    );

  jobs
    .command('get')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.getJob(id))));

  pageable(
    jobs.command('history').description('every transition of the job, in order').argument('<id>'),
  ).action(
    action(async (ctx, id: string, flags: ListFlags) => {
      await printList(ctx, (query) => ctx.api.jobHistory(id, query), {}, flags, HISTORY);
    }),
  );

  jobs
    .command('explain')
    .description('why the job is where it is (quotas, buckets, throttles, circuits, parents)')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.explainJob(id))));

  jobs
    .command('cancel')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.cancelJob(id, ctx.note))));

  jobs
    .command('retry')
    .description('retry a failed job')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.retryJob(id, ctx.note))));
}
