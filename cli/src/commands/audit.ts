import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Resource } from '../api/types.ts';
import { assignments, collectRepeated, type GlobalFlags } from '../context.ts';
import { EXIT, Unsuccessful, UsageError } from '../exit-codes.ts';
import { createOutput, keyValues } from '../output.ts';
import { action, type ListFlags, pageable, printList, printResource } from './shared.ts';

/**
 * Where `jobengine audit verify` finds the offline verifier of an audit export bundle: a module and the
 * function it exports, called as `verify(directory, { publicKeyFile })` and answering
 * `{ ok: boolean, ... }` (or throwing). It is loaded only when the command runs (no database, no network).
 * JOBENGINE_AUDIT_VERIFIER=<module>#<export> overrides it.
 */
export const AUDIT_VERIFIER = { module: '@jobengine/core', export: 'verifyBundleDirectory' };

const EXPORT_DONE = ['ready', 'completed', 'succeeded'];
const EXPORT_FAILED = ['failed', 'expired'];

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('the audit log: search, export, verify an export offline');

  pageable(audit.command('list').description('search audit entries'))
    .option(
      '--filter <key=value>',
      'a query parameter of GET /api/v1/audit (repeatable)',
      collectRepeated,
      [],
    )
    .action(
      action(async (ctx, flags: ListFlags & { filter: string[] }) => {
        const query = Object.fromEntries(flags.filter.map((pair) => splitPair(pair)));
        await printList(ctx, ctx.api.listAudit, query, flags);
      }),
    );

  audit
    .command('export')
    .description('start an export of the audit log; --wait for it, --out to download its files')
    .option(
      '--set <key=value>',
      'a field of the export request (repeatable), e.g. from=2026-01-01T00:00:00Z',
      collectRepeated,
      [],
    )
    .option('--wait', 'poll until the export is ready')
    .option('--out <dir>', 'download the files into this directory (implies --wait)')
    .action(
      action(async (ctx, flags: { set: string[]; wait?: boolean; out?: string }) => {
        let exported = await ctx.api.createAuditExport(assignments(flags.set), ctx.note);
        if (flags.wait || flags.out) {
          const deadline = Date.now() + 10 * 60_000;
          while (!EXPORT_DONE.includes(String(exported.status)) && Date.now() < deadline) {
            if (EXPORT_FAILED.includes(String(exported.status)))
              throw new Unsuccessful(`export ${exported.id} ${exported.status}`);
            await new Promise((r) => setTimeout(r, 1_000));
            exported = await ctx.api.getAuditExport(exported.id);
          }
        }
        if (flags.out) {
          const dir = resolve(flags.out);
          await mkdir(dir, { recursive: true });
          for (const name of fileNames(exported)) {
            await writeFile(join(dir, basename(name)), await ctx.api.downloadAuditFile(exported.id, name));
            if (!ctx.out.json) process.stderr.write(`downloaded ${join(dir, basename(name))}\n`);
          }
        }
        printResource(ctx, exported);
      }),
    );

  audit
    .command('verify')
    .description(
      'verify a downloaded export offline (hash chain and digests); exit 6 when it does not verify',
    )
    .argument('<dir>')
    .option(
      '--public-key <pem>',
      "the signer's public key (PEM file); without it the key in the bundle is used",
    )
    .action(async (dir: string, options: { publicKey?: string }, command: Command) => {
      const out = createOutput(command.optsWithGlobals<GlobalFlags>().json === true);
      const [module, name] = (
        process.env.JOBENGINE_AUDIT_VERIFIER ?? `${AUDIT_VERIFIER.module}#${AUDIT_VERIFIER.export}`
      ).split('#');
      let verify: unknown;
      try {
        verify = ((await import(module!)) as Record<string, unknown>)[name!];
      } catch {
        verify = undefined;
      }
      if (typeof verify !== 'function') {
        out.error(`audit verify is not available in this build (${module} has no ${name} function)`);
        process.exitCode = EXIT.NOT_AVAILABLE;
        return;
      }
      type Verify = (dir: string, options: { publicKeyFile?: string }) => Promise<Record<string, unknown>>;
      const result = await (verify as Verify)(resolve(dir), {
        ...(options.publicKey ? { publicKeyFile: resolve(options.publicKey) } : {}),
      });
      const summary = { ok: result.ok, trust: result.trust, keyId: result.keyId, problems: result.problems };
      out.result(summary, () => {
        out.line(result.ok ? `OK  ${dir}` : `BROKEN  ${dir}`);
        for (const line of keyValues(summary)) out.line(`  ${line}`);
      });
      if (result?.ok === false) throw new Unsuccessful(`the export in ${dir} does not verify`);
    });
}

function splitPair(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new UsageError(`'${pair}' is not key=value`);
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

/** The file names an export lists (`files: ["a.ndjson"]` or `files: [{name}]`). */
function fileNames(exported: Resource): string[] {
  const files = Array.isArray(exported.files) ? exported.files : [];
  return files
    .map((f: unknown) => (typeof f === 'string' ? f : ((f as { name?: string })?.name ?? '')))
    .filter((name: string) => name.length > 0);
}
