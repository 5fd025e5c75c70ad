import { Command, CommanderError, Option } from 'commander';
import { ApiError } from './api/client.ts';
import { registerAudit } from './commands/audit.ts';
import { registerBackfills } from './commands/backfills.ts';
import { registerConfig } from './commands/config.ts';
import { registerDeadLetters } from './commands/dead-letters.ts';
import { registerFlowControl } from './commands/flow-control.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerQueues } from './commands/queues.ts';
import { registerRuns } from './commands/runs.ts';
import { registerSchedules } from './commands/schedules.ts';
import { registerSources } from './commands/sources.ts';
import { registerTail } from './commands/tail.ts';
import { EXIT, exitCodeOf } from './exit-codes.ts';

export const EXIT_CODES_HELP = `
Exit codes:
  0  ok
  1  usage: bad flags or arguments, missing configuration, unreadable input
  2  the API refused the request (4xx: validation, not found, conflict)
  3  the server failed or did not answer (5xx, connection refused, timeout)
  4  authentication or authorization refused (401, 403)
  5  this server does not have the route (not available on this server)
  6  a watched run or backfill ended unsuccessfully, or a verification failed

Settings: --endpoint/--token/--tenant/--project, else JOBENGINE_ENDPOINT (or JOBENGINE_URL),
JOBENGINE_TOKEN, JOBENGINE_TENANT, JOBENGINE_PROJECT, else \`jobengine config set\`.`;

export function buildProgram(): Command {
  const program = new Command('jobengine')
    .description(
      'Operate JobEngine from the command line: sources, runs, jobs, dead letters, flow control, schedules, backfills, audit, live events.',
    )
    .version('0.1.0')
    .option('--endpoint <url>', 'control plane origin (default http://127.0.0.1:3000)')
    .option('--token <jwt>', 'bearer token')
    .option('--tenant <tenant>', 'X-Stella-Tenant (default demo)')
    .option('--project <project>', 'X-Stella-Project')
    .option('--json', 'machine-readable output: one JSON document (tail: one JSON line per event)')
    .addOption(
      new Option('--reason <text>', 'operator reason recorded with a change (X-Stella-Operator-Reason)'),
    )
    .addOption(
      new Option('--ticket <id>', 'operator ticket recorded with a change (X-Stella-Operator-Ticket)'),
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerConfig(program);
  registerSources(program);
  registerRuns(program);
  registerJobs(program);
  registerDeadLetters(program);
  registerFlowControl(program);
  registerSchedules(program);
  registerBackfills(program);
  registerAudit(program);
  registerTail(program);
  registerQueues(program);
  // Subcommands inherit the exit override, so a usage error anywhere comes back as a CommanderError.
  for (const command of allCommands(program)) command.exitOverride();
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

/** Runs the CLI; answers the exit code (docs/cli.md) instead of exiting, so tests can call it. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with a CommanderError too, with exit code 0.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    const code = exitCodeOf(error);
    if (json && error instanceof ApiError)
      process.stderr.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
    else process.stderr.write(`${describeError(error)}\n`);
    return code;
  }
}

function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const lines = [`error: ${error.route} → ${error.status ?? 'no answer'} ${error.code}: ${error.message}`];
    for (const detail of error.details ?? []) lines.push(`  ${detail.path}: ${detail.message}`);
    if (error.traceId) lines.push(`  trace_id ${error.traceId}`);
    if (error.status === 401)
      lines.push('  The token was refused: `npm start` prints a development token (valid 30 days).');
    if (error.status === 403) lines.push('  The token does not grant this tenant or scope (--tenant).');
    if (error.code === 'NOT_AVAILABLE')
      lines.push('  This server does not offer this feature (its OpenAPI document does not list the route).');
    return lines.join('\n');
  }
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
