import type { Command } from 'commander';
import type { Source } from '../api/types.ts';
import { assignments, collectRepeated } from '../context.ts';
import type { Column } from '../output.ts';
import { action, type ListFlags, pageable, printList, printResource } from './shared.ts';

const COLUMNS: Column<Source>[] = [
  ['id', (s) => s.id],
  ['name', (s) => s.name],
  ['type', (s) => s.type],
  ['upstream', (s) => s.upstreamHost],
  ['enabled', (s) => s.enabled],
  ['paused', (s) => (s.paused ? `yes (${s.pauseReason ?? 'no reason'})` : 'no')],
  ['circuit', (s) => s.circuit.state],
];

export function registerSources(program: Command): void {
  const sources = program.command('sources').description('upstream sources: list, create, update, pause');

  pageable(sources.command('list').description('list sources (creation order)'))
    .option('--type <type>')
    .option('--upstream-host <host>')
    .option('--paused <bool>', 'true | false')
    .option('--enabled <bool>', 'true | false')
    .action(
      action(
        async (
          ctx,
          flags: ListFlags & { type?: string; upstreamHost?: string; paused?: string; enabled?: string },
        ) => {
          const query = {
            type: flags.type,
            upstream_host: flags.upstreamHost,
            paused: flags.paused,
            enabled: flags.enabled,
          };
          await printList(ctx, ctx.api.listSources, query, flags, COLUMNS);
        },
      ),
    );

  sources
    .command('get')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.getSource(id))));

  sources
    .command('create')
    .description('create a source')
    .requiredOption('--name <name>')
    .requiredOption('--type <type>', 'e.g. nvd, osv')
    .requiredOption('--upstream-host <host>', 'the host its jobs call (the rate-limit key)')
    .option('--project-id <project>', 'the project the source belongs to')
    .option('--config <key=value>', 'a config entry (repeatable)', collectRepeated, [])
    .option('--disabled', 'create it disabled')
    .action(
      action(
        async (
          ctx,
          flags: {
            name: string;
            type: string;
            upstreamHost: string;
            projectId?: string;
            config: string[];
            disabled?: boolean;
          },
        ) => {
          const source = await ctx.api.createSource(
            {
              name: flags.name,
              type: flags.type,
              upstreamHost: flags.upstreamHost,
              ...(flags.projectId ? { projectId: flags.projectId } : {}),
              config: assignments(flags.config),
              enabled: !flags.disabled,
            },
            ctx.note,
          );
          printResource(ctx, source);
        },
      ),
    );

  sources
    .command('update')
    .description('change fields of a source (PATCH)')
    .argument('<id>')
    .option(
      '--set <key=value>',
      'a field (repeatable): name, upstreamHost, projectId, config.<k>, enabled',
      collectRepeated,
      [],
    )
    .option('--if-match <version>', 'only if the source is still at this version')
    .action(
      action(async (ctx, id: string, flags: { set: string[]; ifMatch?: string }) => {
        const patch = assignments(flags.set);
        const ifMatch = flags.ifMatch ? `"${flags.ifMatch}"` : undefined;
        printResource(ctx, await ctx.api.updateSource(id, patch, ctx.note, ifMatch));
      }),
    );

  sources
    .command('pause')
    .description("stop leasing the source's jobs (--reason recorded)")
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.pauseSource(id, ctx.note))));

  sources
    .command('resume')
    .argument('<id>')
    .action(action(async (ctx, id: string) => printResource(ctx, await ctx.api.resumeSource(id, ctx.note))));
}
