import type { Command } from 'commander';
import { collect, type Query } from '../api/client.ts';
import type { Page } from '../api/types.ts';
import { type CommandContext, collectRepeated, contextOf, positiveInt } from '../context.ts';
import { type Column, genericColumns, keyValues, table } from '../output.ts';

export interface ListFlags {
  pageSize?: number;
  pageToken?: string;
  all?: boolean;
}

/** Adds the paging flags of every list command. */
export function pageable(command: Command): Command {
  return command
    .option('--page-size <n>', 'items per page (server default 50, max 500)', positiveInt)
    .option('--page-token <token>', 'continue from a previous page')
    .option('--all', 'follow next_page_token to the end (at most 10,000 items)');
}

/** Lists one page (or every page with --all) and prints a table, or the page as JSON. */
export async function printList<T>(
  ctx: CommandContext,
  list: (query: Query) => Promise<Page<T>>,
  query: Query,
  flags: ListFlags,
  columns?: readonly Column<T>[],
): Promise<void> {
  const full = { ...query, page_size: flags.pageSize };
  const page: Page<T> = flags.all
    ? { items: await collect(list, full, 10_000), next_page_token: null }
    : await list({ ...full, page_token: flags.pageToken });
  ctx.out.result(page, () => {
    if (page.items.length === 0) {
      ctx.out.line('(none)');
    } else {
      const cols = columns ?? (genericColumns(page.items as Record<string, unknown>[]) as Column<T>[]);
      for (const line of table(page.items, cols)) ctx.out.line(line);
    }
    if (page.next_page_token) ctx.out.line(`\nmore: --page-token ${page.next_page_token}`);
  });
}

/** Prints one resource: key/value lines, or JSON. */
export function printResource(ctx: CommandContext, value: unknown): void {
  ctx.out.result(value, () => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const line of keyValues(value as Record<string, unknown>)) ctx.out.line(line);
    } else if (value !== undefined) ctx.out.line(JSON.stringify(value, null, 2));
    else ctx.out.line('done');
  });
}

/**
 * The common action shape: build the context from the command's flags, then run. Commander passes the
 * positional arguments, the command's options, and the command itself last.
 */
export function action<A extends unknown[]>(
  run: (ctx: CommandContext, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const ctx = await contextOf(command);
    await run(ctx, ...(args.slice(0, -1) as A));
  };
}

export interface BodyFlags {
  file?: string;
  set: string[];
}

/** Adds `--file` (JSON or YAML) and `--set key=value` for a command that sends a request body. */
export function bodyCommand(command: Command, what: string): Command {
  return command
    .option('-f, --file <path>', `the ${what} as JSON or YAML ('-' for stdin)`)
    .option(
      '--set <key=value>',
      'a field, dots nest, values parse as JSON when they can (repeatable)',
      collectRepeated,
      [],
    );
}
