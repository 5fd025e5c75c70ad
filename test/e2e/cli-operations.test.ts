import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type E2e, startE2e, UUID } from './helpers.ts';

/**
 * The operator command groups of `jobengine` (docs/cli.md) against the local runtime: quotas, throttles,
 * source pause/resume, jobs explain, circuits, incidents, schedules and backfills, each with its exit code,
 * its `--json` output and the effect read back through the API. One runtime, one CLI process at a time.
 */
const ROOT = join(import.meta.dirname, '../..');
const TENANT = 'cli-ops';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('jobengine CLI: flow control, schedules, backfills', { timeout: 120_000 }, () => {
  let e: E2e;
  let token: string;
  let home: string;

  const cli = (args: string[]): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: home,
          XDG_CONFIG_HOME: join(home, '.config'),
          JOBENGINE_ENDPOINT: e.runtime.url,
          JOBENGINE_TOKEN: token,
          JOBENGINE_TENANT: TENANT,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  const json = async (args: string[]) => {
    const result = await cli(['--json', ...args]);
    expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
    return JSON.parse(result.stdout);
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const result = await e.call(method, path, body === undefined ? {} : { body });
    expect(result.status, `${method} ${path}: ${JSON.stringify(result.json)}`).toBeLessThan(300);
    return result.json;
  };
  const source = (name: string) =>
    api('POST', '/api/v1/sources', { name, type: `${name}_feed`, upstreamHost: 'feed.example' });

  beforeAll(async () => {
    e = await startE2e({ tenant: TENANT });
    token = await e.runtime.token({ tenants: [TENANT] });
    home = await mkdtemp(join(tmpdir(), 'jobengine-cli-ops-'));
  });

  afterAll(async () => {
    await e?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('quotas: create needs --reason; list, get, pause, resume, summary', async () => {
    const noReason = await cli(['quotas', 'create', '--set', 'jobType=ops.scan', '--set', 'maxActive=2']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('VALIDATION_FAILED');

    const quota = await json([
      '--reason',
      'cap the scanner',
      'quotas',
      'create',
      '--set',
      'jobType=ops.scan',
      '--set',
      'maxActive=2',
      '--set',
      'maxQueued=100',
    ]);
    expect(quota).toMatchObject({
      id: UUID,
      jobType: 'ops.scan',
      maxActive: 2,
      maxQueued: 100,
      paused: false,
    });

    const list = await json(['quotas', 'list']);
    expect(list.items.map((q: { id: string }) => q.id)).toEqual([quota.id]);
    expect(await json(['quotas', 'get', quota.id])).toMatchObject({ id: quota.id, jobType: 'ops.scan' });

    const paused = await json(['--reason', 'upstream maintenance', 'quotas', 'pause', quota.id]);
    expect(paused).toMatchObject({ id: quota.id, paused: true, pauseReason: 'upstream maintenance' });
    expect(await api('GET', `/api/v1/quotas/${quota.id}`)).toMatchObject({ paused: true });
    expect((await cli(['--reason', 'again', 'quotas', 'pause', quota.id])).code).toBe(2);

    const resumed = await json(['--reason', 'maintenance over', 'quotas', 'resume', quota.id]);
    expect(resumed).toMatchObject({ paused: false });
    expect(await api('GET', `/api/v1/quotas/${quota.id}`)).toMatchObject({ paused: false });

    const summary = await json(['quotas', 'summary']);
    expect(summary.items).toEqual([
      expect.objectContaining({ quota: expect.objectContaining({ id: quota.id }), active: 0, queued: 0 }),
    ]);
    expect(summary.tenant).toMatchObject({ openJobs: 0, engaged: false });
  });

  it('throttles: create, list, lift; the lift is visible through the API', async () => {
    const throttle = await json([
      '--reason',
      'incident 42',
      '--ticket',
      'OPS-42',
      'throttles',
      'create',
      '--set',
      'target.kind=job_type',
      '--set',
      'target.id=ops.crawl',
      '--set',
      'kind=concurrency',
      '--set',
      'maxConcurrency=1',
    ]);
    expect(throttle).toMatchObject({
      id: UUID,
      target: { kind: 'job_type', id: 'ops.crawl' },
      kind: 'concurrency',
      maxConcurrency: 1,
      reason: 'incident 42',
      ticket: 'OPS-42',
      active: true,
    });

    const list = await json(['throttles', 'list']);
    expect(list.items).toEqual([expect.objectContaining({ id: throttle.id, active: true })]);

    const lifted = await json(['--reason', 'resolved', 'throttles', 'lift', throttle.id]);
    expect(lifted).toMatchObject({ id: throttle.id, active: false, liftedAt: expect.any(String) });
    const after = await api('GET', '/api/v1/throttles?active=true');
    expect(after.items).toEqual([]);
    expect((await cli(['--reason', 'again', 'throttles', 'lift', throttle.id])).code).toBe(2);
  });

  it('sources pause/resume, jobs explain, circuits and incidents', async () => {
    const feed = await source('opsfeed');
    const paused = await json(['--reason', 'vendor outage', 'sources', 'pause', feed.id]);
    expect(paused).toMatchObject({ id: feed.id, paused: true, pauseReason: 'vendor outage' });
    expect(await api('GET', `/api/v1/sources/${feed.id}`)).toMatchObject({ paused: true });

    const run = await api('POST', '/api/v1/runs', {
      sourceId: feed.id,
      jobs: [{ key: 'ingest', type: 'opsfeed.ingest', payload: {} }],
    });
    const jobs = await api('GET', `/api/v1/jobs?run_id=${run.id}`);
    const jobId = jobs.items[0].id as string;
    const explained = await json(['jobs', 'explain', jobId]);
    expect(explained).toMatchObject({ jobId, waiting: true });
    expect(explained.reasons.map((r: { code: string }) => r.code)).toContain('source_paused');
    const text = await cli(['jobs', 'explain', jobId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('source_paused');

    const resumed = await json(['sources', 'resume', feed.id]);
    expect(resumed).toMatchObject({ id: feed.id, paused: false });
    const again = await api('GET', `/api/v1/jobs/${jobId}/explain`);
    expect(again.reasons.map((r: { code: string }) => r.code)).not.toContain('source_paused');

    const circuits = await json(['circuits']);
    expect(circuits.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ sourceId: feed.id, state: 'closed' })]),
    );
    const incidents = await json(['incidents', '--filter', 'status=open']);
    expect(incidents).toEqual({ items: [], next_page_token: null });
  });

  it('schedules: create, list, next, pause, resume, delete', async () => {
    const feed = await source('opssched');
    const schedule = await json([
      'schedules',
      'create',
      '--set',
      'name=ops-hourly',
      '--set',
      'cron=0 * * * *',
      '--set',
      'timezone=Europe/Berlin',
      '--set',
      `sourceId=${feed.id}`,
      '--set',
      'runTemplate={"jobs":[{"key":"ingest","type":"opssched.ingest","payload":{}}]}',
    ]);
    expect(schedule).toMatchObject({
      id: UUID,
      name: 'ops-hourly',
      cron: '0 * * * *',
      sourceId: feed.id,
      paused: false,
      nextFireAt: expect.any(String),
    });
    const list = await json(['schedules', 'list']);
    expect(list.items.map((s: { id: string }) => s.id)).toEqual([schedule.id]);

    const next = await json(['schedules', 'next', schedule.id, '--count', '3']);
    expect(next).toMatchObject({ scheduleId: schedule.id, timezone: 'Europe/Berlin' });
    expect(next.fireTimes).toHaveLength(3);
    for (const at of next.fireTimes) expect(new Date(at).getUTCMinutes()).toBe(0);

    expect(await json(['schedules', 'pause', schedule.id])).toMatchObject({ paused: true, nextFireAt: null });
    expect(await api('GET', `/api/v1/schedules/${schedule.id}`)).toMatchObject({ paused: true });
    expect((await cli(['schedules', 'pause', schedule.id])).code).toBe(2);
    expect(await json(['schedules', 'resume', schedule.id])).toMatchObject({
      paused: false,
      nextFireAt: expect.any(String),
    });

    const deleted = await cli(['schedules', 'delete', schedule.id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await e.call('GET', `/api/v1/schedules/${schedule.id}`)).status).toBe(404);
  });

  it('backfills: plan (dry run), start, get, watch, cancel with --reason and --ticket', async () => {
    const feed = await source('opsback');
    const window = [
      '--set',
      `sourceId=${feed.id}`,
      '--set',
      'start=2024-01-01T00:00:00Z',
      '--set',
      'end=2024-01-02T00:00:00Z',
      '--set',
      'chunkSeconds=7200',
      '--set',
      'maxConcurrency=2',
    ];
    const notes = ['--reason', 'reprocess January', '--ticket', 'OPS-7'];

    const missing = await cli(['--reason', 'reprocess January', 'backfills', 'plan', ...window]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('--ticket');

    const plan = await json([...notes, 'backfills', 'plan', '--dry-run', ...window]);
    expect(plan).toMatchObject({ dryRun: true, sourceId: feed.id, chunkCount: 12 });
    expect(plan.chunks).toHaveLength(12);
    expect((await api('GET', '/api/v1/backfills')).items).toEqual([]);

    const started = await json([...notes, 'backfills', 'start', ...window]);
    expect(started).toMatchObject({
      id: UUID,
      status: 'running',
      chunkCount: 12,
      reason: 'reprocess January',
      ticket: 'OPS-7',
      progress: { total: 12, queued: 2, pending: 10 },
    });
    const overlap = await cli([...notes, 'backfills', 'start', ...window]);
    expect(overlap.code).toBe(2);
    expect(overlap.stderr).toContain('BACKFILL_OVERLAP');

    const got = await json(['backfills', 'get', started.id]);
    expect(got).toMatchObject({ id: started.id, status: 'running', progress: { total: 12 } });
    expect((await json(['backfills', 'list'])).items).toEqual([expect.objectContaining({ id: started.id })]);

    const refused = await cli(['backfills', 'cancel', started.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--ticket');
    const canceled = await json([...notes, 'backfills', 'cancel', started.id]);
    expect(canceled).toMatchObject({ status: 'canceled', progress: { canceled: 12 } });
    expect(await api('GET', `/api/v1/backfills/${started.id}`)).toMatchObject({ status: 'canceled' });

    // watching an ended backfill returns at once: canceled is an unsuccessful end (exit 6)
    const watched = await cli(['backfills', 'watch', started.id]);
    expect(watched.code, watched.stderr).toBe(6);
    expect(watched.stdout).toContain('canceled');
    expect(watched.stdout).toContain('12/12');
    const watchedJson = await cli(['--json', 'backfills', 'watch', started.id]);
    expect(watchedJson.code).toBe(6);
    expect(JSON.parse(watchedJson.stdout)).toMatchObject({ id: started.id, status: 'canceled' });
  });
});
