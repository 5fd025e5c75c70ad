import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { JobEngineApi } from './api/client.ts';
import type { OperatorNote } from './api/types.ts';
import { configPath, readConfigFile, resolveSetting } from './config.ts';
import { UsageError } from './exit-codes.ts';
import { createOutput, type Output } from './output.ts';

/** The global flags every command accepts (program-level options). */
export interface GlobalFlags {
  endpoint?: string;
  token?: string;
  tenant?: string;
  project?: string;
  json?: boolean;
  reason?: string;
  ticket?: string;
}

export interface CommandContext {
  api: JobEngineApi;
  out: Output;
  note: OperatorNote;
  flags: GlobalFlags;
}

/** Builds the client from flags, environment and config file; a missing token is a usage error. */
export async function contextOf(command: Command): Promise<CommandContext> {
  const flags = command.optsWithGlobals<GlobalFlags>();
  const file = await readConfigFile(configPath());
  const endpoint = resolveSetting('endpoint', flags.endpoint, file).value!;
  const token = resolveSetting('token', flags.token, file).value;
  const tenant = resolveSetting('tenant', flags.tenant, file).value!;
  const project = resolveSetting('project', flags.project, file).value;
  if (!token) {
    throw new UsageError(
      'no token: pass --token, set JOBENGINE_TOKEN, or run `jobengine config set token <token>` ' +
        '(`npm start` prints a development token)',
    );
  }
  if (!/^https?:\/\/[^/]+/.test(endpoint))
    throw new UsageError(`the endpoint '${endpoint}' is not an http(s) URL`);
  return {
    api: new JobEngineApi({ endpoint, token, tenant, project }),
    out: createOutput(flags.json === true),
    note: { reason: flags.reason, ticket: flags.ticket },
    flags,
  };
}

/** Reads a JSON or YAML document from a file, or from stdin for `-`. */
export async function readDocument(path: string): Promise<unknown> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path} is neither JSON nor YAML: ${(error as Error).message}`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `key=value` pairs (repeatable) → an object; values that parse as JSON are taken as JSON, dots nest. */
export function assignments(
  pairs: readonly string[],
  into: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`'${pair}' is not key=value`);
    const path = pair.slice(0, eq).split('.');
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    let target = into;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[path.at(-1)!] = value;
  }
  return into;
}

/** A request body from `--file` and `--set` (the pairs win); a usage error when both are absent. */
export async function bodyFrom(options: { file?: string; set?: string[] }, what: string) {
  if (!options.file && !options.set?.length)
    throw new UsageError(`give the ${what} with --file <path> or --set key=value`);
  const base = options.file ? await readDocument(options.file) : {};
  if (base === null || typeof base !== 'object' || Array.isArray(base)) {
    throw new UsageError(`${options.file} must hold one object (the ${what})`);
  }
  return assignments(options.set ?? [], base as Record<string, unknown>);
}

export const collectRepeated = (value: string, previous: string[] = []) => [...previous, value];

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`'${value}' is not a positive integer`);
  return n;
}
