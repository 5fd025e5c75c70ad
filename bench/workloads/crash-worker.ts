import { setTimeout as sleep } from 'node:timers/promises';
import { completeLeased, connectWorkerDb, leaseJobs } from '../systems/jobengine.ts';

/**
 * The W6 victim: a JobEngine worker in its own process that leases 10 jobs with a short lease, prints
 * `{"leased":[ids]}`, works for HOLD_MS and completes them, in a loop, until it is killed with SIGKILL.
 * Environment: DATABASE_URL, WORKER_ID, LEASE_SECONDS, HOLD_MS.
 */
const db = await connectWorkerDb(process.env.DATABASE_URL!);
const workerId = process.env.WORKER_ID!;
const leaseSeconds = Number(process.env.LEASE_SECONDS);
const holdMs = Number(process.env.HOLD_MS);
for (;;) {
  const leased = await leaseJobs(db, { workerId, max: 10, leaseSeconds });
  if (leased.length === 0) break;
  process.stdout.write(`${JSON.stringify({ leased: leased.map((job) => job.id) })}\n`);
  await sleep(holdMs);
  await completeLeased(db, leased);
}
await db.close();
