import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import {
  ensureDatabase,
  type RunningPostgres,
  startEmbeddedPostgres,
} from '../../local/embedded-postgres.ts';
import { type RunningRuntime, startLocalRuntime } from '../support/local-runtime.ts';
import { freePort } from '../support/ports.ts';

export interface ChaosOptions {
  jobs: number;
  workers: number;
  /** Jobs per run: one fetch, (size - 2) parses fanned out from it, one merge depending on all parses. */
  runSize: number;
  retryableRate: number;
  permanentRate: number;
  timeoutMs: number;
  log: (line: string) => void;
}

export interface ChaosReport {
  jobs: number;
  runs: number;
  elapsedMs: number;
  jobsPerSecond: number;
  outcomes: Record<string, number>;
  runOutcomes: Record<string, number>;
  attempts: { total: number; retries: number; leaseExpiries: number };
  faults: string[];
  /** Seen while PostgreSQL was down: status and error code of an API call. */
  unavailableAnswer: { status: number; code: string } | null;
  violations: Record<string, number>;
}

const TENANT = 'chaos';

/**
 * The Orchestration acceptance run: `workers` SDK worker processes drain DAG runs with random failures
 * while the driver SIGKILLs one worker mid-lease, SIGKILLs the control plane and starts it again, and
 * restarts PostgreSQL. Afterwards the database is checked: every job in exactly one terminal state, none
 * succeeded twice, none lost, no child leased before all its parents succeeded, run status consistent.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const faults: string[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'jobengine-chaos-'));
  const pgPort = await freePort();
  let postgres: RunningPostgres = await startEmbeddedPostgres({ dataDir, port: pgPort, persistent: true });
  const databaseUrl = await ensureDatabase(postgres.adminUrl, 'jobengine');
  await migrateDatabase(databaseUrl);
  const admin = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  admin.on('error', () => undefined);
  const port = await freePort();
  const runtimeEnv = { PORT: String(port), TICK_INTERVAL_MS: '1000', DB_POOL_MAX: '20' };
  let runtime: RunningRuntime = await startLocalRuntime(databaseUrl, runtimeEnv);
  const token = await runtime.token({ tenants: [TENANT], expiresIn: '2h' });
  const workers: ChildProcess[] = [];
  try {
    const runs = Math.ceil(options.jobs / options.runSize);
    await submitRuns(runtime.url, token, runs, options.runSize);
    await until(
      async () => (await count(admin, `SELECT count(*)::int AS n FROM runs WHERE status = 'planning'`)) === 0,
      120_000,
      'planning',
    );
    const total = await count(admin, 'SELECT count(*)::int AS n FROM jobs');
    options.log(`submitted ${runs} runs, ${total} jobs`);

    const started = performance.now();
    for (let i = 0; i < options.workers; i++)
      workers.push(startWorker(runtime.url, token, `chaos-${i}`, options));
    const terminal = () =>
      count(
        admin,
        `SELECT count(*)::int AS n FROM jobs WHERE status IN ('succeeded', 'failed', 'canceled', 'dead_lettered')`,
      );

    await until(async () => (await terminal()) >= total * 0.25, options.timeoutMs, 'first quarter');
    const victim = workers[0]!;
    const held = await count(
      admin,
      `SELECT count(*)::int AS n FROM jobs WHERE status IN ('leased', 'running') AND lease_owner = 'chaos-0'`,
    );
    victim.kill('SIGKILL');
    faults.push(`SIGKILL worker chaos-0 holding ${held} leases at ${await terminal()}/${total}`);
    options.log(faults.at(-1)!);

    await until(async () => (await terminal()) >= total * 0.45, options.timeoutMs, 'second quarter');
    runtime.process.kill('SIGKILL');
    await runtime.stop();
    faults.push(`SIGKILL control plane at ${await terminal()}/${total}`);
    options.log(faults.at(-1)!);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    runtime = await startLocalRuntime(databaseUrl, runtimeEnv, { privateJwk: runtime.privateJwk });
    faults.push('control plane started again');

    await until(async () => (await terminal()) >= total * 0.65, options.timeoutMs, 'third quarter');
    await postgres.stop();
    faults.push('PostgreSQL stopped');
    options.log(faults.at(-1)!);
    const unavailableAnswer = await answerWhileDown(runtime.url, token);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    postgres = await startEmbeddedPostgres({ dataDir, port: pgPort, persistent: true });
    faults.push(
      `PostgreSQL started again (API answered ${unavailableAnswer?.status} ${unavailableAnswer?.code} while down)`,
    );
    options.log(faults.at(-1)!);

    await until(async () => (await terminal()) === total, options.timeoutMs, 'all jobs terminal');
    const elapsedMs = performance.now() - started;
    const report: ChaosReport = {
      jobs: total,
      runs,
      elapsedMs: Math.round(elapsedMs),
      jobsPerSecond: Math.round((total / elapsedMs) * 1000),
      outcomes: await tally(admin, 'SELECT status AS k, count(*)::int AS n FROM jobs GROUP BY status'),
      runOutcomes: await tally(admin, 'SELECT status AS k, count(*)::int AS n FROM runs GROUP BY status'),
      attempts: {
        total: await count(admin, `SELECT count(*)::int AS n FROM job_history WHERE transition = 'lease'`),
        retries: await count(admin, `SELECT count(*)::int AS n FROM job_history WHERE transition = 'retry'`),
        leaseExpiries: await count(
          admin,
          `SELECT count(*)::int AS n FROM job_history WHERE transition LIKE 'expire_lease%'`,
        ),
      },
      faults,
      unavailableAnswer,
      violations: await checkInvariants(admin, total),
    };
    return report;
  } finally {
    for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
    await runtime.stop().catch(() => undefined);
    await admin.end().catch(() => undefined);
    await postgres.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Every check counts offending rows; all must be zero. */
