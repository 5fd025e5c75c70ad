import { parseArgs } from 'node:util';

export interface DemoOptions {
  url: string;
  token: string;
  tenant: string;
  runs: number;
  failureRate: number;
  workers: number;
  concurrency: number;
  timeoutMs: number;
  pollMs: number;
  color: boolean;
  json: boolean;
  /** stdout is a terminal (and not --json): redraw in place. */
  live: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: npm run demo -- [options]

Submits advisory-ingestion DAG runs to a running JobEngine (npm start), works them with in-process SDK
workers that inject failures, and shows the runs live until every one is finished.

Options:
  --runs N              runs to submit (default 3, max 50)
  --failure-rate R      share of job attempts that fail, 0..1 (default 0.15)
  --workers N           in-process SDK workers, each leasing every job type (default 4, max 32)
  --concurrency N       handlers each worker runs at once (default 2)
  --timeout SECONDS     give up when runs are still going after this long (default 120)
  --poll-ms MS          DAG polling interval (default 300)
  --url URL             control plane origin (default $JOBENGINE_URL or http://127.0.0.1:3000)
  --token TOKEN         bearer token (default $JOBENGINE_TOKEN)
  --tenant TENANT       tenant (default $JOBENGINE_TENANT or demo)
  --no-color            plain text (also when NO_COLOR is set)
  --json                no live view; one JSON document on stdout at the end
  -h, --help            this text

Exit codes: 0 every run finished (whatever its status), 1 timeout or API error, 2 usage, 130 interrupted.`;

export const MISSING_TOKEN = `JOBENGINE_TOKEN is not set.

The local runtime prints a development token when it starts. In one terminal:

  npm start

copy the line it prints, in this terminal:

  export JOBENGINE_TOKEN=eyJ...

then run \`npm run demo\` again (or pass --token <token>).`;

/** Parses argv and env; `undefined` means --help was asked. Throws UsageError on bad input. */
export function parseOptions(
  argv: string[],
  env: NodeJS.ProcessEnv,
  stdoutIsTTY: boolean,
): DemoOptions | undefined {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return undefined;
  const token = values.token ?? env.JOBENGINE_TOKEN ?? '';
  if (!token.trim()) throw new UsageError(MISSING_TOKEN);
  const url = values.url ?? env.JOBENGINE_URL ?? 'http://127.0.0.1:3000';
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url must be an http(s) origin, got '${url}'`);
  const tenant = values.tenant ?? env.JOBENGINE_TENANT ?? 'demo';
  const json = values.json ?? false;
  const color = !json && stdoutIsTTY && !values['no-color'] && !env.NO_COLOR;
  return {
    url,
    token: token.trim(),
    tenant,
    runs: integer('--runs', values.runs, 3, 1, 50),
    failureRate: fraction('--failure-rate', values['failure-rate'], 0.15),
    workers: integer('--workers', values.workers, 4, 1, 32),
    concurrency: integer('--concurrency', values.concurrency, 2, 1, 64),
    timeoutMs: integer('--timeout', values.timeout, 120, 1, 3600) * 1000,
    pollMs: integer('--poll-ms', values['poll-ms'], 300, 50, 10_000),
    color,
    json,
    live: stdoutIsTTY && !json,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      runs: { type: 'string' },
      'failure-rate': { type: 'string' },
      workers: { type: 'string' },
      concurrency: { type: 'string' },
      timeout: { type: 'string' },
      'poll-ms': { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      tenant: { type: 'string' },
      'no-color': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return value;
}

function fraction(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new UsageError(`${name} must be a number from 0 to 1, got '${raw}'`);
  }
  return value;
}
