import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchInstance, type BenchListener, runSql } from './harness.ts';
import { percentile } from './stats.ts';

export interface OpenLoopOptions {
  /** Jobs enqueued per second, on a fixed schedule whatever the workers do (open loop). */
  rate: number;
  seconds: number;
  workers: number;
  batch: number;
  /**
   * Runs once, this many seconds into the load (while it goes on): the workloads pass `analyzeAfter`'s
   * ANALYZE here, at the end of their uncounted warm-up.
   */
  warmup?: { seconds: number; run: () => Promise<void> };
}

export interface OpenLoopSample {
  /** When the job was due to be enqueued, in ms since the load started. */
  at: number;
  /** Due time → the moment a worker's claim returned it, in ms. */
  latency: number;
}

export interface OpenLoopResult {
  samples: OpenLoopSample[];
  enqueued: number;
  /** Jobs due within the load window that the enqueue side had not issued when it ended. */
  notEnqueued: number;
  /** Jobs enqueued but not claimed within the grace period after the load stopped. */
  unclaimed: number;
  /** Jobs completed per second of load (claimed during the grace period included). */
  completedPerSecond: number;
  /** p99 of (enqueue statement committed − due time of its first job), ms: the load generator's own lag. */
  enqueueLagP99: number;
}

/** Enqueue ticks: every 10 ms, the jobs that fell due since the last tick go out in one statement. */
const TICK_MS = 10;
const GRACE_MS = 20_000;
/** Each system's enqueue side holds this many connections (see its `open`). */
export const MAX_ENQUEUES_IN_FLIGHT = 4;

/**
 * Open-loop load: jobs are enqueued at `rate` per second on a fixed schedule while `workers` listeners
 * claim them. Latency runs from a job's *scheduled* enqueue time to the return of the claim that got it,
 * so a slow enqueue or a backlog counts against the system (no coordinated omission).
 */
export async function runOpenLoop(
  instance: BenchInstance,
  options: OpenLoopOptions,
): Promise<OpenLoopResult> {
  const leasedAt = new Map<string, number>();
  const scheduled = new Map<string, number>();
  const listeners: BenchListener[] = [];
  const enqueueLag: number[] = [];
  let started = 0;
  const onLeased = (ids: readonly string[]) => {
    const now = performance.now() - started;
    for (const id of ids) if (!leasedAt.has(id)) leasedAt.set(id, now);
  };
  for (let i = 0; i < options.workers; i++)
    listeners.push(await instance.startListener(options.batch, onLeased));
  let processed = 0;
  let notEnqueued = 0;
  try {
    started = performance.now();
    const pending = new Set<Promise<void>>();
    let issued = 0;
    const total = Math.round(options.rate * options.seconds);
    // The schedule ends with the load window: jobs the enqueue side could not issue by then are not sent
    // (reported as notEnqueued), so a system whose enqueue cannot keep up does not stretch the run.
    const end = started + options.seconds * 1000 + TICK_MS;
    const warmup = options.warmup;
    const warmed = warmup ? sleep(warmup.seconds * 1000).then(() => warmup.run()) : Promise.resolve();
    while (issued < total && performance.now() < end) {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.floor((options.rate * elapsed) / 1000)) - issued;
      // Jobs that fall due while every enqueue connection is busy go out together in the next statement;
      // their latency still counts from their own due time.
      if (due > 0 && pending.size < MAX_ENQUEUES_IN_FLIGHT) {
        const first = issued;
        issued += due;
        const enqueue: Promise<void> = instance.enqueue(due).then((ids) => {
          for (const [index, id] of ids.entries()) scheduled.set(id, ((first + index) / options.rate) * 1000);
          enqueueLag.push(performance.now() - started - (first / options.rate) * 1000);
          pending.delete(enqueue);
        });
        pending.add(enqueue);
      }
      await sleep(TICK_MS);
    }
    notEnqueued = total - issued;
    await Promise.all([...pending, warmed]);
    const deadline = performance.now() + GRACE_MS;
    while (performance.now() < deadline && [...scheduled.keys()].some((id) => !leasedAt.has(id)))
      await sleep(20);
  } finally {
    for (const listener of listeners) processed += (await listener.stop()).processed;
  }
  const samples: OpenLoopSample[] = [];
  let unclaimed = 0;
  for (const [id, at] of scheduled) {
    const leased = leasedAt.get(id);
    if (leased === undefined) unclaimed++;
    else samples.push({ at, latency: leased - at });
  }
  const lastClaim = Math.max(options.seconds * 1000, ...samples.map((sample) => sample.at + sample.latency));
  return {
    samples,
    enqueued: scheduled.size,
    notEnqueued,
    unclaimed,
    completedPerSecond: (processed * 1000) / lastClaim,
    enqueueLagP99: enqueueLag.length ? percentile(enqueueLag, 0.99) : 0,
  };
}

/**
 * The warm-up action of W2 and W4, the same for every system: `ANALYZE` of the system's fresh database
 * once the load has filled its tables. A live database has the planner statistics autovacuum keeps (its
 * analyze runs within a minute of the first writes); a database created for a 10-second point would
 * otherwise be planned as empty for the whole point - which for JobEngine's cached generic plans means
 * key lookups costed as sequential scans (docs/adr/0004-job-lifecycle-and-hot-paths.md).
 */
export function analyzeAfter(databaseUrl: string): () => Promise<void> {
  return () => runSql(databaseUrl, 'bench-analyze', ['ANALYZE']);
}