export async function checkInvariants(db: pg.Pool, expectedJobs: number): Promise<Record<string, number>> {
  const checks: Record<string, string> = {
    lostJobs: `SELECT ${expectedJobs} - count(*)::int AS n FROM jobs`,
    nonTerminalJobs: `SELECT count(*)::int AS n FROM jobs WHERE status NOT IN ('succeeded', 'failed', 'canceled', 'dead_lettered')`,
    jobsWithoutExactlyOneTerminalTransition: `
      SELECT count(*)::int AS n FROM jobs j
       WHERE (SELECT count(*) FROM job_history h WHERE h.job_id = j.id
                AND h.to_status IN ('succeeded', 'failed', 'canceled', 'dead_lettered')) <> 1`,
    jobsSucceededTwice: `SELECT count(*)::int AS n FROM (SELECT job_id FROM job_history WHERE to_status = 'succeeded' GROUP BY job_id HAVING count(*) > 1) x`,
    terminalStatusDisagreesWithHistory: `
      SELECT count(*)::int AS n FROM jobs j
       WHERE j.status <> (SELECT h.to_status FROM job_history h WHERE h.job_id = j.id ORDER BY h.id DESC LIMIT 1)`,
    childLeasedBeforeParentSucceeded: `
      SELECT count(*)::int AS n FROM dag_edges e
        JOIN job_history c ON c.job_id = e.child_job_id AND c.transition = 'lease'
       WHERE NOT EXISTS (SELECT 1 FROM job_history p WHERE p.job_id = e.parent_job_id AND p.to_status = 'succeeded' AND p.id < c.id)`,
    childSucceededWithFailedParent: `
      SELECT count(*)::int AS n FROM dag_edges e
        JOIN jobs c ON c.id = e.child_job_id AND c.status = 'succeeded'
        JOIN jobs p ON p.id = e.parent_job_id AND p.status <> 'succeeded'`,
    runCountersWrong: `
      SELECT count(*)::int AS n FROM runs r
       WHERE r.jobs_succeeded <> (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'succeeded')
          OR r.jobs_failed <> (SELECT count(*) FROM jobs WHERE run_id = r.id AND status IN ('failed', 'dead_lettered'))
          OR r.jobs_canceled <> (SELECT count(*) FROM jobs WHERE run_id = r.id AND status = 'canceled')`,
    runStatusWrong: `
      SELECT count(*)::int AS n FROM runs r
       WHERE r.status <> CASE WHEN r.jobs_failed > 0 THEN 'failed'
                              WHEN r.jobs_succeeded = r.job_count THEN 'succeeded' ELSE 'canceled' END`,
    deadLettersWithoutJob: `SELECT count(*)::int AS n FROM jobs j WHERE j.status = 'dead_lettered' AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.job_id = j.id)`,
    leaseEventsMissing: `SELECT ((SELECT count(*) FROM job_history WHERE transition = 'lease') - (SELECT count(*) FROM events WHERE event_type = 'job.leased'))::int AS n`,
  };
  const violations: Record<string, number> = {};
  for (const [name, sql] of Object.entries(checks)) violations[name] = await count(db, sql);
  return violations;
}

