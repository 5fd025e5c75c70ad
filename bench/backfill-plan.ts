import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrateDatabase } from '../layers/core/src/adapters/postgres/migrate.ts';
import { startLocalRuntime } from '../test/support/local-runtime.ts';

/**
 * How long one `POST /api/v1/backfills` takes to plan a large backfill, through the local runtime
 * (`local/main.ts` as a child process, as `npm start` runs it) over real HTTP:
 *
 *   npx tsx bench/backfill-plan.ts [--chunks 10000] [--reps 3]
 *
 * Each repetition plans a fresh window of `chunks` one-hour chunks on its own source: first a dry run
 * (chunk list, covered windows, estimate), then the real request, which writes every chunk's run, job,
 * history row and events and releases the first chunks in one transaction. API Gateway cuts a request at
 * 29 s. DATABASE_URL is the admin connection used to create and drop one scratch database.
 */
const { values: args } = parseArgs({
  options: { chunks: { type: 'string', default: '10000' }, reps: { type: 'string', default: '3' } },
  strict: true,
});
const chunks = Number(args.chunks);
const reps = Number(args.reps);
const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const tenant = 'bench';

const name = `jobengine_bench_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
try {
  await migrateDatabase(url.toString());
  const runtime = await startLocalRuntime(url.toString(), { TICK_INTERVAL_MS: '3600000' });
  try {
    const token = await runtime.token({ tenants: [tenant] });
    const call = async (method: string, path: string, body?: unknown) => {
      const started = performance.now();
      const response = await fetch(`${runtime.url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          'X-Stella-Tenant': tenant,
          'Content-Type': 'application/json',
          'X-Stella-Operator-Reason': 'benchmark',
          'X-Stella-Operator-Ticket': 'BENCH-1',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      const ms = performance.now() - started;
      if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text.slice(0, 500)}`);
      return { json: JSON.parse(text) as Record<string, unknown>, ms, bytes: text.length };
    };
    const rows: string[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const source = await call('POST', '/api/v1/sources', {
        name: `bench-${rep}`,
        type: 'bench.chunk',
        upstreamHost: 'bench.example',
      });
      const request = {
        sourceId: source.json.id,
        start: '2020-01-01T00:00:00Z',
        end: new Date(Date.parse('2020-01-01T00:00:00Z') + chunks * 3_600_000).toISOString(),
        chunkSeconds: 3600,
        maxConcurrency: 50,
      };
      const dry = await call('POST', '/api/v1/backfills', { ...request, dryRun: true });
      const real = await call('POST', '/api/v1/backfills', request);
      const progress = real.json.progress as { total: number; queued: number };
      if (progress.total !== chunks) throw new Error(`planned ${progress.total} chunks, not ${chunks}`);
      rows.push(
        `| ${rep + 1} | ${chunks} | ${dry.ms.toFixed(0)} (${(dry.bytes / 1e6).toFixed(1)} MB) | ${real.ms.toFixed(0)} | ${progress.queued} |`,
      );
      console.error(`rep ${rep + 1}: dry run ${dry.ms.toFixed(0)} ms, plan ${real.ms.toFixed(0)} ms`);
    }
    console.log('| rep | chunks | dry run ms (response) | plan + start ms | released |');
    console.log('|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    await runtime.stop();
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
