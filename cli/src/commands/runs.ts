import type { Command } from 'commander';
import { ApiError } from '../api/client.ts';
import { type CreateRun, type Dag, JOB_TERMINAL, RUN_TERMINAL, type Run } from '../api/types.ts';
import { assignments, type CommandContext, collectRepeated, positiveInt, readDocument } from '../context.ts';
import { Unsuccessful, UsageError } from '../exit-codes.ts';
import { type Column, LiveBlock, progressBar } from '../output.ts';
import { action, type ListFlags, pageable, printList, printResource } from './shared.ts';

const COLUMNS: Column<Run>[] = [
  ['id', (r) => r.id],
  ['kind', (r) => r.kind],
  ['status', (r) => r.status],
  ['jobs', (r) => `${r.jobs.succeeded}/${r.jobs.total}`],
  ['failed', (r) => r.jobs.failed],
  ['created', (r) => r.createdAt],
  ['labels', (r) => (Object.keys(r.labels).length ? r.labels : '')],
];

export function registerRuns(program: Command): void {
  const runs = program.command('runs').description('DAG runs: submit, list, watch live, cancel');

  runs
    .command('submit')
    .description('submit a DAG from a YAML or JSON file (the body of POST /api/v1/runs, or a list of jobs)')
    .argument('<file>', "path, or '-' for stdin")
    .option('--priority <n>', 'run priority -100..100', Number)
    .option('--source <id>', 'source of every job')
    .option('--label <key=value>', 'a label (repeatable)', collectRepeated, [])
    .option('-w, --watch', 'then watch it live until it ends (exit 6 unless it succeeds)')
    .option('--timeout <seconds>', 'with --watch: give up after this long', positiveInt)
    .action(
      action(
        async (
          ctx,
          file: string,
          flags: { priority?: number; source?: string; label: string[]; watch?: boolean; timeout?: number },
        ) => {
          const body = runBody(await readDocument(file), file);
          if (flags.priority !== undefined) body.priority = flags.priority;
          if (flags.source) body.sourceId = flags.source;
          if (flags.label.length) body.labels = { ...body.labels, ...stringValues(assignments(flags.label)) };
          const run = await ctx.api.submitRun(body, ctx.note);
          if (!flags.watch) {
            ctx.out.result(run, () =>
              ctx.out.line(`run ${run.id} submitted (${body.jobs.length} jobs, ${run.status})`),
            );
            return;
          }
          if (!ctx.out.json) ctx.out.line(`run ${run.id} submitted (${body.jobs.length} jobs)`);
          await watchRun(ctx, run.id, flags.timeout);
        },
      ),
    );

  pageable(runs.command('list').description('list runs (creation order)'))
    .option('--status <status>', 'planning | running | succeeded | failed | canceled')
    .option('--kind <kind>', 'adhoc | scheduled | backfill | pack_run | replay')
    .option('--source <id>')
    .action(
      action(async (ctx, flags: ListFlags & { status?: string; kind?: string; source?: string }) => {
        await printList(
          ctx,
          ctx.api.listRuns,
          { status: flags.status, kind: flags.kind, source_id: flags.source },
          flags,
          COLUMNS,
        );
      }),
    );

  runs
    .command('get')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.getRun(id))));

  runs
    .command('dag')
    .description('jobs in topological order with states, and the critical path')
    .argument('<id>')
    .action(
      action(async (ctx, id: string) => {
        const dag = await ctx.api.runDag(id);
        ctx.out.result(dag, () => {
          for (const line of renderDag(dag, Date.now())) ctx.out.line(line);
        });
      }),
    );

  runs
    .command('watch')
    .description('follow a run live (event stream) with progress until it ends; exit 6 unless it succeeds')
    .argument('<id>')
    .option('--timeout <seconds>', 'give up after this long', positiveInt)
    .action(
      action(async (ctx, id: string, flags: { timeout?: number }) => {
        await watchRun(ctx, id, flags.timeout);
      }),
    );

  runs
    .command('cancel')
    .description('cancel every unfinished job of the run (--reason recorded)')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.cancelRun(id, ctx.note))));
}

