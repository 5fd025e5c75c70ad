import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { migrateDatabase } from '../layers/core/src/adapters/postgres/migrate.ts';
import { startEmbeddedPostgres } from '../local/embedded-postgres.ts';
import { formatReport, runCampaign } from '../test/fuzz/campaign.ts';
import { KNOWN_BUGS } from '../test/fuzz/known-bugs.ts';
import { startLocalRuntime } from '../test/support/local-runtime.ts';

/**
 * `npm run fuzz -- [--runs 500] [--seed N] [--route text]`: the bad-input campaign of the test suite at
 * full size (docs/openapi.md). Starts the local runtime on a scratch database - on DATABASE_URL's server
 * when set, else on an embedded PostgreSQL - sends `--runs` hostile requests to every route of the OpenAPI
 * document, and prints the requests tried per route and every finding. Exits 1 on a finding that is not a
 * known bug (test/fuzz/known-bugs.ts).
 */
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '500' },
    seed: { type: 'string' },
    route: { type: 'string' },
  },
});
const runsPerRoute = Number(values.runs);
const seed = values.seed === undefined ? randomBytes(4).readInt32BE() : Number(values.seed);
if (!Number.isInteger(runsPerRoute) || runsPerRoute < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--seed N] [--route text]');
  process.exit(2);
}

const cleanup: (() => Promise<unknown>)[] = [];
let exitCode = 1;
try {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dataDir = await mkdtemp(join(tmpdir(), 'jobengine-fuzz-pg-'));
    cleanup.unshift(() => rm(dataDir, { recursive: true, force: true }));
    const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
    cleanup.unshift(server.stop);
    adminUrl = server.adminUrl;
    console.log('DATABASE_URL unset: using an embedded PostgreSQL server');
  }
  const name = `jobengine_fuzz_${randomBytes(4).toString('hex')}`;
  const server = new pg.Client({ connectionString: adminUrl });
  await server.connect();
  await server.query(`CREATE DATABASE ${name}`);
  cleanup.unshift(async () => {
    await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await server.end();
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  await migrateDatabase(url.toString());
  const admin = new pg.Pool({ connectionString: url.toString(), max: 2 });
  admin.on('error', () => undefined);
  cleanup.unshift(() => admin.end());
  const runtime = await startLocalRuntime(url.toString(), { TICK_INTERVAL_MS: '3600000' });
  cleanup.unshift(() => runtime.stop());

  console.log(`fuzzing ${runtime.url}: ${runsPerRoute} requests per route, seed ${seed}`);
  const report = await runCampaign(
    { baseUrl: runtime.url, admin, privateJwk: runtime.privateJwk },
    {
      runsPerRoute,
      seed,
      knownBugs: KNOWN_BUGS,
      ...(values.route ? { only: (op) => op.key.includes(values.route!) } : {}),
      log: (line) => console.log(line),
    },
  );
  console.log(`\n${formatReport(report)}`);
  for (const bug of KNOWN_BUGS) {
    if (report.known[bug.id]) console.log(`\n${bug.id}: ${bug.summary}`);
  }
  exitCode = report.findings.length > 0 ? 1 : 0;
} finally {
  for (const step of cleanup)
    await step().catch((error: Error) => console.error(`cleanup: ${error.message}`));
}
// explicitly: embedded-postgres' exit hook would otherwise end the process with 0 on beforeExit
process.exit(exitCode);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