async function submitRuns(url: string, token: string, runs: number, size: number) {
  const parses = Array.from({ length: size - 2 }, (_, i) => `parse-${String(i).padStart(3, '0')}`);
  const body = JSON.stringify({
    priority: 0,
    jobs: [
      { key: 'fetch', type: 'chaos.fetch', retry: { maxAttempts: 4, baseMs: 50, capMs: 500 } },
      ...parses.map((key) => ({
        key,
        type: 'chaos.parse',
        dependsOn: ['fetch'],
        retry: { maxAttempts: 4, baseMs: 50, capMs: 500 },
      })),
      {
        key: 'merge',
        type: 'chaos.merge',
        dependsOn: parses,
        retry: { maxAttempts: 4, baseMs: 50, capMs: 500 },
      },
    ],
  });
  let next = 0;
  const submitter = async () => {
    while (next < runs) {
      next++;
      const response = await fetch(`${url}/api/v1/runs`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${token}`,
          'X-Stella-Tenant': TENANT,
          'Content-Type': 'application/json',
        },
        body,
      });
      if (response.status !== 202)
        throw new Error(`submit failed: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, submitter));
}

function startWorker(url: string, token: string, id: string, options: ChaosOptions): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'worker.ts'),
      url,
      token,
      TENANT,
      id,
      String(options.retryableRate),
      String(options.permanentRate),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'SILENT' } },
  );
  createInterface({ input: child.stderr! }).on('line', (line) => options.log(`[${id}] ${line}`));
  child.stdout!.resume();
  child.once('exit', (code, signal) => options.log(`[${id}] exited (${signal ?? code})`));
  return child;
}

/** Polls the API until it answers while the database is down; returns the status and error code. */
async function answerWhileDown(url: string, token: string): Promise<{ status: number; code: string } | null> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/api/v1/runs?page_size=1`, {
        headers: { Authorization: `Bearer ${token}`, 'X-Stella-Tenant': TENANT },
      });
      const body = (await response.json()) as { error?: { code: string } };
      if (response.status >= 500) return { status: response.status, code: body.error?.code ?? 'NO_ENVELOPE' };
    } catch {
      // the gateway itself must keep answering; a refused connection is a failure to report
      return { status: 0, code: 'CONNECTION_FAILED' };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // the database may be restarting
    }
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function count(db: pg.Pool, sql: string): Promise<number> {
  return (await db.query<{ n: number }>(sql)).rows[0]!.n;
}

async function tally(db: pg.Pool, sql: string): Promise<Record<string, number>> {
  return Object.fromEntries((await db.query<{ k: string; n: number }>(sql)).rows.map((r) => [r.k, r.n]));
}