function runBody(document: unknown, file: string): CreateRun {
  if (Array.isArray(document)) return { jobs: document as CreateRun['jobs'] };
  if (document && typeof document === 'object' && Array.isArray((document as CreateRun).jobs)) {
    return document as CreateRun;
  }
  throw new UsageError(`${file} must hold a run ({jobs: [...], ...}) or a list of jobs`);
}

function stringValues(record: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
}

const SYMBOL: Record<string, string> = {
  pending: '·',
  queued: '○',
  throttled: '⏸',
  leased: '◔',
  running: '◑',
  succeeded: '✓',
  failed: '✗',
  canceled: '⊘',
  dead_lettered: '☠',
};

/** The lines of a run's picture: status, progress bar, state counts, critical path, and the jobs. */
export function renderDag(dag: Dag, now: number): string[] {
  const { run, jobs } = dag;
  const started = Date.parse(run.startedAt ?? run.createdAt);
  const ended = run.finishedAt ? Date.parse(run.finishedAt) : now;
  const done = jobs.filter((j) => (JOB_TERMINAL as readonly string[]).includes(j.status)).length;
  const counts = new Map<string, number>();
  for (const job of jobs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  const lines = [
    `run ${run.id}  ${run.status}  ${((ended - started) / 1000).toFixed(1)}s`,
    `${progressBar(done, jobs.length || run.jobs.total)}  ${[...counts].map(([s, n]) => `${s} ${n}`).join(' · ')}`,
  ];
  if (dag.criticalPath.length) lines.push(`critical path: ${dag.criticalPath.join(' → ')}`);
  if (jobs.length <= 30) {
    for (const job of jobs) {
      const attempt = job.attempt > 1 ? `  attempt ${job.attempt}` : '';
      lines.push(
        `  ${SYMBOL[job.status] ?? '?'} ${job.onCriticalPath ? '*' : ' '} ${job.key.padEnd(24)} ${job.type.padEnd(20)} ${job.status}${attempt}`,
      );
    }
  }
  return lines;
}

/**
 * Follows a run until it ends: the event stream (filtered to the run) says when something changed, the
 * DAG view says what the run looks like then. A quiet stream still refreshes every 3 s, so a dropped
 * connection costs latency, never the end of the run.
 */
export async function watchRun(ctx: CommandContext, runId: string, timeoutSeconds?: number): Promise<Run> {
  const abort = new AbortController();
  const deadline = timeoutSeconds ? Date.now() + timeoutSeconds * 1000 : Number.POSITIVE_INFINITY;
  let changed = true;
  let wake: (() => void) | undefined;
  let fatal: unknown;
  let position: string | undefined;
  const stream = (async () => {
    while (!abort.signal.aborted) {
      try {
        for await (const event of ctx.api.streamEvents(
          { run_id: runId },
          { lastEventId: position, signal: abort.signal },
        )) {
          position = event.position;
          changed = true;
          wake?.();
        }
      } catch (error) {
        if (error instanceof ApiError && error.status !== undefined && error.status < 500) {
          fatal = error;
          wake?.();
          return;
        }
      }
      if (!abort.signal.aborted) await sleep(1_000, abort.signal);
    }
  })();
  const live = new LiveBlock(ctx.out);
  let lastFetch = 0;
  let endedAt: number | undefined;
  let dag: Dag | undefined;
  try {
    for (;;) {
      if (fatal) throw fatal;
      const now = Date.now();
      if (changed || now - lastFetch > 3_000) {
        changed = false;
        lastFetch = now;
        dag = await ctx.api.runDag(runId);
        if (!ctx.out.json) live.draw(renderDag(dag, Date.now()));
        if ((RUN_TERMINAL as readonly string[]).includes(dag.run.status)) {
          endedAt ??= now;
          const settled = dag.jobs.every((j) => (JOB_TERMINAL as readonly string[]).includes(j.status));
          if (settled || now - endedAt > 2_000) break;
        }
      }
      if (now > deadline)
        throw new Unsuccessful(`run ${runId} is still ${dag?.run.status} after ${timeoutSeconds}s`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  } finally {
    abort.abort();
    await stream;
  }
  const run = dag!.run;
  if (ctx.out.json) ctx.out.result({ run, jobs: dag!.jobs, criticalPath: dag!.criticalPath }, () => {});
  if (run.status !== 'succeeded') throw new Unsuccessful(`run ${run.id} ended ${run.status}`);
  return run;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
