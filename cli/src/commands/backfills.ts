import type { Command } from 'commander';
import { backfillProgress } from '../api/progress.ts';
import { bodyFrom, type CommandContext, positiveInt } from '../context.ts';
import { Unsuccessful, UsageError } from '../exit-codes.ts';
import { LiveBlock, progressBar } from '../output.ts';
import {
  action,
  type BodyFlags,
  bodyCommand,
  type ListFlags,
  pageable,
  printList,
  printResource,
} from './shared.ts';

const ENDED_WELL = ['succeeded', 'completed'];
const ENDED_BADLY = ['failed', 'canceled', 'cancelled'];

export function registerBackfills(program: Command): void {
  const backfills = program
    .command('backfills')
    .description('historical windows in chunks: plan (dry run), start, watch, pause, resume, cancel');

  const create = (dryRun: boolean) =>
    action(async (ctx, flags: BodyFlags & { watch?: boolean; interval?: number; dryRun?: boolean }) => {
      requireNote(ctx);
      const planOnly = dryRun || flags.dryRun === true;
      const body = { ...(await bodyFrom(flags, 'backfill')), dryRun: planOnly };
      const backfill = await ctx.api.createBackfill(body, ctx.note);
      if (planOnly || !flags.watch) {
        printResource(ctx, backfill);
        return;
      }
      await watchBackfill(ctx, backfill.id, flags.interval ?? 1);
    });

  bodyCommand(
    backfills
      .command('plan')
      .description('dry run: the chunks and budget a backfill would use (nothing is created)'),
    'backfill (source, window, chunking)',
  )
    .option('--dry-run', 'the default of plan; accepted for symmetry with start --dry-run')
    .action(create(true));
  bodyCommand(backfills.command('start').description('create and start a backfill'), 'backfill')
    .option('--dry-run', 'only plan it (same as `backfills plan`)')
    .option('-w, --watch', 'then watch its progress until it ends')
    .option('--interval <seconds>', 'with --watch: refresh period', positiveInt)
    .action(create(false));
  pageable(backfills.command('list')).action(
    action(async (ctx, flags: ListFlags) => printList(ctx, ctx.api.listBackfills, {}, flags)),
  );
  backfills
    .command('get')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.getBackfill(id))));
  backfills
    .command('watch')
    .description('a progress bar until the backfill ends (exit 6 unless it succeeds)')
    .argument('<id>')
    .option('--interval <seconds>', 'refresh period', positiveInt, 1)
    .action(
      action(async (ctx, id: string, flags: { interval: number }) => watchBackfill(ctx, id, flags.interval)),
    );
  for (const verb of ['pause', 'resume', 'cancel'] as const) {
    backfills
      .command(verb)
      .argument('<id>')
      .action(
        action(async (ctx, id: string) => {
          requireNote(ctx);
          printResource(ctx, await ctx.api.backfillAction(id, verb, ctx.note));
        }),
      );
  }
}

/** Every backfill mutation (plan, start, pause, resume, cancel) needs both notes (the `backfill` rule set). */
function requireNote(ctx: CommandContext): void {
  if (!ctx.note.reason || !ctx.note.ticket) throw new UsageError('backfills need --reason and --ticket');
}

async function watchBackfill(ctx: CommandContext, id: string, intervalSeconds: number): Promise<void> {
  const live = new LiveBlock(ctx.out);
  for (;;) {
    const backfill = await ctx.api.getBackfill(id);
    const status = String(backfill.status ?? 'unknown');
    const progress = backfillProgress(backfill);
    if (!ctx.out.json) {
      live.draw([
        `backfill ${id}  ${status}`,
        progress ? progressBar(progress.done, progress.total) : '(no progress reported yet)',
      ]);
    }
    if (ENDED_WELL.includes(status) || ENDED_BADLY.includes(status)) {
      if (ctx.out.json) ctx.out.result(backfill, () => {});
      if (ENDED_BADLY.includes(status)) throw new Unsuccessful(`backfill ${id} ended ${status}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalSeconds * 1000));
  }
}
