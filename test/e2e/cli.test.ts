import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobEngineClient, PermanentError, Worker } from '../../sdk/worker/src/index.ts';
import { type E2e, startE2e, UUID } from './helpers.ts';

/**
 * `jobengine` (cli/main.ts) as a user runs it - a child process with its environment and config file -
 * against the local runtime: config, sources, runs submit + watch with SDK workers, jobs, dead letters,
 * tail, and the documented exit codes (docs/cli.md).
 */
const ROOT = join(import.meta.dirname, '../..');
const TENANT = 'cli-e2e';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Each call is a fresh Node process (about a second, more on a busy machine): generous timeouts.
describe('jobengine CLI', { timeout: 180_000 }, () => {
  let e: E2e;
  let token: string;
  let home: string;
  let sdk: JobEngineClient;

  /** Spawns the CLI; `env` replaces the settings variables (none by default: the config file applies). */
  const start = (
    args: string[],
    env: Record<string, string> = {},
  ): { child: ChildProcess; done: Promise<CliResult> } => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        JOBENGINE_ENDPOINT: e.runtime.url,
        JOBENGINE_TOKEN: token,
        JOBENGINE_TENANT: TENANT,
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin!.end(); // nothing on stdin: `runs submit -` reads an empty document
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
    });
    const done = new Promise<CliResult>((resolve) =>
      child.once('exit', (code) => resolve({ code, stdout, stderr })),
    );
    return { child, done };
  };
  const cli = (args: string[], env: Record<string, string> = {}) => start(args, env).done;
  const json = async (args: string[]) => {
    const result = await cli(['--json', ...args]);
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout);
  };

  beforeAll(async () => {
    e = await startE2e({ tenant: TENANT });
    token = await e.runtime.token({ tenants: [TENANT] });
    home = await mkdtemp(join(tmpdir(), 'jobengine-cli-'));
    sdk = new JobEngineClient({ baseUrl: e.runtime.url, token, tenant: TENANT });
  });

  afterAll(async () => {
    await e?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('keeps endpoint, token and tenant in its config file; flags and environment win over it', async () => {
    const none = { JOBENGINE_ENDPOINT: '', JOBENGINE_TOKEN: '', JOBENGINE_TENANT: '' };
    const missing = await cli(['sources', 'list'], none);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no token');

    for (const [name, value] of [
      ['endpoint', e.runtime.url],
      ['token', token],
      ['tenant', TENANT],
    ]) {
      expect((await cli(['config', 'set', name!, value!], none)).code).toBe(0);
    }
    const file = join(home, '.config', 'jobengine', 'config.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      endpoint: e.runtime.url,
      token,
      tenant: TENANT,
    });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const fromFile = await cli(['--json', 'sources', 'list'], none);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual({ items: [], next_page_token: null });

    const shown = JSON.parse(
      (await cli(['--json', 'config', 'show'], { ...none, JOBENGINE_TENANT: 'elsewhere' })).stdout,
    );
    expect(shown.settings.tenant).toEqual({ value: 'elsewhere', from: 'JOBENGINE_TENANT' });
    expect(shown.settings.endpoint).toEqual({ value: e.runtime.url, from: 'file' });
    expect(shown.settings.token.value).not.toContain(token.slice(20));

    // the flag beats the file: another tenant the token does not grant → 403 → exit 4
    const refused = await cli(['--tenant', 'not-granted', 'sources', 'list'], none);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('403 FORBIDDEN');
    expect((await cli(['config', 'unset', 'token'], none)).code).toBe(0);
  });

  it('creates, lists and reads sources', async () => {
    const created = await json([
      'sources',
      'create',
      '--name',
      'nvd',
      '--type',
      'advisory_feed',
      '--upstream-host',
      'nvd.example',
      '--config',
      'feed=cve',
      '--config',
      'window=3600',
    ]);
    expect(created).toMatchObject({
      id: expect.stringMatching(UUID),
      name: 'nvd',
      config: { feed: 'cve', window: 3600 },
      paused: false,
    });
    expect((await json(['sources', 'list'])).items.map((s: { id: string }) => s.id)).toContain(created.id);
    expect(await json(['sources', 'get', created.id])).toMatchObject({
      id: created.id,
      upstreamHost: 'nvd.example',
    });

    const table = await cli(['sources', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+TYPE\s+UPSTREAM/);
    expect(table.stdout).toContain('nvd.example');

    const updated = await json(['sources', 'update', created.id, '--set', 'name=nvd-2', '--if-match', '1']);
    expect(updated).toMatchObject({ name: 'nvd-2', version: 2 });
    const stale = await cli(['sources', 'update', created.id, '--set', 'name=nvd-3', '--if-match', '1']);
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('412 PRECONDITION_FAILED');
  });

  it('submits a DAG from YAML and watches it live to success with progress; a failing run exits 6', async () => {
    const dagFile = join(home, 'dag.yaml');
    await writeFile(
      dagFile,
      [
        'labels: { purpose: cli-e2e }',
        'jobs:',
        '  - { key: fetch, type: cli.work }',
        '  - { key: parse, type: cli.work, dependsOn: [fetch] }',
        '  - { key: index, type: cli.work, dependsOn: [fetch] }',
        '  - { key: publish, type: cli.work, dependsOn: [parse, index], payload: { fail: false } }',
        '',
      ].join('\n'),
    );
    const worker = new Worker({
      client: sdk,
      workerId: 'cli-e2e-worker',
      concurrency: 4,
      pollIntervalMs: 50,
      maxPollIntervalMs: 200,
      handlers: {
        'cli.work': async (job) => {
          await new Promise((resolve) => setTimeout(resolve, 150));
          if (job.payload.fail === true) throw new PermanentError('BROKEN_INPUT', 'failing on purpose');
          return { result: { key: job.key } };
        },
      },
    }).start();
    try {
      const watched = await cli([
        'runs',
        'submit',
        dagFile,
        '--watch',
        '--label',
        'ticket=OPS-1',
        '--timeout',
        '60',
      ]);
      expect(watched.code, watched.stderr).toBe(0);
      expect(watched.stdout).toMatch(/run [0-9a-f-]{36} submitted \(4 jobs\)/);
      expect(watched.stdout).toContain('[##############################] 4/4 100%');
      expect(watched.stdout).toContain('critical path: fetch → ');
      expect(watched.stdout).toMatch(/✓ \* fetch/);
      const runId = /run ([0-9a-f-]{36}) submitted/.exec(watched.stdout)![1]!;
      const run = await json(['runs', 'get', runId]);
      expect(run).toMatchObject({ status: 'succeeded', labels: { purpose: 'cli-e2e', ticket: 'OPS-1' } });

      // JSON list of jobs of the run, a job's history
      const jobs = (await json(['jobs', 'list', '--run', runId])).items as {
        id: string;
        key: string;
        status: string;
      }[];
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      const history = (await json(['jobs', 'history', jobs[0]!.id])).items as { to: string }[];
      expect(history.map((h) => h.to)).toEqual(expect.arrayContaining(['queued', 'leased', 'succeeded']));

      // a run whose last job fails for good: watch exits 6 (UNSUCCESSFUL), --json prints the final picture
      const failing = join(home, 'failing.json');
      await writeFile(
        failing,
        JSON.stringify([
          { key: 'only', type: 'cli.work', payload: { fail: true }, retry: { maxAttempts: 1 } },
        ]),
      );
      const failed = await cli(['--json', 'runs', 'submit', failing, '--watch', '--timeout', '60']);
      expect(failed.code, failed.stderr).toBe(6);
      expect(JSON.parse(failed.stdout)).toMatchObject({
        run: { status: 'failed' },
        jobs: [{ key: 'only', status: 'dead_lettered' }],
      });
      expect(failed.stderr).toContain('ended failed');
    } finally {
      await worker.stop({ graceful: true, timeoutMs: 5_000 });
    }
  });

  it('lists, cancels and retries jobs', async () => {
    const created = await e.call('POST', '/api/v1/jobs', { body: { type: 'cli.idle', payload: { n: 1 } } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect(await json(['jobs', 'get', id])).toMatchObject({ id, status: 'queued' });
    const listed = await json(['jobs', 'list', '--type', 'cli.idle', '--status', 'queued']);
    expect(listed.items.map((j: { id: string }) => j.id)).toEqual([id]);

    const canceled = await cli(['--json', '--reason', 'not needed', 'jobs', 'cancel', id]);
    expect(canceled.code, canceled.stderr).toBe(0);
    expect(JSON.parse(canceled.stdout)).toMatchObject({ id, status: 'canceled' });
    const history = (await json(['jobs', 'history', id])).items as { to: string; reason: string | null }[];
    expect(history.at(-1)).toMatchObject({ to: 'canceled', reason: 'not needed' });

    const retried = await json(['jobs', 'retry', id]);
    expect(retried).toMatchObject({ replayOf: id, status: 'queued' });

    const again = await cli(['jobs', 'cancel', id]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/409 \w+/);
  });

  it('shows dead-letter stats, replays with a dry run first, then for real', async () => {
    const created = await e.call('POST', '/api/v1/jobs', {
      body: { type: 'cli.dl', payload: {}, retry: { maxAttempts: 1 } },
    });
    const { leases } = await sdk.lease({ workerId: 'cli-dl', types: ['cli.dl'] });
    await sdk.completeOne(created.json.id, {
      leaseId: leases[0]!.leaseId,
      outcome: 'failed',
      error: { retryable: false, errorCode: 'CLI_BROKEN', message: 'for the CLI test' },
    });
    const listed = await json(['dlq', 'list', '--status', 'open', '--error-code', 'CLI_BROKEN']);
    expect(listed.items).toHaveLength(1);
    const letter = listed.items[0] as { id: string; jobId: string };
    expect(letter.jobId).toBe(created.json.id);
    const stats = await json(['deadletters', 'stats']);
    expect(stats.counts.open).toBeGreaterThanOrEqual(1);

    const dry = await json(['dlq', 'replay', '--dry-run', '--error-code', 'CLI_BROKEN']);
    expect(JSON.stringify(dry)).toContain(letter.id);
    expect((await json(['dlq', 'get', letter.id])).status).toBe('open');

    const usage = await cli(['dlq', 'replay']);
    expect(usage.code).toBe(1);

    const replayed = await cli(['--reason', 'fixed upstream', 'dlq', 'replay', letter.id]);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(await json(['dlq', 'get', letter.id])).toMatchObject({
      status: 'replayed',
      replayedJobId: expect.stringMatching(UUID),
    });
  });

  it('tails the event stream with filters, as lines or JSON', async () => {
    const tail = start([
      '--json',
      'tail',
      '--job-type',
      'cli.tail',
      '--types',
      'job.queued,job.canceled',
      '--max',
      '2',
    ]);
    // `tail` starts from now: produce events once it says it is following the stream.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tail did not connect')), 30_000);
      tail.child.stderr!.on('data', (chunk) => {
        if (String(chunk).includes('following events of tenant')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await e.call('POST', '/api/v1/jobs', { body: { type: 'cli.other' } });
    const job = await e.call('POST', '/api/v1/jobs', { body: { type: 'cli.tail' } });
    await e.call('POST', `/api/v1/jobs/${job.json.id}:cancel`);
    const result = await tail.done;
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { position: string; eventType: string; event: { subject: { id: string } } },
      );
    expect(events.map((ev) => ev.eventType)).toEqual(['job.queued', 'job.canceled']);
    expect(events.every((ev) => ev.event.subject.id === job.json.id)).toBe(true);

    const human = await cli(['tail', '--since', '0.0', '--job-type', 'cli.tail', '--max', '1']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/job\.\w+\s+job [0-9a-f-]{36}/);
  });

  it('exports the audit log into a directory and verifies it offline', async () => {
    const to = new Date().toISOString();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const dir = join(home, 'audit-export');
    const exported = await cli([
      '--json',
      '--reason',
      'quarterly review',
      'audit',
      'export',
      '--set',
      `from=${from}`,
      '--set',
      `to=${to}`,
      '--out',
      dir,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ status: 'succeeded' });
    const verified = await cli(['--json', 'audit', 'verify', dir]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, problems: [] });
    await writeFile(join(dir, 'audit.jsonl'), '{"tampered":true}\n', { flag: 'a' });
    const broken = await cli(['audit', 'verify', dir]);
    expect(broken.code).toBe(6);
    expect(broken.stdout).toContain('BROKEN');
  });

  it('exits with the documented codes', async () => {
    const badToken = await cli(['runs', 'list'], { JOBENGINE_TOKEN: 'not-a-jwt' });
    expect(badToken.code).toBe(4);
    expect(badToken.stderr).toContain('401 UNAUTHENTICATED');

    const notFound = await cli(['--json', 'jobs', 'get', '00000000-0000-4000-8000-000000000000']);
    expect(notFound.code).toBe(2);
    expect(JSON.parse(notFound.stderr)).toMatchObject({
      error: { status: 404, code: 'NOT_FOUND', route: 'GET /api/v1/jobs/{id}' },
    });

    const invalid = await cli(['runs', 'submit', '-'], {});
    expect(invalid.code).toBe(1); // empty stdin: not a run

    const unreachable = await cli(['runs', 'list'], { JOBENGINE_ENDPOINT: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('no answer');

    expect((await cli(['runs', 'frobnicate'])).code).toBe(1);
    expect((await cli(['--help'])).code).toBe(0);

    // A feature route this server may not have yet: 5 with a clear message, or 0 where it exists.
    const documented = Boolean(
      (await e.call('GET', '/.well-known/openapi')).json.paths['/api/v1/quotas']?.get,
    );
    const quotas = await cli(['quotas', 'list']);
    if (documented) expect(quotas.code, quotas.stderr).toBe(0);
    else {
      expect(quotas.code).toBe(5);
      expect(quotas.stderr).toContain('GET /api/v1/quotas is not available on this server');
    }
  });
});
