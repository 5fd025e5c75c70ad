import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { MemoryQueue } from '../../layers/core/src/adapters/in-process/memory-queue.ts';
import { Database } from '../../layers/core/src/adapters/postgres/database.ts';
import { migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import { systemClock, uuidV7Ids } from '../../layers/core/src/adapters/system.ts';
import { CursorCodec } from '../../layers/core/src/domain/cursor.ts';
import { createServices } from '../../layers/core/src/runtime.ts';
import { IDLE_POLL_MS, withScratchDatabase } from '../harness.ts';
import { ms, type Section } from '../report.ts';
import { median } from '../stats.ts';
import type { SuiteContext } from '../suite.ts';
import { completeLeased, connectWorkerDb, insertJobs, leaseJobs } from '../systems/jobengine.ts';

/**
 * W6 crash (JobEngine): a worker process is killed with SIGKILL while it holds leases; the surviving
 * workers (running all along) must get those jobs again once the lease expires and the reaper requeues
 * them, and no job may succeed twice. The reaper is the minute tick's `reapExpiredLeases`, called every
 * 250 ms here so that the measured time is the lease's, not the tick's period.
 */
const REAP_EVERY_MS = 250;

export async function w6Crash(context: SuiteContext): Promise<Section> {
  const { profile } = context;
  const { jobs, leaseSeconds, holdMs, survivors } = profile.w6;
  if (!context.systems.some((system) => system.name === 'jobengine')) {
    return { id: 'w6', title: 'W6 crash', settings: [], table: [], notes: ['jobengine not selected.'] };
  }
  const table = [
    '| rep | leases held at kill | first re-lease s | last re-lease s | duplicate successes | jobs succeeded |',
    '|--:|--:|--:|--:|--:|--:|',
  ];
  const lastRelease: number[] = [];
  let duplicatesTotal = 0;
  for (let rep = 1; rep <= profile.reps; rep++) {
    const result = await withScratchDatabase(context.adminUrl, 'jobengine_w6', (url) =>
      crashOnce(url, { jobs, leaseSeconds, holdMs, survivors }),
    );
    duplicatesTotal += result.duplicateSuccesses;
    lastRelease.push(result.lastReleaseMs);
    context.record({ kind: 'run', workload: 'w6', system: 'jobengine', rep, jobs, leaseSeconds, ...result });
    context.log(
      `w6 rep ${rep}: ${result.held} held, re-leased after ${ms(result.firstReleaseMs)}-${ms(result.lastReleaseMs)} ms, ${result.duplicateSuccesses} duplicate successes`,
    );
    table.push(
      `| ${rep} | ${result.held} | ${(result.firstReleaseMs / 1000).toFixed(2)} | ${(result.lastReleaseMs / 1000).toFixed(2)} | ${result.duplicateSuccesses} | ${result.succeeded}/${jobs} |`,
    );
    if (result.succeeded !== jobs || result.duplicateSuccesses !== 0) {
      throw new Error(
        `w6 rep ${rep}: ${result.succeeded}/${jobs} succeeded, ${result.duplicateSuccesses} duplicates`,
      );
    }
  }
  context.record({
    kind: 'summary',
    workload: 'w6',
    system: 'jobengine',
    medianLastReleaseMs: median(lastRelease),
    duplicateSuccesses: duplicatesTotal,
  });
  return {
    id: 'w6',
    title: 'W6 crash: SIGKILL a worker holding leases',
    settings: [
      `${jobs.toLocaleString('en-US')} jobs; ${survivors} surviving workers (in the bench process) and one victim process lease 10 at a time; the victim holds each batch ${holdMs} ms, with a ${leaseSeconds} s lease, and is killed with SIGKILL right after its 5th lease; the survivors start leasing at the kill`,
      `Reaper: MaintenanceService.reapExpiredLeases (the minute tick's task) every ${REAP_EVERY_MS} ms; in the runtime it runs once a minute, which adds up to 60 s`,
      "Re-lease time: kill → a survivor's lease returning the held job (the lease's remaining time + a reaper pass + the retry backoff the job's policy gives attempt 2); duplicate successes: jobs with more than one `succeeded` history row",
    ],
    table,
    notes: [
      `Median time to re-lease the last held job: ${(median(lastRelease) / 1000).toFixed(2)} s; duplicate successes over all repetitions: ${duplicatesTotal}.`,
      "graphile-worker and pg-boss are not crashed here: graphile-worker releases a dead worker's locks only after its fixed 4-hour lock timeout (or an explicit forceUnlockWorkers), pg-boss after the job's expireInSeconds plus a supervise pass. This is a JobEngine property check, not a comparison.",
    ],
  };
}

async function crashOnce(
  databaseUrl: string,
  options: { jobs: number; leaseSeconds: number; holdMs: number; survivors: number },
) {
  await migrateDatabase(databaseUrl);
  const admin = new pg.Client({ connectionString: databaseUrl, application_name: 'bench-w6-admin' });
  admin.on('error', (error) => console.error('w6 admin connection:', error.message));
  await admin.connect();
  const db = Database.connect(databaseUrl, {
    appRole: 'jobengine_app',
    systemRole: 'jobengine_system',
    max: 2,
  });
  const victimId = `victim-${Math.random().toString(36).slice(2, 8)}`;
  let killedAt = 0;
  let held = new Set<string>();
  const released = new Map<string, number>();
  let done = false;
  const background: Promise<unknown>[] = [];
  const survivorDbs: Database[] = [];
  try {
    const services = createServices({
      db,
      clock: systemClock,
      ids: uuidV7Ids,
      cursors: new CursorCodec('bench-w6-cursor-secret'),
      planQueue: new MemoryQueue(),
    });
    await insertJobs(admin, options.jobs);
    await admin.query('VACUUM (ANALYZE)');
    for (let i = 0; i < options.survivors; i++) survivorDbs.push(await connectWorkerDb(databaseUrl));
    const survive = () =>
      survivorDbs.map(async (workerDb, index) => {
        while (!done) {
          const leased = await leaseJobs(workerDb, {
            workerId: `survivor-${index}`,
            max: 10,
            leaseSeconds: 30,
          });
          if (leased.length === 0) {
            await sleep(IDLE_POLL_MS);
            continue;
          }
          const now = performance.now();
          for (const job of leased)
            if (held.has(job.id) && !released.has(job.id)) released.set(job.id, now - killedAt);
          await completeLeased(workerDb, leased);
        }
      });
    const reaper = (async () => {
      while (!done) {
        await services.maintenance.reapExpiredLeases();
        await sleep(REAP_EVERY_MS);
      }
    })();

    const victim = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'crash-worker.ts')],
      {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          WORKER_ID: victimId,
          LEASE_SECONDS: String(options.leaseSeconds),
          HOLD_MS: String(options.holdMs),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    background.push(reaper);
    const exited = new Promise<void>((resolve) => victim.once('exit', () => resolve()));
    let leases = 0;
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: victim.stdout! }).on('line', (line) => {
        if (!line.startsWith('{"leased"')) return;
        leases++;
        if (leases === 5) {
          victim.kill('SIGKILL');
          killedAt = performance.now();
          resolve();
        }
      });
      victim.once('exit', () => reject(new Error('victim exited before its 5th lease (too few jobs?)')));
    });
    // The rest of the fleet (connected already) takes over from the moment of the kill.
    background.push(...survive());
    await exited;
    const { rows } = await admin.query<{ id: string }>(
      "SELECT id FROM jobs WHERE status IN ('leased', 'running') AND lease_owner = $1",
      [victimId],
    );
    held = new Set(rows.map((row) => row.id));
    // Wait until everything is finished (or a minute has passed), then stop survivors and reaper.
    const deadline = performance.now() + 60_000 + options.leaseSeconds * 1000;
    for (;;) {
      const { rows: left } = await admin.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM jobs WHERE status NOT IN ('succeeded', 'failed', 'canceled', 'dead_lettered')",
      );
      if (left[0]!.n === 0 || performance.now() > deadline) break;
      await sleep(100);
    }
    done = true;
    await Promise.all(background);

    const { rows: duplicates } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (
         SELECT job_id FROM job_history WHERE to_status = 'succeeded' GROUP BY job_id HAVING count(*) > 1) d`,
    );
    const { rows: succeeded } = await admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM jobs WHERE status = 'succeeded'",
    );
    const times = [...released.values()];
    if (held.size === 0) throw new Error('the victim held no leases when it was killed');
    if (times.length !== held.size)
      throw new Error(`${held.size - times.length} held jobs were never re-leased`);
    return {
      held: held.size,
      firstReleaseMs: Math.min(...times),
      lastReleaseMs: Math.max(...times),
      duplicateSuccesses: duplicates[0]!.n,
      succeeded: succeeded[0]!.n,
    };
  } finally {
    done = true;
    await Promise.allSettled(background);
    await Promise.all(survivorDbs.map((workerDb) => workerDb.close()));
    await db.close();
    await admin.end();
  }
}
