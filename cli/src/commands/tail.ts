import type { Command } from 'commander';
import { ApiError } from '../api/client.ts';
import type { StreamEvent } from '../api/types.ts';
import { positiveInt } from '../context.ts';
import { action } from './shared.ts';

interface TailFlags {
  run?: string;
  job?: string;
  jobType?: string;
  source?: string;
  types?: string;
  since?: string;
  max?: number;
}

/** `jobengine tail`: the tenant's event stream (SSE), filtered, until Ctrl-C or --max events. */
export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('follow the event stream live (reconnects, resuming where it left off)')
    .option('--run <id>', 'events of one run')
    .option('--job <id>', 'events of one job')
    .option('--job-type <type>')
    .option('--source <id>')
    .option('--types <list>', 'comma-separated event types, e.g. job.failed,run.succeeded')
    .option(
      '--since <position>',
      "start after this position ('0.0': every retained event); default: from now",
    )
    .option('--max <n>', 'stop after this many events', positiveInt)
    .action(
      action(async (ctx, flags: TailFlags) => {
        const query = {
          run_id: flags.run,
          job_id: flags.job,
          job_type: flags.jobType,
          source_id: flags.source,
          event_types: flags.types,
          since: flags.since,
        };
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        let position: string | undefined;
        let seen = 0;
        while (!abort.signal.aborted) {
          try {
            for await (const event of ctx.api.streamEvents(query, {
              lastEventId: position,
              signal: abort.signal,
              // on stderr even with --json: scripts read events on stdout and may wait for this line
              onOpen: () =>
                process.stderr.write(`following events of tenant ${ctx.api.options.tenant} (Ctrl-C stops)\n`),
            })) {
              position = event.position;
              ctx.out.line(ctx.out.json ? JSON.stringify(event) : describe(event));
              if (flags.max && ++seen >= flags.max) {
                abort.abort();
                break;
              }
            }
          } catch (error) {
            // Refusals (token, filters) do not get better by retrying; a dropped stream does.
            if (error instanceof ApiError && error.status !== undefined && error.status < 500) throw error;
            if (!ctx.out.json)
              process.stderr.write(`stream interrupted (${(error as Error).message}); reconnecting\n`);
          }
          if (!abort.signal.aborted) await new Promise((r) => setTimeout(r, 1_000));
        }
      }),
    );
}

function describe({ position, event }: StreamEvent): string {
  const data = event.subject.data ?? {};
  const detail = [
    data.key ?? data.name,
    data.status,
    typeof data.attempt === 'number' && data.attempt > 1 ? `attempt ${data.attempt}` : undefined,
    data.reason,
  ]
    .filter((v) => v !== undefined && v !== null && v !== '')
    .join(' ');
  return `${event.occurredAt}  ${position.padEnd(14)} ${event.eventType.padEnd(22)} ${event.subject.kind} ${event.subject.id}${detail ? `  ${detail}` : ''}`;
}
