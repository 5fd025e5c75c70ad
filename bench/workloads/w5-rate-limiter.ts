import pg from 'pg';
import { migrateDatabase } from '../../layers/core/src/adapters/postgres/migrate.ts';
import { withScratchDatabase } from '../harness.ts';
import { rate, type Section } from '../report.ts';
import { spreadOf } from '../stats.ts';
import type { SuiteContext } from '../suite.ts';
import { connectWorkerDb, insertJobs, leaseJobs, TENANT } from '../systems/jobengine.ts';

/**
 * W5 rate limiter (JobEngine only: the peers have no token buckets in their claim path). Quotas per
 * (tenant, job type) in `quotas` (burst, refill_per_hour, tokens, tokens_at) are enforced by the
 * production lease statement. Workers lease continuously for a fixed time against a backlog larger than
 * the quotas admit:
 *
 * - decisions/s: lease statements per second (each decides, for one key, how many jobs to admit);
 * - admitted/theoretical: jobs leased ÷ what the buckets allow in that time (burst + refill × seconds,
 *   summed over keys) - 1.0 is exact, above 1 over-admits, below under-admits.
 *
 * The build is probed first: when a lease ignores an exhausted quota, W5 reports that instead of numbers.
 */
const HOT = { burst: 100, refillPerHour: 36_000 }; // 10 jobs/s sustained on the one hot key
const SPREAD = { burst: 5, refillPerHour: 3_600 }; // 1 job/s on each of the 1,000 keys

export async function w5RateLimiter(context: SuiteContext): Promise<Section> {
  const { profile } = context;
  const { seconds, workers, keys: keyCounts } = profile.w5;
  if (!context.systems.some((system) => system.name === 'jobengine')) {
    return {
      id: 'w5',
      title: 'W5 rate limiter',
      settings: [],
      table: [],
      notes: ['jobengine not selected.'],
    };
  }
  const enforced = await withScratchDatabase(context.adminUrl, 'jobengine_w5_probe', probeQuotas);
  if (!enforced) {
    const message = 'quotas not enforced on this build';
    console.error(`w5: ${message}`);
    context.record({ kind: 'skipped', workload: 'w5', reason: message });
    return {
      id: 'w5',
      title: 'W5 rate limiter',
      settings: [],
      table: [],
      notes: [
        `**${message}**: a lease of 3 jobs against a quota with burst 1 and an empty refill admitted more than 1, so no rate-limiter numbers are reported.`,
      ],
    };
  }
  const table = [
    '| keys | burst | refill/s per key | workers | decisions/s | admitted | theoretical | admitted/theoretical |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const keyCount of keyCounts) {
    const shape = keyCount === 1 ? HOT : SPREAD;
    const decisions: number[] = [];
    const ratios: number[] = [];
    let admitted = 0;
    let theoretical = 0;
    for (let rep = 1; rep <= profile.reps; rep++) {
      const result = await withScratchDatabase(context.adminUrl, 'jobengine_w5', (url) =>
        measure(url, keyCount, shape, seconds, workers),
      );
      decisions.push(result.decisions / result.seconds);
      ratios.push(result.admitted / result.theoretical);
      admitted = result.admitted;
      theoretical = result.theoretical;
      context.record({ kind: 'run', workload: 'w5', keys: keyCount, rep, ...shape, workers, ...result });
      context.log(
        `w5 ${keyCount} keys rep ${rep}: ${rate(result.decisions / result.seconds)} decisions/s, admitted ${result.admitted}/${result.theoretical.toFixed(0)}`,
      );
    }
    const decisionsPerSecond = spreadOf(decisions);
    const admittedRatio = spreadOf(ratios);
    context.record({ kind: 'summary', workload: 'w5', keys: keyCount, decisionsPerSecond, admittedRatio });
    table.push(
      `| ${rate(keyCount)} | ${shape.burst} | ${shape.refillPerHour / 3600} | ${workers} | ${rate(decisionsPerSecond.median)} | ${rate(admitted)} | ${rate(theoretical)} | ${admittedRatio.median.toFixed(3)} |`,
    );
  }
  return {
    id: 'w5',
    title: 'W5 rate limiter: token-bucket quotas in the lease',
    settings: [
      `${workers} workers lease for ${seconds} s (batch 10, one key per lease statement, keys picked at random) against a backlog larger than the buckets admit`,
      `1 hot key: burst ${HOT.burst}, refill ${HOT.refillPerHour / 3600}/s; 1,000 keys: burst ${SPREAD.burst}, refill ${SPREAD.refillPerHour / 3600}/s each; buckets start full`,
    ],
    table,
    notes: [
      'decisions/s and admitted/theoretical: medians of the repetitions; admitted and theoretical: last repetition.',
    ],
  };
}

async function seedQuota(
  admin: pg.Client,
  type: string,
  burst: number,
  refillPerHour: number,
  tokens: number,
) {
  // Migration 3 keeps a quota's bucket in quota_token_shards; one shard holds the whole bucket here.
  await admin.query(
    `WITH q AS (
       INSERT INTO quotas (tenant_id, id, job_type, burst, refill_per_hour, created_at, updated_at)
       VALUES ($1, gen_random_uuid(), $2, $3, $4, now(), now())
       RETURNING tenant_id, id
     )
     INSERT INTO quota_token_shards (tenant_id, quota_id, shard, burst, refill_per_hour, tokens, tokens_at)
     SELECT q.tenant_id, q.id, 0, $3, $4, $5, now() FROM q`,
    [TENANT, type, burst, refillPerHour, tokens],
  );
}

/** Leases 3 jobs of a type whose quota holds 1 token and refills 1 per hour: enforced iff at most 1 comes back. */
async function probeQuotas(databaseUrl: string): Promise<boolean> {
  await migrateDatabase(databaseUrl);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const db = await connectWorkerDb(databaseUrl);
  try {
    await seedQuota(admin, 'bench.probe', 1, 1, 1);
    await insertJobs(admin, 3, { type: 'bench.probe' });
    const leased = await leaseJobs(db, { workerId: 'probe', max: 3, types: ['bench.probe'] });
    return leased.length <= 1;
  } finally {
    await db.close();
    await admin.end();
  }
}

async function measure(
  databaseUrl: string,
  keyCount: number,
  shape: { burst: number; refillPerHour: number },
  seconds: number,
  workers: number,
) {
  await migrateDatabase(databaseUrl);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const types = Array.from({ length: keyCount }, (_, i) => (keyCount === 1 ? 'bench.hot' : `bench.k${i}`));
  const perKey = Math.ceil((shape.burst + (shape.refillPerHour / 3600) * seconds) * 1.5) + 10;
  try {
    for (const type of types) {
      await seedQuota(admin, type, shape.burst, shape.refillPerHour, shape.burst);
      await insertJobs(admin, perKey, { type });
    }
    await admin.query('VACUUM (ANALYZE)');
  } finally {
    await admin.end();
  }
  const dbs = await Promise.all(Array.from({ length: workers }, () => connectWorkerDb(databaseUrl)));
  let decisions = 0;
  let admitted = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  try {
    await Promise.all(
      dbs.map(async (db, index) => {
        while (performance.now() < deadline) {
          const type = types[Math.floor(Math.random() * types.length)]!;
          const leased = await leaseJobs(db, { workerId: `w5-${index}`, max: 10, types: [type] });
          decisions++;
          admitted += leased.length;
        }
      }),
    );
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
  }
  const elapsed = (performance.now() - started) / 1000;
  const theoretical = keyCount * (shape.burst + (shape.refillPerHour / 3600) * elapsed);
  return { seconds: elapsed, decisions, admitted, theoretical };
}
